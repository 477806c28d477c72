package chartdoc

import (
	"fmt"
	"strings"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
)

// The README section between these markers is generated; the rest is prose.
const (
	tableStart = "<!-- parameters:start -->"
	tableEnd   = "<!-- parameters:end -->"
)

// row is one line of a README parameter table.
type row struct {
	key, typ, def, description string
}

func renderTable(rows []row) string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", codeCell(r.key), textCell(r.typ), codeCell(r.def), textCell(r.description))
	}
	return b.String()
}

// textCell keeps a cell from ending early at a pipe, and keeps `<release>`
// outside code spans from being read as an HTML tag and dropped.
func textCell(s string) string {
	var b strings.Builder
	fence := 0 // length of the backtick run that opened the current code span
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '`':
			run := 1
			for i+run < len(s) && s[i+run] == '`' {
				run++
			}
			if fence == 0 {
				fence = run
			} else if run == fence {
				fence = 0
			}
			b.WriteString(s[i : i+run])
			i += run - 1
		case '|':
			b.WriteString(`\|`)
		case '<':
			if fence == 0 {
				b.WriteString("&lt;")
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escapePipes keeps a code span from ending the cell early.
func escapePipes(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// codeCell wraps text in a code span fenced by more backticks than it holds.
func codeCell(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + escapePipes(s) + fence
}

// spliceTable replaces the README's generated section with the table.
func spliceTable(readme []byte, table string) ([]byte, error) {
	out, err := generated.Splice(readme, tableStart, tableEnd, "\n"+table)
	if err != nil {
		return nil, fmt.Errorf("README.md, around the parameter table: %w", err)
	}
	return out, nil
}
