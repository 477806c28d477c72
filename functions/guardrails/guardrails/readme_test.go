package guardrails

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
)

const readmePath = "../README.md"

// embedPattern finds the example blocks of README.md: a marker naming a file relative to the
// README, the file's content in a fence, an end marker.
var embedPattern = regexp.MustCompile("<!-- embed (\\S+) -->")

const embedEnd = "<!-- /embed -->"

func fenced(path string, content []byte) string {
	language := "text"
	if filepath.Ext(path) == ".yaml" {
		language = "yaml"
	}
	text := string(content)
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return "```" + language + "\n" + text + "```\n"
}

func TestReadmeExamplesAreCopiesOfTheTestdataFiles(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	blocks := embedPattern.FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md embeds no example")
	}
	updated := readme
	for _, block := range blocks {
		path := string(block[1])
		content, err := os.ReadFile(filepath.Join(filepath.Dir(readmePath), path))
		if err != nil {
			t.Errorf("README.md embeds %s: %v", path, err)
			continue
		}
		spliced, err := generated.Splice(updated, string(block[0]), embedEnd, "\n"+fenced(path, content))
		if err != nil {
			t.Fatalf("README.md's example %s: %v", path, err)
		}
		if !bytes.Equal(spliced, updated) && !*update {
			t.Errorf("README.md's copy of %s is stale: run `go test ./functions/guardrails/guardrails -update`", path)
		}
		updated = spliced
	}
	if *update {
		if err := os.WriteFile(readmePath, updated, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadmeDocumentsEveryConfigFieldAnnotationAndBehaviour(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, path := range fieldPaths(reflect.TypeFor[PolicySpec]()) {
		documented = append(documented, "`spec."+path+"`")
	}
	for _, annotation := range append(knownAnnotations, GeneratedByLabel) {
		documented = append(documented, "`"+annotation+"`")
	}
	cases, err := filepath.Glob(filepath.Join("testdata", "*", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		documented = append(documented, filepath.Base(filepath.Dir(c)))
	}
	for _, want := range documented {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not mention %s", want)
		}
	}
}

// --help is the README's contract, from the README itself; a README without those sections
// cannot build the command.
func TestHelpIsTheReadmesContract(t *testing.T) {
	help := newTestCommand(t).Long
	for _, want := range []string{"## Annotations (the contract)", "guardrails.philotes.io/max-unavailable", "## Configuration: GuardrailPolicy", "spec.keda.pollingInterval"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	for _, unwanted := range []string{"## Examples", "## Environment policy"} {
		if strings.Contains(help, unwanted) {
			t.Errorf("--help holds %q, beyond the contract", unwanted)
		}
	}
	if _, err := Help("# philotes-guardrails\n"); err == nil || !strings.Contains(err.Error(), `no section "## Annotations (the contract)"`) {
		t.Errorf("a README without the contract: %v", err)
	}
}
