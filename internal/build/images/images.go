// Package images builds, without Docker, the two images this repository
// publishes: the Argo CD Config Management Plugin sidecar, which builds the
// overlays with the pinned kustomize, Helm and philotes-guardrails exactly as
// `make render` does, and philotes-guardrails as a container KRM function.
//
// The images are reproducible: one layer of the static binaries of .bin/ in a
// tar with fixed times and owners, a config without a creation time. The same
// pins and Go toolchain give the same digest on every machine, so the manifests
// that reference an image by digest are written by `make render` and checked
// by `make verify` like every other generated file.
package images

import (
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcrtarball "github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/build/tarball"
)

// PluginName is the Config Management Plugin's name: an Application selects
// it with source.plugin.name. Argo CD runs a plugin without discovery rules
// only for the Applications that name it.
const PluginName = "philotes-overlays"

// Paths inside the images.
const (
	BinDir = "/usr/local/bin"
	// PluginConfig is where argocd-cmp-server reads its plugin definition.
	PluginConfig = "/home/argocd/cmp-server/config/plugin.yaml"
	// The plugin runs as Argo CD's user, the function as the conventional nonroot one.
	pluginUser   = "999"
	functionUser = "65532"
)

// BinariesDir is where, under the pinned tools' directory (.bin/), the
// binaries the images carry are built: for the images' platform with go.mod's
// toolchain, whatever the host (`make image-binaries`).
func BinariesDir(bin string) string { return filepath.Join(bin, "image") }

// The binaries an image carries, by the name they have in BinDir.
const (
	kustomize  = "kustomize"
	helm       = "helm"
	guardrails = "philotes-guardrails"
)

// PluginDefinition is the ConfigManagementPlugin the sidecar serves: kustomize
// build of the Application's path with the flags of `make render`. The
// overlays find helm and philotes-guardrails on PATH, as they do in `make render`.
func PluginDefinition() []byte {
	definition := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "ConfigManagementPlugin",
		"metadata":   map[string]any{"name": PluginName},
		"spec": map[string]any{
			"generate": map[string]any{
				"command": slices.Concat([]string{kustomize, "build"}, render.KustomizeFlags, []string{"."}),
			},
		},
	}
	data, err := yaml.Marshal(definition)
	if err != nil {
		panic(err) // a literal of strings always marshals
	}
	return data
}

// Plugin is the Argo CD plugin sidecar image of the binaries in bin.
func Plugin(bin, source string) (v1.Image, error) {
	files, arch, err := binaries(bin, kustomize, helm, guardrails)
	if err != nil {
		return nil, err
	}
	files[strings.TrimPrefix(PluginConfig, "/")] = tarball.File{Content: PluginDefinition(), Mode: 0o644}
	return image(files, arch, v1.Config{
		User: pluginUser,
		// The sidecar's command is Argo CD's argocd-cmp-server, mounted from the
		// repo-server; it runs the plugin's commands from PATH. Helm and
		// kustomize write only below the temporary directory, an emptyDir.
		Env:    []string{"PATH=" + BinDir, "HOME=/tmp"},
		Labels: labels(source, "Argo CD Config Management Plugin that builds Philotes overlays like make render"),
	})
}

// Function is the image of philotes-guardrails as a container KRM function:
// a ResourceList on stdin, the result on stdout.
func Function(bin, source string) (v1.Image, error) {
	files, arch, err := binaries(bin, guardrails)
	if err != nil {
		return nil, err
	}
	// kustomize runs a container function as `docker run --user nobody`, and the
	// runtime resolves that name in the image's own /etc/passwd.
	files["etc/passwd"] = tarball.File{Content: []byte(functionPasswd), Mode: 0o644}
	files["etc/group"] = tarball.File{Content: []byte(functionGroup), Mode: 0o644}
	return image(files, arch, v1.Config{
		User:       functionUser,
		Entrypoint: []string{BinDir + "/" + guardrails},
		Labels:     labels(source, "philotes-guardrails KRM function"),
	})
}

// The users a function container may run as: nobody (kustomize's default) and
// the image's own nonroot user.
const (
	functionPasswd = "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n"
	functionGroup  = "nobody:x:65534:\nnonroot:x:65532:\n"
)

func labels(source, description string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.source":      source,
		"org.opencontainers.image.description": description,
	}
}

// binaries reads the named binaries of bin (following links, as helm is one)
// and refuses any that is not a static, reproducible build for one platform.
func binaries(bin string, names ...string) (map[string]tarball.File, string, error) {
	files := map[string]tarball.File{}
	var platforms []string
	for _, name := range names {
		file := filepath.Join(bin, name)
		info, err := buildinfo.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w (build it with make)", file, err)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" || settings["vcs"] != "" || settings["GOOS"] != "linux" {
			return nil, "", fmt.Errorf("%s is not a static reproducible linux build (CGO_ENABLED=%q, -trimpath=%q, vcs=%q, GOOS=%q; want 0, true, none, linux): rebuild it with make -B %s",
				file, settings["CGO_ENABLED"], settings["-trimpath"], settings["vcs"], settings["GOOS"], file)
		}
		platforms = append(platforms, settings["GOARCH"]+" with "+info.GoVersion)
		content, err := os.ReadFile(file)
		if err != nil {
			return nil, "", err
		}
		files[strings.TrimPrefix(BinDir, "/")+"/"+name] = tarball.File{Content: content, Mode: 0o755}
	}
	slices.Sort(platforms)
	if platforms = slices.Compact(platforms); len(platforms) != 1 {
		return nil, "", fmt.Errorf("the binaries %v of %s are built for %v, want one architecture and one Go toolchain (go.mod's): rebuild them with make -B", names, bin, platforms)
	}
	arch, _, _ := strings.Cut(platforms[0], " ")
	return files, arch, nil
}

// image is one layer of files under config, with nothing that varies between
// builds: no creation time, no history.
func image(files map[string]tarball.File, arch string, config v1.Config) (v1.Image, error) {
	content, err := tarball.WriteTree(files, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	// A gzipped layer is taken as it is; its uncompressed digest, which the
	// config names, is computed from it.
	layer, err := ggcrtarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}, ggcrtarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{OS: "linux", Architecture: arch, Config: config, RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		return nil, err
	}
	return mutate.Append(base, mutate.Addendum{Layer: layer})
}

// Images are the two images of one set of binaries.
type Images struct {
	Plugin   v1.Image
	Function v1.Image
}

// Build builds both images of the binaries in bin, labelled with the source
// repository.
func Build(bin, source string) (Images, error) {
	plugin, err := Plugin(bin, source)
	if err != nil {
		return Images{}, err
	}
	function, err := Function(bin, source)
	if err != nil {
		return Images{}, err
	}
	return Images{Plugin: plugin, Function: function}, nil
}

// ByRepository names each image by its repository under the site's registry.
func (i Images) ByRepository() map[string]v1.Image {
	return map[string]v1.Image{render.PluginRepository: i.Plugin, render.FunctionRepository: i.Function}
}

// Digests are what the manifests pin the images by.
func (i Images) Digests() (render.ImageDigests, error) {
	plugin, err := i.Plugin.Digest()
	if err != nil {
		return render.ImageDigests{}, err
	}
	function, err := i.Function.Digest()
	if err != nil {
		return render.ImageDigests{}, err
	}
	return render.ImageDigests{Plugin: plugin.String(), Function: function.String()}, nil
}

// WriteLayout replaces dir with an OCI image layout holding img alone. The
// layout is written beside dir and renamed into place, so an interrupted run
// leaves the previous one.
func WriteLayout(dir string, img v1.Image) error {
	next := dir + ".next"
	if err := os.RemoveAll(next); err != nil {
		return err
	}
	path, err := layout.Write(next, empty.Index)
	if err != nil {
		return err
	}
	if err := path.AppendImage(img); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(next, dir)
}
