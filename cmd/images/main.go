// Command images builds, without Docker, the Argo CD plugin sidecar image and
// the container KRM function image out of the static binaries of -bin, and
// writes each as an OCI image layout under -out/<repository>, printing the
// digests that `make render` pins in the manifests.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/janovincze/philotes-deploy/internal/build/images"
	"github.com/janovincze/philotes-deploy/internal/build/render"
)

func main() {
	root := flag.String("root", ".", "repository root (its site.yaml names the source repository the images are labelled with)")
	bin := flag.String("bin", ".bin", "directory of the static kustomize, helm and philotes-guardrails builds")
	out := flag.String("out", ".bin/images", "directory the OCI image layouts are written under")
	flag.Parse()
	if err := run(*root, *bin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func run(root, bin, out string) error {
	site, err := render.LoadSite(root)
	if err != nil {
		return err
	}
	built, err := images.Build(images.BinariesDir(bin), site.Repository)
	if err != nil {
		return err
	}
	byRepository := built.ByRepository()
	for _, repository := range slices.Sorted(maps.Keys(byRepository)) {
		image := byRepository[repository]
		dir := filepath.Join(out, repository)
		if err := images.WriteLayout(dir, image); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		digest, err := image.Digest()
		if err != nil {
			return err
		}
		fmt.Printf("%s: %s/%s@%s\n", dir, site.Registry, repository, digest)
	}
	return nil
}
