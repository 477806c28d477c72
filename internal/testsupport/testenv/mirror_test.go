package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

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
	m := NewMirror(t, source)
	m.Replace(t, "overlays/prod/values.yaml", []byte("sources: 100\n"))

	for path, want := range map[string]string{
		filepath.Join(source, "overlays/prod/values.yaml"):        "sources: 1\n",
		filepath.Join(m.Root, "overlays/prod/values.yaml"):        "sources: 100\n",
		filepath.Join(m.Root, "overlays/prod/kustomization.yaml"): "namespace: prod\n",
		filepath.Join(m.Root, "charts/chart.yaml"):                "name: c\n",
	} {
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", path, got, err, want)
		}
	}
	if info, err := os.Lstat(filepath.Join(m.Root, "charts")); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("charts/ should stay a link into the source: %v %v", info, err)
	}
}
