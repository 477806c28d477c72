// Command chartdeps writes each chart's dependency archives into its charts/
// directory and removes any other file there; with -check it writes nothing and
// fails when an archive is stale or missing, or a stray file is there.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/janovincze/philotes-deploy/internal/build/chartdeps"
)

func main() {
	check := flag.Bool("check", false, "fail when an archive is stale instead of writing it")
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "chartdeps:", err)
		os.Exit(1)
	}
}

func run(root string, check bool) error {
	files, err := chartdeps.Generate(root)
	if err != nil {
		return err
	}
	stray, err := chartdeps.Stray(root, files)
	if err != nil {
		return err
	}
	if len(stray) > 0 {
		if check {
			return fmt.Errorf("files that no chart dependency produces (run `make generate`): %v", stray)
		}
		for _, name := range stray {
			if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(name))); err != nil {
				return err
			}
			fmt.Println("removed", name)
		}
	}
	return files.Sync(root, check, "generate", os.Stdout)
}
