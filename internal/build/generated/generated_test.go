package generated

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteTouchesOnlyStaleFilesAndLeavesNoTemporaryFile(t *testing.T) {
	root := t.TempDir()
	files := Files{"a/current.yaml": []byte("same\n"), "a/changed.yaml": []byte("new\n"), "b/missing.yaml": []byte("x\n")}
	if err := os.MkdirAll(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"a/current.yaml": "same\n", "a/changed.yaml": "old\n"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stale, err := files.Stale(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a/changed.yaml", "b/missing.yaml"}; !slices.Equal(stale, want) {
		t.Fatalf("stale = %v, want %v", stale, want)
	}
	written, err := files.Write(root)
	if err != nil || !slices.Equal(written, stale) {
		t.Fatalf("wrote %v (%v), want %v", written, err, stale)
	}
	if stale, _ := files.Stale(root); len(stale) != 0 {
		t.Errorf("still stale after writing: %v", stale)
	}
	matches, _ := filepath.Glob(filepath.Join(root, "*", "*.tmp"))
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}
