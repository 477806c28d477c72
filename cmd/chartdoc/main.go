// Command chartdoc writes each chart's values.schema.json and README parameter
// table from its documented values.yaml; with -check it writes nothing and
// fails listing every stale file.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/janovincze/philotes-deploy/internal/build/chartdoc"
)

func main() {
	check := flag.Bool("check", false, "fail listing the stale files instead of writing them")
	charts := flag.String("charts", "charts", "directory holding the charts")
	flag.Parse()
	if err := run(*charts, *check); err != nil {
		fmt.Fprintln(os.Stderr, "chartdoc:", err)
		os.Exit(1)
	}
}

func run(charts string, check bool) error {
	if !check {
		written, err := chartdoc.Write(charts)
		for _, name := range written {
			fmt.Println("wrote", name)
		}
		return err
	}
	stale, err := chartdoc.Check(charts)
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		return fmt.Errorf("stale generated files (run `make docs`):\n  %s", strings.Join(stale, "\n  "))
	}
	return nil
}
