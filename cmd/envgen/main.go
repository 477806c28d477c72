// Command envgen writes the Kustomize door's per-environment values and
// guardrail config from the umbrella chart's values files; with -check it
// writes nothing and fails when a committed file is stale.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
)

func main() {
	check := flag.Bool("check", false, "fail when a generated file is stale instead of writing it")
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "envgen:", err)
		os.Exit(1)
	}
}

func run(root string, check bool) error {
	files, err := envgen.Generate(root)
	if err != nil {
		return err
	}
	return files.Sync(root, check, "generate", os.Stdout)
}
