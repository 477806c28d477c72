package images

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

func builtFromPinnedTools(t *testing.T) Images {
	t.Helper()
	for _, tool := range []string{kustomize, helm, guardrails} {
		testenv.Tool(t, "image/"+tool)
	}
	built, err := Build(BinariesDir(testenv.BinDir()), "https://example.com/philotes-deploy.git")
	if err != nil {
		t.Fatal(err)
	}
	return built
}

func TestTwoBuildsOfTheSameBinariesHaveTheSameDigests(t *testing.T) {
	first, err := builtFromPinnedTools(t).Digests()
	if err != nil {
		t.Fatal(err)
	}
	second, err := builtFromPinnedTools(t).Digests()
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("two builds give %+v and %+v", first, second)
	}
}

// TestTheLayerHoldsNothingOfTheBuildingMachine: no owner, no time but the
// fixed one, executables executable and nothing else.
func TestTheLayerHoldsNothingOfTheBuildingMachine(t *testing.T) {
	flat := mutate.Extract(builtFromPinnedTools(t).Plugin)
	defer flat.Close()
	archive := tar.NewReader(flat)
	var names []string
	for {
		header, err := archive.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, header.Name)
		if header.Uid != 0 || header.Gid != 0 || header.Uname != "" || header.Gname != "" || !header.ModTime.Equal(header.ModTime.UTC()) || header.ModTime.Year() != 2026 {
			t.Errorf("%s: owner %d:%d (%q:%q), time %v: want root without names and the fixed time", header.Name, header.Uid, header.Gid, header.Uname, header.Gname, header.ModTime)
		}
		executable := header.Mode&0o111 != 0
		if wantExecutable := header.Typeflag == tar.TypeDir || strings.HasPrefix(header.Name, "usr/local/bin/"); executable != wantExecutable {
			t.Errorf("%s has mode %o", header.Name, header.Mode)
		}
	}
	// Extract names directories without their trailing slash.
	want := []string{"home", "home/argocd", "home/argocd/cmp-server", "home/argocd/cmp-server/config", "home/argocd/cmp-server/config/plugin.yaml",
		"usr", "usr/local", "usr/local/bin", "usr/local/bin/helm", "usr/local/bin/kustomize", "usr/local/bin/philotes-guardrails"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("the plugin layer holds %v, want %v", names, want)
	}
}

// TestABinaryThatIsNotAStaticReproducibleBuildIsRefused: such a binary would
// give a digest no other machine reproduces, or not run in the image at all.
func TestABinaryThatIsNotAStaticReproducibleBuildIsRefused(t *testing.T) {
	bin := t.TempDir()
	source := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(source, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(bin, guardrails), source)
	build.Env = append(os.Environ(), "GOFLAGS=") // with the paths of this machine
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	_, err := Function(bin, "https://example.com/philotes-deploy.git")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(bin, guardrails)+" is not a static reproducible linux build") || !strings.Contains(err.Error(), "make -B") {
		t.Errorf("err = %v, want the binary named with how to rebuild it", err)
	}
	if err := os.WriteFile(filepath.Join(bin, kustomize), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Plugin(bin, "https://example.com/philotes-deploy.git"); err == nil || !strings.Contains(err.Error(), filepath.Join(bin, kustomize)) {
		t.Errorf("a script in place of kustomize: err = %v, want it named", err)
	}
}
