package chartdoc

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Problem is one thing wrong with a chart's values or metadata.
type Problem struct {
	File  string // slash path relative to the charts directory
	Line  int    // 0 when the problem concerns the whole file
	Chart string
	Key   string // dotted key path, empty when the problem concerns no single key
	Msg   string
}

// Problems is every problem found in one run, so that one run reports them all.
type Problems struct {
	// root is prefixed to each file name when the problems are printed.
	root string
	list []Problem
}

func (p *Problems) add(problem Problem) { p.list = append(p.list, problem) }

func (p *Problems) empty() bool { return len(p.list) == 0 }

func (p *Problems) Error() string {
	lines := make([]string, 0, len(p.list))
	for _, problem := range p.list {
		var b strings.Builder
		b.WriteString(filepath.Join(p.root, filepath.FromSlash(problem.File)))
		if problem.Line > 0 {
			fmt.Fprintf(&b, ":%d", problem.Line)
		}
		b.WriteString(": ")
		if problem.Chart != "" {
			fmt.Fprintf(&b, "chart %s: ", problem.Chart)
		}
		if problem.Key != "" {
			fmt.Fprintf(&b, "key %s: ", problem.Key)
		}
		b.WriteString(problem.Msg)
		lines = append(lines, b.String())
	}
	return strings.Join(lines, "\n")
}
