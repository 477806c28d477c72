package testenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Mirror is a temporary stand-in for the repository: every directory is a
// symlink into the real tree until a file in it is replaced, and then only the
// directories on that file's path become real (their files copied, their
// subdirectories linked). Overlays must sit two levels below the root
// for their relative paths, so a variant of an overlay (more sources, no
// function) needs a whole root; a mirror gives it one without writing into the
// repository, and the test's temporary directory takes it away afterwards.
type Mirror struct {
	// Source is the tree mirrored, Root the mirror.
	Source string
	Root   string
}

// NewMirror mirrors source in the test's temporary directory.
func NewMirror(tb testing.TB, source string) Mirror {
	tb.Helper()
	m := Mirror{Source: source, Root: filepath.Join(tb.TempDir(), "repo")}
	if err := ownDirectory(m.Root, m.Source); err != nil {
		tb.Fatal(err)
	}
	return m
}

// Replace writes content at rel (a slash path) in the mirror only.
func (m Mirror) Replace(tb testing.TB, rel string, content []byte) {
	tb.Helper()
	dir, source := m.Root, m.Source
	segments := strings.Split(rel, "/")
	for _, segment := range segments[:len(segments)-1] {
		dir, source = filepath.Join(dir, segment), filepath.Join(source, segment)
		if err := ownDirectory(dir, source); err != nil {
			tb.Fatal(err)
		}
	}
	target := filepath.Join(m.Root, filepath.FromSlash(rel))
	// An entry that is a link in the source is unlinked, never written through.
	if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	if err := os.WriteFile(target, content, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// ownDirectory makes dir a real directory holding copies of source's files and
// links to its subdirectories, unless it already is one.
func ownDirectory(dir, source string) error {
	info, err := os.Lstat(dir)
	switch {
	case err == nil && info.IsDir():
		return nil
	case err == nil:
		if err := os.Remove(dir); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	// A directory the source lacks (a new overlay, say) starts empty.
	entries, err := os.ReadDir(source)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, entry := range entries {
		from, to := filepath.Join(source, entry.Name()), filepath.Join(dir, entry.Name())
		if !entry.Type().IsRegular() {
			if err := os.Symlink(from, to); err != nil {
				return err
			}
			continue
		}
		// Files are copied: kustomize refuses a kustomization.yaml or values file
		// that resolves outside the kustomization's directory.
		content, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceAll writes every file whose path starts with prefix into the mirror only: the files
// `make generate` would write (envgen.Generate of the mirror), for a variant of the values.
func (m Mirror) ReplaceAll(tb testing.TB, files map[string][]byte, prefix string) {
	tb.Helper()
	for name, content := range files {
		if strings.HasPrefix(name, prefix) {
			m.Replace(tb, name, content)
		}
	}
}
