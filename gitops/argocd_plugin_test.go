package gitops_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/images"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/imagefs"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// pluginDefinition is the part of a ConfigManagementPlugin this test reads.
type pluginDefinition struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version  string         `json:"version"`
		Discover map[string]any `json:"discover"`
		Init     *struct{}      `json:"init"`
		Generate struct {
			Command []string `json:"command"`
			Args    []string `json:"args"`
		} `json:"generate"`
	} `json:"spec"`
}

// builtImages builds the images from the pinned tools of .bin/, as `make
// images` does, and requires the committed manifests to pin exactly them.
func builtImages(t *testing.T) images.Images {
	t.Helper()
	for _, tool := range []string{"kustomize", "helm", "philotes-guardrails"} {
		testenv.Tool(t, "image/"+tool)
	}
	built, err := images.Build(images.BinariesDir(testenv.BinDir()), site(t).Repository)
	if err != nil {
		t.Fatal(err)
	}
	return built
}

// TestArgoCDPluginImageBuildsEveryOverlayLikeMakeRender runs the plugin as
// its sidecar would: argocd-cmp-server reads the definition from the image,
// receives the repository's files (their modes reset), and runs the generate
// command in the Application's path with the sidecar's environment; what it
// prints are the Application's manifests. They must be rendered/<env>.
func TestArgoCDPluginImageBuildsEveryOverlayLikeMakeRender(t *testing.T) {
	built := builtImages(t)
	digest, err := built.Plugin.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if want := site(t).Registry + "/" + render.PluginRepository + "@" + digest.String(); pluginSidecar(t).Image != want {
		t.Fatalf("the repo-server component runs %s, but the pinned tools build %s: run make render", pluginSidecar(t).Image, want)
	}
	root := imagefs.Unpack(t, built.Plugin)
	if root.Config.User != "999" || len(root.Config.Entrypoint) != 0 {
		t.Errorf("the plugin image runs as user %q with entrypoint %v, want Argo CD's user 999 and none (the sidecar's command is argocd-cmp-server)", root.Config.User, root.Config.Entrypoint)
	}
	data, err := os.ReadFile(root.Path(images.PluginConfig))
	if err != nil {
		t.Fatalf("argocd-cmp-server reads its plugin at %s: %v", images.PluginConfig, err)
	}
	var plugin pluginDefinition
	if err := yaml.UnmarshalStrict(data, &plugin); err != nil {
		t.Fatalf("%s: %v\n%s", images.PluginConfig, err, data)
	}
	if plugin.APIVersion != "argoproj.io/v1alpha1" || plugin.Kind != "ConfigManagementPlugin" || plugin.Spec.Version != "" || plugin.Spec.Discover != nil || plugin.Spec.Init != nil {
		t.Errorf("the plugin definition is not an unversioned ConfigManagementPlugin without discovery or init (Applications select it by its bare name):\n%s", data)
	}
	command := append(append([]string{}, plugin.Spec.Generate.Command...), plugin.Spec.Generate.Args...)
	if len(command) == 0 {
		t.Fatalf("the plugin has no generate command:\n%s", data)
	}

	// Argo CD sends the repository's files with their modes reset.
	repository := testenv.CopyRepository(t, 0o600)
	for _, app := range argoCDApplications(t, argoCDOverlays) {
		env := app.Element["env"]
		if app.Spec.Source.Plugin == nil || app.Spec.Source.Plugin.Name != plugin.Metadata.Name {
			t.Errorf("Application %s does not select the image's plugin %s", app.Name, plugin.Metadata.Name)
			continue
		}
		generate := exec.Command(root.LookPath(t, command[0]), command[1:]...)
		generate.Dir = filepath.Join(repository, filepath.FromSlash(app.Spec.Source.Path))
		generate.Env = root.Env(
			// Argo CD's build environment; the plugin reads none of it.
			"ARGOCD_APP_NAME="+app.Name,
			"ARGOCD_APP_NAMESPACE="+app.Spec.Destination.Namespace,
			"ARGOCD_APP_SOURCE_PATH="+app.Spec.Source.Path,
			"ARGOCD_APP_SOURCE_REPO_URL="+app.Spec.Source.RepoURL,
			"ARGOCD_APP_SOURCE_TARGET_REVISION="+app.Spec.Source.TargetRevision,
		)
		var stdout, stderr bytes.Buffer
		generate.Stdout, generate.Stderr = &stdout, &stderr
		if err := generate.Run(); err != nil {
			t.Errorf("Application %s: the plugin's generate command %v failed: %v\n%s", app.Name, command, err, stderr.String())
			continue
		}
		checkSameAsRendered(t, "the plugin image, Application "+app.Name, env, stdout.Bytes())
	}
}

// checkSameAsRendered compares manifests with what `make render` committed.
func checkSameAsRendered(t *testing.T, producer, env string, manifests []byte) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(root, render.RenderedDir, env, render.ManifestsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(manifests, want) {
		t.Errorf("%s differs from rendered/%s:\n%s", producer, env, testenv.FirstDifference(producer, string(manifests), "rendered/"+env, string(want)))
	}
}
