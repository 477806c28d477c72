// Package generated writes and checks files that are derived from others and
// committed, so that `make generate` writes them and `make verify` fails when
// a committed copy no longer matches its source.
package generated

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Files maps each generated file, a slash path relative to a root directory,
// to its content.
type Files map[string][]byte

// Stale returns, sorted, the files under root that are missing or differ.
func (f Files) Stale(root string) ([]string, error) {
	var stale []string
	for _, name := range slices.Sorted(maps.Keys(f)) {
		current, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err != nil || !bytes.Equal(current, f[name]) {
			stale = append(stale, name)
		}
	}
	return stale, nil
}

// Write writes the stale files and returns them. Each file goes through a
// temporary file and a rename, so an interrupted run leaves no half-written file.
func (f Files) Write(root string) ([]string, error) {
	stale, err := f.Stale(root)
	if err != nil {
		return nil, err
	}
	for _, name := range stale {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, f[name], 0o644); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, err
		}
	}
	return stale, nil
}
