// Package publish pushes what the GitOps doors pull: the rendered environments as
// a Flux OCI artifact, which Flux's OCIRepository reads, built the way `flux push
// artifact` builds it but reproducibly, and the packaged umbrella chart.
package publish

import (
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/janovincze/philotes-deploy/internal/build/tarball"
	"github.com/janovincze/philotes-deploy/internal/command"
)

// Flux's media types for an artifact of plain files (fluxcd/pkg/oci).
const (
	FluxConfigMediaType  types.MediaType = "application/vnd.cncf.flux.config.v1+json"
	FluxContentMediaType types.MediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
)

// ManifestsPaths are what the Flux OCI door's Kustomizations read from the
// artifact: the rendered environments and the namespace base.
var ManifestsPaths = []string{"rendered", "base/namespace"}

// Artifact is the Flux OCI artifact of the given directories of root: one
// layer, their files in a reproducible tar.gz, and the source and revision
// annotations Flux shows. The same files give the same digest.
func Artifact(root string, paths []string, source, revision string) (v1.Image, error) {
	files := map[string][]byte{}
	for _, dir := range paths {
		err := filepath.WalkDir(filepath.Join(root, dir), func(file string, entry fs.DirEntry, err error) error {
			if err != nil || entry.IsDir() {
				return err
			}
			if !entry.Type().IsRegular() {
				return fmt.Errorf("%s: only regular files go into the artifact", file)
			}
			rel, err := filepath.Rel(root, file)
			if err != nil {
				return err
			}
			files[filepath.ToSlash(rel)], err = os.ReadFile(file)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	content, err := tarball.Write(files, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	image := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	image = mutate.ConfigMediaType(image, FluxConfigMediaType)
	image = mutate.Annotations(image, map[string]string{
		"org.opencontainers.image.source":   source,
		"org.opencontainers.image.revision": revision,
	}).(v1.Image)
	return mutate.Append(image, mutate.Addendum{Layer: static.NewLayer(content, FluxContentMediaType)})
}

// Push writes image to repository under each tag. plainHTTP is for a registry
// without TLS (a test's, or one on the same host).
func Push(image v1.Image, repository string, plainHTTP bool, tags ...string) (v1.Hash, error) {
	var options []name.Option
	if plainHTTP {
		options = append(options, name.Insecure)
	}
	digest, err := image.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, tag := range tags {
		ref, err := name.NewTag(repository+":"+tag, options...)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("tag %q: %w", tag, err)
		}
		// Credentials as docker and crane find them (docker login, credential helpers).
		if err := remote.Write(ref, image, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return v1.Hash{}, fmt.Errorf("pushing %s: %w", ref, err)
		}
	}
	return digest, nil
}

// PackageChart runs `helm package` on chart (relative to root) into dest and
// returns the one archive it wrote.
func PackageChart(root, helm, chart, dest string) (string, error) {
	if _, err := command.Run(root, nil, helm, "package", chart, "--destination", dest); err != nil {
		return "", err
	}
	archives, err := filepath.Glob(filepath.Join(dest, "*.tgz"))
	if err != nil || len(archives) != 1 {
		return "", fmt.Errorf("helm package %s wrote %v into %s, want one archive (%v)", chart, archives, dest, err)
	}
	return archives[0], nil
}

// PushChart packages chart and pushes it to oci://repository with `helm push`,
// which authenticates as `helm registry login` set up, and returns what helm
// printed.
func PushChart(root, helm, chart, repository string, plainHTTP bool) (string, error) {
	dest, err := os.MkdirTemp("", "philotes-chart")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dest)
	archive, err := PackageChart(root, helm, chart, dest)
	if err != nil {
		return "", err
	}
	args := []string{"push", archive, "oci://" + repository}
	if plainHTTP {
		args = append(args, "--plain-http")
	}
	out, err := command.Run(root, nil, helm, args...)
	return string(out), err
}
