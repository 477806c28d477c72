package gitops_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/envsubst"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// root is the repository; every path a manifest names is relative to it.
var root = testenv.RepoRoot()

// Doors are the kustomizations users apply, one per GitOps variant.
const (
	argoCDOverlays = "gitops/argocd/overlays"
	argoCDRendered = "gitops/argocd/rendered"
	fluxGit        = "gitops/flux/git"
	fluxOCI        = "gitops/flux/oci"
	fluxHelm       = "gitops/flux/helm"
)

var (
	argoCDDoors = []string{argoCDOverlays, argoCDRendered}
	fluxDoors   = []string{fluxGit, fluxOCI, fluxHelm}
	doors       = slices.Concat(argoCDDoors, fluxDoors)
)

// repoServerComponent is added to the kustomization that installs Argo CD.
const repoServerComponent = "gitops/argocd/repo-server"

// build runs the pinned kustomize on a directory (repository-relative or absolute).
func build(t *testing.T, dir string) []*yaml.RNode {
	t.Helper()
	out := testenv.Run(t, root, testenv.Tool(t, "kustomize"), "build", dir)
	return parse(t, dir, out)
}

// composition is a kustomization made up for a test out of repository
// directories, the way Argo CD and Flux compose one: resources plus components,
// optionally renamed into a namespace.
type composition struct {
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources,omitempty"`
	Components []string `json:"components,omitempty"`
}

// buildComposition writes the composition into a temporary directory, with its
// repository-relative paths made relative to that directory (kustomize refuses
// absolute ones), and builds it.
func buildComposition(t *testing.T, c composition) []*yaml.RNode {
	t.Helper()
	dir := t.TempDir()
	relative := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			rel, err := filepath.Rel(dir, filepath.Join(root, p))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rel)
		}
		return out
	}
	c.Resources, c.Components = relative(c.Resources), relative(c.Components)
	writeKustomization(t, dir, c)
	return build(t, dir)
}

func writeKustomization(t *testing.T, dir string, kustomization any) {
	t.Helper()
	data, err := yaml.Marshal(kustomization)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func parse(t *testing.T, source string, data []byte) []*yaml.RNode {
	t.Helper()
	nodes, err := kio.FromBytes(data)
	if err != nil {
		t.Fatalf("%s: %v", source, err)
	}
	return nodes
}

func readManifests(t *testing.T, path string) []*yaml.RNode {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, path, data)
}

// rendered is what `make render` committed for an environment.
func rendered(t *testing.T, env string) []*yaml.RNode {
	t.Helper()
	path := filepath.Join(render.RenderedDir, env, render.ManifestsFile)
	if _, err := os.Stat(filepath.Join(root, path)); err != nil {
		t.Fatalf("%s is missing: run `make render`", path)
	}
	return readManifests(t, path)
}

// decode turns a manifest into the struct that names the fields a test reads.
func decode[T any](t *testing.T, node *yaml.RNode) T {
	t.Helper()
	var v T
	data, err := node.MarshalJSON()
	if err == nil {
		err = json.Unmarshal(data, &v)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", node.GetKind(), node.GetName(), err)
	}
	return v
}

// objectsOf decodes every object of a kind whose apiVersion is in group.
func objectsOf[T any](t *testing.T, nodes []*yaml.RNode, group, kind string) []T {
	t.Helper()
	var out []T
	for _, n := range nodes {
		if n.GetKind() == kind && apiGroup(n.GetApiVersion()) == group {
			out = append(out, decode[T](t, n))
		}
	}
	return out
}

// single is the one object of a kind a door must hold.
func single[T any](t *testing.T, door string, nodes []*yaml.RNode, group, kind string) T {
	t.Helper()
	objects := objectsOf[T](t, nodes, group, kind)
	if len(objects) != 1 {
		t.Fatalf("%s holds %d %s objects, want exactly one", door, len(objects), kind)
	}
	return objects[0]
}

func apiGroup(apiVersion string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		return ""
	}
	return group
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// overlayNamespaces maps each environment to the namespace its overlay sets.
func overlayNamespaces(t *testing.T) map[string]string {
	t.Helper()
	namespaces := map[string]string{}
	for _, env := range testenv.Environments(t) {
		namespace := testenv.Namespace(t, env)
		namespaces[env] = namespace
	}
	return namespaces
}

// site is where site.yaml says the deployment is published: a fork's
// URL, SSH included, is as good as the upstream one.
func site(t *testing.T) render.Site {
	t.Helper()
	s, err := render.LoadSite(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pinnedVersion is the version of a module that a tools/<tool>/go.mod requires.
func pinnedVersion(t *testing.T, tool, module string) string {
	t.Helper()
	out := testenv.Run(t, filepath.Join(root, "tools", tool), "go", "list", "-m", "-f", "{{.Version}}", module)
	return strings.TrimSpace(string(out))
}

// inRepository makes a repository-relative path absolute; an absolute path
// (a test's temporary files) stays as it is.
func inRepository(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// existsInRepository reports whether a repository-relative path exists,
// failing on a path that leaves the repository.
func existsInRepository(t *testing.T, path string) bool {
	t.Helper()
	clean := filepath.Clean(path)
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		t.Errorf("%q leaves the repository", path)
		return false
	}
	_, err := os.Stat(filepath.Join(root, clean))
	return err == nil
}

// kustomizationFiles lists every file a kustomization reads, itself included,
// following resources and components into other directories.
func kustomizationFiles(t *testing.T, dir string) []string {
	t.Helper()
	path := filepath.Join(dir, "kustomization.yaml")
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var k struct {
		Resources  []string `json:"resources"`
		Components []string `json:"components"`
		Patches    []struct {
			Path string `json:"path"`
		} `json:"patches"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	files := []string{path}
	for _, entry := range slices.Concat(k.Resources, k.Components) {
		target := filepath.Join(dir, entry)
		info, err := os.Stat(filepath.Join(root, target))
		switch {
		case err != nil:
			t.Errorf("%s names %s: %v", path, entry, err)
		case info.IsDir():
			files = append(files, kustomizationFiles(t, target)...)
		default:
			files = append(files, target)
		}
	}
	for _, patch := range k.Patches {
		if patch.Path != "" {
			files = append(files, filepath.Join(dir, patch.Path))
		}
	}
	return files
}

// substitute runs Flux's postBuild substitution on text: the envsubst engine
// kustomize-controller links (the version tools/flux-kustomize-controller
// pins), with its handling of the values, in strict mode: a variable without a
// value is an error, as nothing may reach the cluster unfilled.
func substitute(text string, values map[string]string) (string, error) {
	vars := map[string]string{}
	for name, value := range values {
		// As kustomize-controller reads inline values.
		vars[name] = strings.ReplaceAll(value, "\n", "")
	}
	return envsubst.Eval(text, func(name string) (string, bool) {
		value, ok := vars[name]
		return value, ok
	})
}

func manifestsText(t *testing.T, nodes []*yaml.RNode) string {
	t.Helper()
	text, err := kio.StringAll(nodes)
	if err != nil {
		t.Fatal(err)
	}
	return text
}
