// Package build_test keeps internal/README.md's rule: build tooling never
// depends on test support.
package build_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// buildTooling is every directory whose non-test code the build runs, relative to this
// one: it may import only itself and the standard and third-party packages.
var buildTooling = []string{".", "../command", "../../cmd"}

func TestBuildToolingNeverImportsTestSupport(t *testing.T) {
	for _, dir := range buildTooling {
		// The files are read here, not by `go list`, so that go test's cache sees them change.
		err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
			if err != nil || entry.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, spec := range file.Imports {
				imported, err := strconv.Unquote(spec.Path.Value)
				if err != nil {
					return err
				}
				if strings.Contains(imported, "/internal/testsupport/") {
					t.Errorf("%s imports %s: build tooling must not depend on test support", path, imported)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
