package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const twoObjects = `apiVersion: v1
kind: Namespace
metadata:
  name: philotes-dev
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: philotes-api
  namespace: philotes-dev
`

func TestWriteRenderedReplacesTheDirectoryAndLeavesNoScratchBehind(t *testing.T) {
	root := t.TempDir()
	stale := filepath.Join(root, RenderedDir, "dev", "leftover.yaml")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteRendered(root, "dev", []byte(twoObjects)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a file of the previous rendering survived: %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(root, RenderedDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "dev" {
		t.Errorf("rendered/ holds %v, want only dev", entries)
	}
	if !RenderedIsCurrent(root, "dev", []byte(twoObjects)) {
		t.Error("the rendering just written is not current")
	}
	if RenderedIsCurrent(root, "dev", []byte(twoObjects+"---\n")) {
		t.Error("a different rendering counts as current")
	}
	if RenderedIsCurrent(root, "staging", []byte(twoObjects)) {
		t.Error("a missing environment counts as current")
	}
}

func TestRenderedKustomizationListsTheManifests(t *testing.T) {
	k := string(RenderedKustomization("production"))
	if !strings.Contains(k, "overlays/production") || !strings.Contains(k, "- "+ManifestsFile+"\n") {
		t.Errorf("kustomization does not name its overlay and manifests:\n%s", k)
	}
}

func TestSummaryCountsKindsAndEveryGuardrailKind(t *testing.T) {
	summary, err := Summary("dev", []byte(twoObjects))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 objects", "Namespace 1", "PodDisruptionBudget 1", "NetworkPolicy 0", "ScaledObject 0"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if _, err := Summary("dev", []byte("kind: [")); err == nil {
		t.Error("unparsable manifests gave a summary")
	}
}
