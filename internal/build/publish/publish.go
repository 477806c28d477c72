// Package publish pushes what the GitOps doors pull: the rendered environments as
// a Flux OCI artifact, which Flux's OCIRepository reads, built the way `flux push
// artifact` builds it but reproducibly.
package publish

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
// layer, their files in a tar.gz with fixed times, and the source and revision
// annotations Flux shows. The same files give the same digest.
func Artifact(root string, paths []string, source, revision string) (v1.Image, error) {
	var buf bytes.Buffer
	zipped := gzip.NewWriter(&buf)
	tarball := tar.NewWriter(zipped)
	var files []string
	for _, dir := range paths {
		err := filepath.WalkDir(filepath.Join(root, dir), func(file string, entry fs.DirEntry, err error) error {
			if err != nil || entry.IsDir() {
				return err
			}
			if !entry.Type().IsRegular() {
				return fmt.Errorf("%s: only regular files go into the artifact", file)
			}
			rel, err := filepath.Rel(root, file)
			files = append(files, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return nil, err
		}
		header := &tar.Header{Typeflag: tar.TypeReg, Name: path.Clean(file), Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if err := tarball.WriteHeader(header); err != nil {
			return nil, err
		}
		if _, err := tarball.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tarball.Close(); err != nil {
		return nil, err
	}
	if err := zipped.Close(); err != nil {
		return nil, err
	}
	image := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	image = mutate.ConfigMediaType(image, FluxConfigMediaType)
	image = mutate.Annotations(image, map[string]string{
		"org.opencontainers.image.source":   source,
		"org.opencontainers.image.revision": revision,
	}).(v1.Image)
	return mutate.Append(image, mutate.Addendum{Layer: static.NewLayer(buf.Bytes(), FluxContentMediaType)})
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
		if err := remote.Write(ref, image); err != nil {
			return v1.Hash{}, fmt.Errorf("pushing %s: %w", ref, err)
		}
	}
	return digest, nil
}
