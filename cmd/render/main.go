// Command render builds every overlay through the Kustomize door and writes
// rendered/<env>/ for kubectl and Flux, and the GitOps files that list the
// environments or pin the images built from the same binaries; with -check it writes nothing and fails when a committed
// rendering or list is stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/build/images"
	"github.com/janovincze/philotes-deploy/internal/build/render"
)

func main() {
	check := flag.Bool("check", false, "fail when rendered/ is stale instead of writing it")
	root := flag.String("root", ".", "repository root")
	bin := flag.String("bin", ".bin", "directory of the pinned kustomize, helm and philotes-guardrails")
	flag.Parse()
	if err := run(*root, *bin, *check); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(root, bin string, check bool) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	tools := render.Tools{Kustomize: filepath.Join(bin, "kustomize"), Helm: filepath.Join(bin, "helm"), BinDir: bin}
	envs, err := envgen.Environments(root)
	if err != nil {
		return err
	}
	var stale []string
	var rendered []render.Environment
	for _, env := range envs {
		manifests, err := tools.Overlay(root, env)
		if err != nil {
			return err
		}
		namespace, err := envgen.Namespace(root, env)
		if err != nil {
			return err
		}
		rendered = append(rendered, render.Environment{Name: env, Namespace: namespace, Manifests: manifests})
		summary, err := render.Summary(env, manifests)
		if err != nil {
			return err
		}
		fmt.Println(summary)
		switch {
		case !check:
			if err := render.WriteRendered(root, env, manifests); err != nil {
				return err
			}
		case !render.RenderedIsCurrent(root, env, manifests):
			stale = append(stale, filepath.Join(render.RenderedDir, env))
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("stale renderings (run `make render`): %v", stale)
	}
	site, err := render.LoadSite(root)
	if err != nil {
		return err
	}
	built, err := images.Build(images.BinariesDir(bin), site.Repository)
	if err != nil {
		return err
	}
	digests, err := built.Digests()
	if err != nil {
		return err
	}
	lists, err := render.GitOpsFiles(root, site, digests, rendered)
	if err != nil {
		return err
	}
	return lists.Sync(root, check, "render", os.Stdout)
}
