// Package render runs the two doors the same way users do: the Kustomize door
// (kustomize build of an overlay, inflating the charts and running the
// guardrail function) and the Helm door (helm template of the umbrella chart).
package render

import (
	"os"
	"path/filepath"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/command"
)

// ReleaseName is the release both doors install; names derive from it.
const ReleaseName = "philotes"

// KustomizeFlags are what an overlay needs: helm inflation, and exec KRM
// functions (without --enable-exec kustomize skips them silently; the overlays'
// validator then fails the build).
var KustomizeFlags = []string{"--enable-helm", "--enable-alpha-plugins", "--enable-exec"}

// Tools are the binaries a render runs. BinDir must hold philotes-guardrails:
// overlays name the function by its bare name, looked up on PATH.
type Tools struct {
	Kustomize string
	Helm      string
	BinDir    string
}

// Build runs kustomize build on dir (absolute, or relative to root).
func (t Tools) Build(root, dir string) ([]byte, error) {
	args := append([]string{"build"}, KustomizeFlags...)
	args = append(args, "--helm-command", t.Helm, dir)
	return t.run(root, t.Kustomize, args...)
}

// Overlay builds overlays/<env>.
func (t Tools) Overlay(root, env string) ([]byte, error) {
	return t.Build(root, filepath.Join("overlays", env))
}

// Umbrella renders the umbrella chart with the environment's values file, in
// the environment's namespace: the Helm door of that environment.
func (t Tools) Umbrella(root, env string) ([]byte, error) {
	namespace, err := envgen.Namespace(root, env)
	if err != nil {
		return nil, err
	}
	return t.run(root, t.Helm, "template", ReleaseName, "charts/philotes",
		"--namespace", namespace, "--values", "charts/philotes/values-"+env+".yaml")
}

func (t Tools) run(dir, name string, args ...string) ([]byte, error) {
	return command.Run(dir, []string{"PATH=" + t.BinDir + string(os.PathListSeparator) + os.Getenv("PATH")}, name, args...)
}
