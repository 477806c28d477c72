package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/render"
)

// history is a throwaway repository whose commits and tags hold versions of
// one rendered environment.
type history struct {
	t   *testing.T
	dir string
}

const historyEnvironment = "rendered/dev"

func newHistory(t *testing.T) *history {
	// The user's git configuration (signing, hooks) must not decide whether
	// the fixture's commits succeed.
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	h := &history{t: t, dir: t.TempDir()}
	h.git("init", "--quiet")
	return h
}

func (h *history) git(args ...string) string {
	h.t.Helper()
	out, err := git(h.dir, append([]string{"-c", "user.name=Philotes", "-c", "user.email=philotes@example.com"}, args...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// render writes an environment's directory into the working tree, as
// `make render` does.
func (h *history) render(manifests string) {
	h.t.Helper()
	dir := filepath.Join(h.dir, filepath.FromSlash(historyEnvironment))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	for name, content := range map[string]string{"kustomization.yaml": "resources:\n- manifests.yaml\n", render.ManifestsFile: manifests} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
}

// commit renders manifests and commits them, returning the commit.
func (h *history) commit(manifests string) string {
	h.t.Helper()
	h.render(manifests)
	h.git("add", "--all")
	h.git("commit", "--quiet", "--allow-empty", "--message=render "+manifests)
	return h.git("rev-parse", "HEAD")
}

func (h *history) wantPrevious(revision, manifests string) {
	h.t.Helper()
	previous, err := previousRenderedVersion(h.dir, historyEnvironment)
	if err != nil {
		h.t.Fatal(err)
	}
	if previous.revision != revision || string(previous.files[render.ManifestsFile]) != manifests {
		h.t.Errorf("the previous version is %s holding %q, want %s holding %q",
			previous.revision, previous.files[render.ManifestsFile], revision, manifests)
	}
	if _, ok := previous.files["kustomization.yaml"]; !ok {
		h.t.Errorf("the previous version %s lacks the kustomization.yaml that applies it; files: %v", previous.revision, previous.files)
	}
}

func TestAnUpgradeStartsFromTheNewestCommitWhoseRenderedManifestsDiffer(t *testing.T) {
	h := newHistory(t)
	first := h.commit("kind: First\n")
	second := h.commit("kind: Second\n")
	h.git("commit", "--quiet", "--allow-empty", "--message=no render")
	h.wantPrevious(first, "kind: First\n")

	h.render("kind: Third\n")
	h.wantPrevious(second, "kind: Second\n")
}

func TestAnUpgradeStartsFromTheLatestReleaseTagWhoseRenderedManifestsDiffer(t *testing.T) {
	h := newHistory(t)
	h.commit("kind: A\n")
	h.git("tag", "v1.9.0")
	h.commit("kind: B\n")
	h.git("tag", "--annotate", "--message=release", "v1.10.0")
	h.commit("kind: C\n")
	// A release of another line, not contained in HEAD's history.
	unrelated := h.git("commit-tree", "--no-gpg-sign", "-m", "other line", "HEAD^{tree}")
	h.git("tag", "v2.0.0", unrelated)
	h.render("kind: D\n")
	// Neither the newer commit C, nor v1.9.0 that sorts later as text.
	h.wantPrevious("v1.10.0", "kind: B\n")

	h.render("kind: B\n")
	h.wantPrevious("v1.9.0", "kind: A\n")
}

func TestWithoutOtherRenderedManifestsInHistoryThereIsNoUpgradeToCheck(t *testing.T) {
	h := newHistory(t)
	h.commit("kind: A\n")
	h.git("tag", "v1.0.0")
	h.git("commit", "--quiet", "--allow-empty", "--message=no render")
	if previous, err := previousRenderedVersion(h.dir, historyEnvironment); !errors.Is(err, errNoPreviousVersion) {
		t.Errorf("found %s as a previous version of manifests no commit changed (error %v)", previous.revision, err)
	}

	export := &history{t: t, dir: t.TempDir()}
	export.render("kind: A\n")
	if _, err := previousRenderedVersion(export.dir, historyEnvironment); !errors.Is(err, errNoPreviousVersion) {
		t.Errorf("a directory outside git gave %v, want that it has no previous version", err)
	}
}

func TestAShallowCloneIsRefusedRatherThanTakenForAHistoryWithoutAPreviousVersion(t *testing.T) {
	h := newHistory(t)
	h.commit("kind: A\n")
	h.commit("kind: B\n")
	clone := filepath.Join(t.TempDir(), "clone")
	h.git("clone", "--quiet", "--depth=1", "file://"+h.dir, clone)
	_, err := previousRenderedVersion(clone, historyEnvironment)
	if err == nil || errors.Is(err, errNoPreviousVersion) || !strings.Contains(err.Error(), "shallow") {
		t.Errorf("a clone holding only the newest commit gave %v, want an error that the clone is shallow", err)
	}
}
