package publish

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/tree"
)

func TestTheArtifactHoldsThePathsFilesUnderFluxsMediaTypesReproducibly(t *testing.T) {
	root := tree.New(t, map[string]string{
		"rendered/dev/manifests.yaml":     "kind: A\n",
		"rendered/dev/kustomization.yaml": "resources: [manifests.yaml]\n",
		"base/namespace/namespace.yaml":   "kind: Namespace\n",
		"charts/left/out.yaml":            "not published\n",
	})
	first, err := Artifact(root, ManifestsPaths, "https://example.com/a.git", "main@sha1:1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Artifact(root, ManifestsPaths, "https://example.com/a.git", "main@sha1:1")
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := first.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two builds of the same files gave %s and %s", d1, d2)
	}
	manifest, err := first.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if manifest.Config.MediaType != FluxConfigMediaType || len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != FluxContentMediaType {
		t.Errorf("config %s, layers %v: want Flux's media types and one layer", manifest.Config.MediaType, manifest.Layers)
	}
	if manifest.Annotations["org.opencontainers.image.revision"] != "main@sha1:1" || manifest.Annotations["org.opencontainers.image.source"] != "https://example.com/a.git" {
		t.Errorf("annotations %v", manifest.Annotations)
	}
	layers, err := first.Layers()
	if err != nil {
		t.Fatal(err)
	}
	compressed, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := gzip.NewReader(compressed)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	reader := tar.NewReader(unzipped)
	for {
		header, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, header.Name)
	}
	if want := []string{"base/namespace/namespace.yaml", "rendered/dev/kustomization.yaml", "rendered/dev/manifests.yaml"}; !reflect.DeepEqual(names, want) {
		t.Errorf("the artifact holds %v, want %v", names, want)
	}
}
