package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/servers"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// requireImageTools: publish packages the chart with helm and builds the
// images of kustomize, helm and philotes-guardrails.
func requireImageTools(t *testing.T) {
	t.Helper()
	testenv.Tool(t, "helm")
	for _, tool := range []string{"kustomize", "helm", "philotes-guardrails"} {
		testenv.Tool(t, "image/"+tool)
	}
}

// committedCopy is the working tree committed into a repository of its own,
// which publish requires (it names the commit and refuses uncommitted output).
func committedCopy(t *testing.T) string {
	t.Helper()
	dir := testenv.CopyRepository(t, 0o644)
	for _, args := range [][]string{
		{"init", "--quiet"},
		{"add", "--all"},
		{"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "--no-gpg-sign", "--message", "published"},
	} {
		testenv.Run(t, dir, "git", args...)
	}
	return dir
}

// TestPublishPushesWhatEveryDoorPullsAndTheImagesTheManifestsPin runs
// `make publish`'s command against a registry on 127.0.0.1 and pulls back
// each repository the doors and the Argo CD component name.
func TestPublishPushesWhatEveryDoorPullsAndTheImagesTheManifestsPin(t *testing.T) {
	requireImageTools(t)
	registry := servers.StartRegistry(t) + "/philotes"
	repo := committedCopy(t)
	if err := run(repo, registry, "main", testenv.BinDir(), true); err != nil {
		t.Fatal(err)
	}
	pinned, err := render.PinnedDigests(repo)
	if err != nil {
		t.Fatal(err)
	}
	digestOf := func(reference string) string {
		ref, err := name.ParseReference(reference, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		descriptor, err := remote.Head(ref)
		if err != nil {
			t.Fatalf("%s was not pushed: %v", reference, err)
		}
		return descriptor.Digest.String()
	}
	for repository, want := range map[string]string{render.PluginRepository: pinned.Plugin, render.FunctionRepository: pinned.Function} {
		if got := digestOf(registry + "/" + repository + ":main"); got != want {
			t.Errorf("%s:main is %s, but the manifests pin %s", repository, got, want)
		}
	}
	digestOf(registry + "/" + render.ManifestsRepository + ":main")
	chart, err := os.ReadFile(filepath.Join(repo, "charts", "philotes", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(chart, &meta); err != nil {
		t.Fatal(err)
	}
	digestOf(registry + "/" + render.ChartsRepository + "/philotes:" + meta.Version)
}

// TestPublishRefusesImagesTheManifestsDoNotPin: pushed, they would not be the
// images the repo-server component and docs/images.md name.
func TestPublishRefusesImagesTheManifestsDoNotPin(t *testing.T) {
	requireImageTools(t)
	repo := committedCopy(t)
	guide := filepath.Join(repo, filepath.FromSlash(render.ImagesGuide))
	data, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := render.PinnedDigests(repo)
	if err != nil {
		t.Fatal(err)
	}
	stale := strings.ReplaceAll(string(data), pinned.Function, "sha256:"+strings.Repeat("0", 64))
	if err := os.WriteFile(guide, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, repo, "git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "--all", "--no-gpg-sign", "--message", "stale pin")
	err = run(repo, servers.StartRegistry(t)+"/philotes", "main", testenv.BinDir(), true)
	if err == nil || !strings.Contains(err.Error(), "but the manifests pin") {
		t.Fatalf("err = %v, want publish to refuse images the manifests do not pin", err)
	}
}
