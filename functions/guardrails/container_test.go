package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/build/images"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/command"
	"github.com/janovincze/philotes-deploy/internal/testsupport/imagefs"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

func TestMain(m *testing.M) {
	// kustomize runs a container function with `docker run`: this binary
	// stands in for docker when started under that name.
	imagefs.ServeDockerRun()
	os.Exit(m.Run())
}

// execDeclaration is how the generated overlays declare the function.
const execDeclaration = "exec:\n        path: " + functionName + "\n"

// TestTheContainerImageGuardsEveryOverlayLikeTheExecForm builds every overlay
// with the function declared as the container docs/images.md documents,
// pinned by the digest `make render` wrote there, and without --enable-exec:
// the output must be rendered/<env>, which the exec form produced.
func TestTheContainerImageGuardsEveryOverlayLikeTheExecForm(t *testing.T) {
	kustomize, helm := testenv.Tool(t, "kustomize"), testenv.Tool(t, "helm")
	testenv.Tool(t, "image/"+functionName)
	repo := testenv.RepoRoot()
	site, err := render.LoadSite(repo)
	if err != nil {
		t.Fatal(err)
	}
	built, err := images.Build(images.BinariesDir(testenv.BinDir()), site.Repository)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := built.Function.Digest()
	if err != nil {
		t.Fatal(err)
	}
	reference := site.Registry + "/" + render.FunctionRepository + "@" + digest.String()
	guide, err := os.ReadFile(filepath.Join(repo, render.ImagesGuide))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(guide), reference) {
		t.Fatalf("%s does not give %s, the image of the pinned tools: run make render", render.ImagesGuide, reference)
	}
	root := imagefs.Unpack(t, built.Function)
	if len(root.Config.Entrypoint) != 1 || root.Config.User == "" || root.Config.User == "0" || root.Config.User == "root" {
		t.Errorf("the function image has entrypoint %v and user %q, want the function alone, run as a user other than root", root.Config.Entrypoint, root.Config.User)
	}
	docker := imagefs.InstallDocker(t, reference, root)

	mirror := testenv.NewMirror(t, repo)
	envs, err := envgen.Environments(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		declaration := filepath.ToSlash(filepath.Join("overlays", env, envgen.GuardrailsFile))
		data, err := os.ReadFile(filepath.Join(repo, declaration))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(data), execDeclaration) != 1 {
			t.Fatalf("%s does not declare the function as %q", declaration, execDeclaration)
		}
		mirror.Replace(t, declaration, []byte(strings.Replace(string(data), execDeclaration, "container:\n        image: "+reference+"\n", 1)))
		// No --enable-exec: a container function needs only the alpha plugins.
		out, err := command.Run(mirror.Root, docker, kustomize, "build", "--enable-helm", "--enable-alpha-plugins", "--helm-command", helm, filepath.Join("overlays", env))
		if err != nil {
			t.Errorf("%s: %v", env, err)
			continue
		}
		want, err := os.ReadFile(filepath.Join(repo, render.RenderedDir, env, render.ManifestsFile))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(want) {
			t.Errorf("%s through the container image differs from rendered/%s:\n%s", env, env, testenv.FirstDifference("container", string(out), "rendered", string(want)))
		}
	}
}
