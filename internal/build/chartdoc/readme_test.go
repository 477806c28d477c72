package chartdoc

import (
	"strings"
	"testing"
)

func TestSpliceTableReplacesOnlyTheMarkedSectionAndIsStable(t *testing.T) {
	readme := "# Chart\n\nIntro.\n\n<!-- parameters:start -->\n| old | table |\n<!-- parameters:end -->\n\nOutro.\n"
	table := renderTable([]row{{key: "replicas", typ: "integer", def: "1", description: "Pods."}})
	got, err := spliceTable([]byte(readme), table)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Chart\n\nIntro.\n\n<!-- parameters:start -->\n" +
		"| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n" +
		"| `replicas` | integer | `1` | Pods. |\n" +
		"<!-- parameters:end -->\n\nOutro.\n"
	if string(got) != want {
		t.Errorf("spliced README:\n%s\nwant:\n%s", got, want)
	}
	again, err := spliceTable(got, table)
	if err != nil || string(again) != want {
		t.Errorf("splicing twice changed the README: %v\n%s", err, again)
	}
}

func TestSpliceTableRejectsMissingRepeatedOrSwappedMarkers(t *testing.T) {
	tests := map[string]struct{ readme, wantErr string }{
		"no markers":       {"# Chart\n", "found <!-- parameters:start --> 0 times"},
		"repeated start":   {"<!-- parameters:start -->\n<!-- parameters:start -->\n<!-- parameters:end -->\n", "found <!-- parameters:start --> 2 times"},
		"end before start": {"<!-- parameters:end -->\n<!-- parameters:start -->\n", "has <!-- parameters:end --> before <!-- parameters:start -->"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := spliceTable([]byte(tt.readme), "")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("spliceTable error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestCodeCellsFenceBackticksAndEscapePipes(t *testing.T) {
	tests := map[string]string{
		`"a|b"`:     "`\"a\\|b\"`",
		"\"`x`\"":   "``\"`x`\"``",
		"`edge":     "`` `edge ``",
		`{"k":"v"}`: "`{\"k\":\"v\"}`",
		"a``b":      "```a``b```",
	}
	for in, want := range tests {
		if got := codeCell(in); got != want {
			t.Errorf("codeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextCellsEscapeAngleBracketsOnlyOutsideCodeSpans(t *testing.T) {
	got := textCell("Objects are named <release>-api, see `a<b` and ``c`<d``, or x|y.")
	want := "Objects are named &lt;release>-api, see `a<b` and ``c`<d``, or x\\|y."
	if got != want {
		t.Errorf("textCell = %q, want %q", got, want)
	}
}
