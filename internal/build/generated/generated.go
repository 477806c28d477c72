// Package generated writes and checks files that are derived from others and
// committed, so that `make generate` writes them and `make verify` fails when
// a committed copy no longer matches its source.
package generated

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// Splice replaces what stands between the start marker, which the text must hold exactly
// once, and the first end marker after it with content, and keeps the markers and the rest:
// the generated section of a hand-written page.
func Splice(text []byte, start, end, content string) ([]byte, error) {
	if n := bytes.Count(text, []byte(start)); n != 1 {
		return nil, fmt.Errorf("the page must hold %s once, followed by %s (found %s %d times)", start, end, start, n)
	}
	from := bytes.Index(text, []byte(start)) + len(start)
	to := bytes.Index(text[from:], []byte(end))
	if to < 0 {
		if bytes.Contains(text[:from], []byte(end)) {
			return nil, fmt.Errorf("the page has %s before %s", end, start)
		}
		return nil, fmt.Errorf("the page has no %s after %s", end, start)
	}
	var out bytes.Buffer
	out.Write(text[:from])
	out.WriteString(content)
	out.Write(text[from+to:])
	return out.Bytes(), nil
}

// Sync is what a generator command does with its files: with check, nothing is written and
// the stale files are an error naming the make target that regenerates them; otherwise the
// stale files are written and listed on out.
func (f Files) Sync(root string, check bool, target string, out io.Writer) error {
	if check {
		stale, err := f.Stale(root)
		if err == nil && len(stale) > 0 {
			err = fmt.Errorf("stale generated files (run `make %s`): %v", target, stale)
		}
		return err
	}
	written, err := f.Write(root)
	for _, name := range written {
		fmt.Fprintln(out, "wrote", name)
	}
	return err
}
