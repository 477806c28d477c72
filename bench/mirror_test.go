package bench

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mirror is a temporary stand-in for the repository: every directory is a
// symlink into the real tree until a file in it is replaced, and then only the
// directories on that file's path become real (their files copied, their
// subdirectories linked). Overlays must sit two levels below the root
// for their relative paths, so a variant of an overlay (more sources, no
// function) needs a whole root; a mirror gives it one without writing into the
// repository, and the test's temporary directory takes it away afterwards.
type mirror struct {
	source string
	root   string
}

func newMirror(tb testing.TB, source string) mirror {
	tb.Helper()
	m := mirror{source: source, root: filepath.Join(tb.TempDir(), "repo")}
	if err := ownDirectory(m.root, m.source); err != nil {
		tb.Fatal(err)
	}
	return m
}

// replace writes content at rel (a slash path) in the mirror only.
func (m mirror) replace(tb testing.TB, rel string, content []byte) {
	tb.Helper()
	dir, source := m.root, m.source
	segments := strings.Split(rel, "/")
	for _, segment := range segments[:len(segments)-1] {
		dir, source = filepath.Join(dir, segment), filepath.Join(source, segment)
		if err := ownDirectory(dir, source); err != nil {
			tb.Fatal(err)
		}
	}
	target := filepath.Join(m.root, filepath.FromSlash(rel))
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
	entries, err := os.ReadDir(source)
	if err != nil {
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

func TestMirrorReplacesAFileWithoutWritingIntoTheSource(t *testing.T) {
	source := t.TempDir()
	for name, content := range map[string]string{"overlays/prod/values.yaml": "sources: 1\n", "overlays/prod/kustomization.yaml": "namespace: prod\n", "charts/chart.yaml": "name: c\n"} {
		path := filepath.Join(source, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := newMirror(t, source)
	m.replace(t, "overlays/prod/values.yaml", []byte("sources: 100\n"))

	for path, want := range map[string]string{
		filepath.Join(source, "overlays/prod/values.yaml"):        "sources: 1\n",
		filepath.Join(m.root, "overlays/prod/values.yaml"):        "sources: 100\n",
		filepath.Join(m.root, "overlays/prod/kustomization.yaml"): "namespace: prod\n",
		filepath.Join(m.root, "charts/chart.yaml"):                "name: c\n",
	} {
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", path, got, err, want)
		}
	}
	if info, err := os.Lstat(filepath.Join(m.root, "charts")); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("charts/ should stay a link into the source: %v %v", info, err)
	}
}
