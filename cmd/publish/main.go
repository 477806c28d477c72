// Command publish pushes what the GitOps doors pull, to the registry of
// site.yaml (or -registry): the rendered environments as a Flux OCI artifact
// under <registry>/manifests, the Argo CD plugin sidecar image under
// <registry>/argocd-plugin and the container KRM function under
// <registry>/guardrails, each tagged with the commit and moved to -tag, and the
// packaged umbrella chart under <registry>/charts. The images are pushed only
// when they are the ones the committed manifests pin by digest. Credentials
// come from the usual places: docker's config for the artifact and the images,
// `helm registry login` for the chart.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/janovincze/philotes-deploy/internal/build/images"
	"github.com/janovincze/philotes-deploy/internal/build/publish"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/command"
)

func main() {
	root := flag.String("root", ".", "repository root")
	registry := flag.String("registry", "", "OCI repository prefix, host[:port]/path (default: site.yaml's registry)")
	tag := flag.String("tag", "main", "tag the OCIRepository follows, moved to this commit's artifact")
	bin := flag.String("bin", ".bin", "directory of the pinned tools: the Helm CLI that packages and pushes the chart, the binaries of the images")
	plainHTTP := flag.Bool("plain-http", false, "talk to a registry without TLS (default: site.yaml's insecureRegistry)")
	flag.Parse()
	if err := run(*root, *registry, *tag, *bin, *plainHTTP); err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		os.Exit(1)
	}
}

func run(root, registry, tag, bin string, plainHTTP bool) error {
	site, err := render.LoadSite(root)
	if err != nil {
		return err
	}
	plainHTTP = plainHTTP || site.InsecureRegistry
	if registry != "" {
		site.Registry = registry
		if err := site.Validate(); err != nil {
			return fmt.Errorf("-registry: %w", err)
		}
	}
	commit, err := command.Run(root, nil, "git", "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	revision := strings.TrimSpace(string(commit))
	if dirty, err := command.Run(root, nil, "git", "status", "--porcelain", "--", render.RenderedDir, "base", "charts", render.ArgoCDRepoServer, render.ImagesGuide); err != nil || len(dirty) > 0 {
		return fmt.Errorf("the rendered manifests, bases, charts or pinned images differ from commit %s: commit them first, the artifact names that commit (%v)\n%s", revision[:12], err, dirty)
	}

	built, err := images.Build(images.BinariesDir(bin), site.Repository)
	if err != nil {
		return err
	}
	if err := requirePinned(root, built); err != nil {
		return err
	}

	artifact, err := publish.Artifact(root, publish.ManifestsPaths, site.Repository, tag+"@sha1:"+revision)
	if err != nil {
		return err
	}
	manifests := site.Registry + "/" + render.ManifestsRepository
	digest, err := publish.Push(artifact, manifests, plainHTTP, revision[:12], tag)
	if err != nil {
		return err
	}
	fmt.Printf("pushed %s:%s and :%s (%s)\n", manifests, revision[:12], tag, digest)

	byRepository := built.ByRepository()
	for _, repository := range slices.Sorted(maps.Keys(byRepository)) {
		target := site.Registry + "/" + repository
		digest, err := publish.Push(byRepository[repository], target, plainHTTP, revision[:12], tag)
		if err != nil {
			return err
		}
		fmt.Printf("pushed %s:%s and :%s (%s)\n", target, revision[:12], tag, digest)
	}

	helm, err := filepath.Abs(filepath.Join(bin, "helm"))
	if err != nil {
		return err
	}
	out, err := publish.PushChart(root, helm, "charts/philotes", site.Registry+"/"+render.ChartsRepository, plainHTTP)
	if err != nil {
		return err
	}
	fmt.Print(string(out))
	return nil
}

// requirePinned refuses images other than those the committed manifests pin:
// they were built with another Go toolchain or other pins than the commit's,
// and the pinned digests would then name nothing in the registry.
func requirePinned(root string, built images.Images) error {
	digests, err := built.Digests()
	if err != nil {
		return err
	}
	pinned, err := render.PinnedDigests(root)
	if err != nil {
		return err
	}
	if digests != pinned {
		return fmt.Errorf("these binaries build the images %+v, but the manifests pin %+v: build them with the Go toolchain of go.mod (make -B tools guardrails), or run make render and commit", digests, pinned)
	}
	return nil
}
