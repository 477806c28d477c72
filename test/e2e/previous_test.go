package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/janovincze/philotes-deploy/internal/build/render"
)

// errNoPreviousVersion means the history holds no rendered version other than
// the current one, so there is nothing to upgrade from.
var errNoPreviousVersion = errors.New("no previous rendered version")

// renderedVersion is one committed version of an environment's rendered
// directory, ready to be written out and applied with `kubectl apply -k`.
type renderedVersion struct {
	revision string            // the tag or commit it was read from
	files    map[string][]byte // by path inside the directory
}

// write puts the version's files into dir.
func (v renderedVersion) write(dir string) error {
	for name, content := range v.files {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// previousRenderedVersion finds the version of dir (slash-separated, relative
// to repo) that users upgrade from to what the working tree holds: among the
// tags reachable from HEAD, the latest release (version order) whose manifests
// differ from the current ones, since released versions are what clusters run;
// without one, the newest commit on HEAD's first-parent line that left other
// manifests behind.
func previousRenderedVersion(repo, dir string) (renderedVersion, error) {
	current, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(dir), render.ManifestsFile))
	if err != nil {
		return renderedVersion{}, err
	}
	shallow, err := git(repo, "rev-parse", "--is-shallow-repository")
	if err != nil {
		if strings.Contains(err.Error(), "not a git repository") {
			return renderedVersion{}, fmt.Errorf("%w: %s is not a git checkout, so it has no history", errNoPreviousVersion, repo)
		}
		return renderedVersion{}, err
	}
	if strings.TrimSpace(string(shallow)) == "true" {
		return renderedVersion{}, fmt.Errorf("the clone in %s is shallow, so the previous version of %s may be missing: "+
			"fetch the whole history and the tags (git fetch --unshallow --tags)", repo, dir)
	}
	manifests := "./" + path.Join(dir, render.ManifestsFile)
	tags, err := git(repo, "tag", "--merged=HEAD", "--sort=-version:refname")
	if err != nil {
		return renderedVersion{}, err
	}
	commits, err := git(repo, "log", "--first-parent", "--format=%H", "HEAD", "--", manifests)
	if err != nil {
		return renderedVersion{}, err
	}
	tagNames, commitIDs := strings.Fields(string(tags)), strings.Fields(string(commits))
	for _, revision := range append(tagNames, commitIDs...) {
		files, err := filesAt(repo, revision, dir)
		if err != nil {
			return renderedVersion{}, err
		}
		if previous, ok := files[render.ManifestsFile]; ok && !bytes.Equal(previous, current) {
			return renderedVersion{revision: revision, files: files}, nil
		}
	}
	return renderedVersion{}, fmt.Errorf("%w: none of the %d tags reachable from HEAD and the %d commits that changed %s holds other content than the working tree",
		errNoPreviousVersion, len(tagNames), len(commitIDs), manifests)
}

// filesAt reads every file under dir as revision holds it; a directory the
// revision does not have gives none.
func filesAt(repo, revision, dir string) (map[string][]byte, error) {
	listing, err := git(repo, "ls-tree", "-r", "-z", "--name-only", revision, "--", "./"+dir+"/")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, name := range strings.Split(strings.TrimSuffix(string(listing), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		content, err := git(repo, "show", revision+":./"+name)
		if err != nil {
			return nil, err
		}
		files[strings.TrimPrefix(name, dir+"/")] = content
	}
	return files, nil
}

// repositoryLocators are the variables that make git use another repository
// than the one its working directory is in, as a git hook running the tests
// would have set.
var repositoryLocators = []string{"GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=", "GIT_COMMON_DIR=", "GIT_OBJECT_DIRECTORY="}

// git runs git in the repository at dir and returns its stdout; the error
// carries stderr.
func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = slices.DeleteFunc(os.Environ(), func(variable string) bool {
		return slices.ContainsFunc(repositoryLocators, func(locator string) bool { return strings.HasPrefix(variable, locator) })
	})
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
