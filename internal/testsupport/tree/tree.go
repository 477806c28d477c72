// Package tree lays out files for a test: the fixtures of generators that read
// a repository. It imports nothing of this repository, so that every package's
// tests may use it.
package tree

import (
	"os"
	"path/filepath"
	"testing"
)

// Write creates each file (a slash path relative to root) with its content,
// and the directories on its path.
func Write(tb testing.TB, root string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// New is Write into a new temporary directory, which it returns.
func New(tb testing.TB, files map[string]string) string {
	tb.Helper()
	root := tb.TempDir()
	Write(tb, root, files)
	return root
}
