package gitops_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/publish"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// umbrellaChart is the chart the Helm door installs and CI packages and pushes
// for the Flux HelmRelease.
const umbrellaChart = "charts/philotes"

type chartMetadata struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Dependencies []struct {
		Name       string `json:"name"`
		Repository string `json:"repository"`
	} `json:"dependencies"`
}

// readChart reads the Chart.yaml of a chart directory, repository-relative or
// absolute.
func readChart(t *testing.T, dir string) chartMetadata {
	t.Helper()
	path := filepath.Join(inRepository(dir), "Chart.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var chart chartMetadata
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return chart
}

// packageChart runs `helm package` on a chart directory (repository-relative
// or absolute), as `make publish` does before `helm push`, and returns the archive.
func packageChart(t *testing.T, helm, chart string) string {
	t.Helper()
	archive, err := publish.PackageChart(root, helm, chart, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return archive
}

// extractChart unpacks a chart archive into a temporary directory and returns
// the chart's directory in it.
func extractChart(t *testing.T, archive string) string {
	t.Helper()
	file, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	unzipped, err := gzip.NewReader(file)
	if err != nil {
		t.Fatalf("%s: %v", archive, err)
	}
	dir, reader, chart := t.TempDir(), tar.NewReader(unzipped), ""
	for {
		header, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if header.Typeflag != tar.TypeReg {
			continue
		}
		top, _, _ := strings.Cut(header.Name, "/")
		if !filepath.IsLocal(header.Name) || (chart != "" && top != chart) {
			t.Fatalf("%s: entry %s is outside the chart directory %s/", archive, header.Name, chart)
		}
		chart = top
		path := filepath.Join(dir, header.Name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(reader)
		if err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
		if err != nil {
			t.Fatalf("%s, %s: %v", archive, header.Name, err)
		}
	}
	if chart == "" {
		t.Fatalf("%s holds no chart", archive)
	}
	return filepath.Join(dir, chart)
}

// TestThePackagedUmbrellaChartHoldsEveryDependencyWithItsTemplates: the Flux
// HelmRelease installs the package CI pushes, so a chart, template or values
// file that `helm package` leaves out (a symlink removed, a file:// path that
// no longer resolves) would be missing in that door only. Every chart reached
// through file:// dependencies from the umbrella must be in its parent's
// charts/ in the package, with every file Helm reads, byte for byte.
func TestThePackagedUmbrellaChartHoldsEveryDependencyWithItsTemplates(t *testing.T) {
	for _, cli := range testenv.HelmCLIs {
		t.Run(cli, func(t *testing.T) {
			packaged := extractChart(t, packageChart(t, testenv.Tool(t, cli), umbrellaChart))
			checkPackagedChart(t, umbrellaChart, packaged, filepath.Base(packaged))
		})
	}
}

// checkPackagedChart compares the chart at packaged (named inPackage in
// messages) with its source in the repository, then each dependency.
func checkPackagedChart(t *testing.T, source, packaged, inPackage string) {
	t.Helper()
	want, got := readChart(t, source), readChart(t, packaged)
	if got.Name != want.Name || got.Version != want.Version {
		t.Errorf("the package holds chart %s %s at %s, want %s %s from %s", got.Name, got.Version, inPackage, want.Name, want.Version, source)
	}
	for _, file := range packagedFiles(t, source) {
		wantData, err := os.ReadFile(filepath.Join(root, source, file))
		if err != nil {
			t.Fatal(err)
		}
		gotData, err := os.ReadFile(filepath.Join(packaged, file))
		switch {
		case err != nil:
			t.Errorf("the package lacks %s/%s (%s/%s)", inPackage, file, source, file)
		case !bytes.Equal(gotData, wantData):
			t.Errorf("the package's %s/%s differs from %s/%s", inPackage, file, source, file)
		}
	}
	for _, dep := range want.Dependencies {
		local, ok := strings.CutPrefix(dep.Repository, "file://")
		if !ok {
			t.Errorf("%s: dependency %s comes from %q; the charts depend on each other through file:// only", source, dep.Name, dep.Repository)
			continue
		}
		dir, entry, found := vendoredChart(t, packaged, dep.Name)
		if !found {
			t.Errorf("the package lacks dependency %s of %s in %s/charts/", dep.Name, source, inPackage)
			continue
		}
		checkPackagedChart(t, filepath.Join(source, local), dir, filepath.Join(inPackage, "charts", entry))
	}
}

// vendoredChart finds the chart named name in a packaged chart's charts/, a
// directory or an archive (Helm matches dependencies by name, not by file
// name), and returns its directory (an archive unpacked) and its entry there.
func vendoredChart(t *testing.T, packaged, name string) (dir, entry string, found bool) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(packaged, "charts"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		chart := filepath.Join(packaged, "charts", e.Name())
		if strings.HasSuffix(e.Name(), ".tgz") {
			chart = extractChart(t, chart)
		}
		if _, err := os.Stat(filepath.Join(chart, "Chart.yaml")); err == nil && readChart(t, chart).Name == name {
			return chart, e.Name(), true
		}
	}
	return "", "", false
}

// packagedFiles are the files of a chart, relative to it, that `helm package`
// copies as they are: all but Chart.yaml (which it writes anew) and charts/
// (the dependencies, compared chart by chart). A .helmignore would leave some
// out, so a chart that has one is reported until this test reads it.
func packagedFiles(t *testing.T, chart string) []string {
	t.Helper()
	dir := filepath.Join(root, chart)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		switch {
		case err != nil:
			return err
		case rel == "charts" && d.IsDir():
			return filepath.SkipDir
		case rel == ".helmignore":
			t.Errorf("%s has a .helmignore, whose rules this test does not apply: teach packagedFiles to skip what it ignores", chart)
		case d.Type().IsRegular() && rel != "Chart.yaml":
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", chart, err)
	}
	return files
}
