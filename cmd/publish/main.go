// Command publish pushes what the Flux OCI and HelmRelease doors pull, to the
// registry of site.yaml (or -registry): the rendered environments as a Flux OCI
// artifact under <registry>/manifests, tagged with the commit and moved to
// -tag, and the packaged umbrella chart under <registry>/charts. Credentials
// come from the usual places: docker's config for the artifact, `helm registry
// login` for the chart.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/janovincze/philotes-deploy/internal/build/publish"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/command"
)

func main() {
	root := flag.String("root", ".", "repository root")
	registry := flag.String("registry", "", "OCI repository prefix, host[:port]/path (default: site.yaml's registry)")
	tag := flag.String("tag", "main", "tag the OCIRepository follows, moved to this commit's artifact")
	helm := flag.String("helm", ".bin/helm", "the Helm CLI that packages and pushes the chart")
	plainHTTP := flag.Bool("plain-http", false, "talk to a registry without TLS (default: site.yaml's insecureRegistry)")
	flag.Parse()
	if err := run(*root, *registry, *tag, *helm, *plainHTTP); err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		os.Exit(1)
	}
}

func run(root, registry, tag, helm string, plainHTTP bool) error {
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
	if dirty, err := command.Run(root, nil, "git", "status", "--porcelain", "--", render.RenderedDir, "base", "charts"); err != nil || len(dirty) > 0 {
		return fmt.Errorf("the rendered manifests, bases or charts differ from commit %s: commit them first, the artifact names that commit (%v)\n%s", revision[:12], err, dirty)
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

	helm, err = filepath.Abs(helm)
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
