package charts_test

import (
	"path/filepath"
	"slices"
	"testing"
)

type chartMetadata struct {
	Name         string `yaml:"name"`
	Type         string `yaml:"type"`
	Version      string `yaml:"version"`
	AppVersion   string `yaml:"appVersion"`
	KubeVersion  string `yaml:"kubeVersion"`
	Dependencies []struct {
		Name       string `yaml:"name"`
		Repository string `yaml:"repository"`
	} `yaml:"dependencies"`
}

// A chart's default image is the release its appVersion names, so the version label and
// the running image agree.
func TestDefaultImageTagsArePinnedToTheAppVersion(t *testing.T) {
	for _, chart := range slices.Concat(serviceCharts, dataServiceCharts) {
		var meta chartMetadata
		readYAML(t, filepath.Join(chart, "Chart.yaml"), &meta)
		var values struct {
			Image struct {
				Tag string `yaml:"tag"`
			} `yaml:"image"`
		}
		readYAML(t, filepath.Join(chart, "values.yaml"), &values)
		if values.Image.Tag == "" || values.Image.Tag != meta.AppVersion {
			t.Errorf("%s: image.tag %q, appVersion %q: want the same pinned version", chart, values.Image.Tag, meta.AppVersion)
		}
	}
}

// Dependencies come from the sibling chart (file://), packaged into charts/ by `make generate`
// (internal/build/chartdeps checks the archives are current), so `helm template` and kustomize need
// no `helm dependency build`.
func TestEveryDependencyIsTheSiblingChart(t *testing.T) {
	for _, chart := range append([]string{"philotes-common"}, installableCharts...) {
		var meta chartMetadata
		readYAML(t, filepath.Join(chart, "Chart.yaml"), &meta)
		if meta.KubeVersion != chartKubeVersion(chart) || meta.Version == "" || meta.AppVersion == "" {
			t.Errorf("%s: version %q, appVersion %q, kubeVersion %q", chart, meta.Version, meta.AppVersion, meta.KubeVersion)
		}
		for _, dep := range meta.Dependencies {
			if dep.Repository != "file://../"+dep.Name {
				t.Errorf("%s: dependency %s comes from %s, want file://../%s", chart, dep.Name, dep.Repository, dep.Name)
			}
		}
	}
}
