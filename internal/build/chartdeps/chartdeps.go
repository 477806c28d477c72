// Package chartdeps packages each chart's file:// dependencies into its charts/
// directory, the way `helm dependency build` does but reproducibly, so that the
// committed archives are checked like every other generated file.
//
// Why archives and not links: Helm, kustomize and Argo CD render a chart only
// with its dependencies in charts/. Symbolic links there made every render
// print "found symbolic link in path" (once per link, with Helm 3 and 4), and
// Flux's Git source drops links, so its HelmRelease door lost the subcharts.
// `helm dependency build` itself is not recursive (a packaged subchart would
// lack its own library) and stamps the time into its archives.
package chartdeps

import (
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
	"github.com/janovincze/philotes-deploy/internal/build/tarball"
)

// ChartsDir holds every chart, relative to the repository root.
const ChartsDir = "charts"

// dependenciesDir is where Helm looks for a chart's dependencies.
const dependenciesDir = "charts"

type chartFile struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Dependencies []struct {
		Name       string `json:"name"`
		Version    string `json:"version"`
		Repository string `json:"repository"`
	} `json:"dependencies"`
}

// packager builds each chart's archive once, dependencies first.
type packager struct {
	root     string
	archives map[string][]byte // by chart directory, slash path relative to root
	building []string          // the chain being built, to name a cycle
}

// Generate returns the archive of every file:// dependency of every chart
// under charts/, at <chart>/charts/<dependency>-<version>.tgz.
func Generate(root string) (generated.Files, error) {
	charts, err := filepath.Glob(filepath.Join(root, ChartsDir, "*", "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	p := &packager{root: root, archives: map[string][]byte{}}
	files := generated.Files{}
	for _, chartYAML := range charts {
		dir := path.Join(ChartsDir, filepath.Base(filepath.Dir(chartYAML)))
		deps, err := p.dependencies(dir)
		if err != nil {
			return nil, err
		}
		for name, archive := range deps {
			files[path.Join(dir, dependenciesDir, name)] = archive
		}
	}
	return files, nil
}

// Stray lists the files in a chart's charts/ directory that Generate does not
// produce (a link, an archive of an old version): Helm would load them too.
func Stray(root string, files generated.Files) ([]string, error) {
	entries, err := filepath.Glob(filepath.Join(root, ChartsDir, "*", dependenciesDir, "*"))
	if err != nil {
		return nil, err
	}
	var stray []string
	for _, entry := range entries {
		rel, err := filepath.Rel(root, entry)
		if err != nil {
			return nil, err
		}
		if _, produced := files[filepath.ToSlash(rel)]; !produced {
			stray = append(stray, filepath.ToSlash(rel))
		}
	}
	return stray, nil
}

// dependencies returns the archives a chart's charts/ directory must hold, by file name.
func (p *packager) dependencies(dir string) (map[string][]byte, error) {
	chart, err := readChart(p.root, dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, dep := range chart.Dependencies {
		local, isLocal := strings.CutPrefix(dep.Repository, "file://")
		if !isLocal {
			return nil, fmt.Errorf("%s/Chart.yaml: dependency %s comes from %q; allowed: a file:// path to a chart in %s/", dir, dep.Name, dep.Repository, ChartsDir)
		}
		depDir := path.Clean(path.Join(dir, local))
		depChart, err := readChart(p.root, depDir)
		if err != nil {
			return nil, fmt.Errorf("%s/Chart.yaml: dependency %s: %w", dir, dep.Name, err)
		}
		if depChart.Name != dep.Name {
			return nil, fmt.Errorf("%s/Chart.yaml: dependency %s points at %s, which is chart %s", dir, dep.Name, depDir, depChart.Name)
		}
		if dep.Version != "" && dep.Version != depChart.Version {
			return nil, fmt.Errorf("%s/Chart.yaml: dependency %s wants version %s, %s/Chart.yaml is %s", dir, dep.Name, dep.Version, depDir, depChart.Version)
		}
		archive, err := p.archive(depDir)
		if err != nil {
			return nil, err
		}
		out[fmt.Sprintf("%s-%s.tgz", depChart.Name, depChart.Version)] = archive
	}
	return out, nil
}

// archive is a chart as `helm package` lays it out: every file under
// <name>/, its charts/ directory replaced by the archives of its own
// dependencies (tarball: entries sorted, times fixed).
func (p *packager) archive(dir string) ([]byte, error) {
	if archive, done := p.archives[dir]; done {
		return archive, nil
	}
	if slices.Contains(p.building, dir) {
		return nil, fmt.Errorf("charts depend on each other in a cycle: %s", strings.Join(append(p.building, dir), " -> "))
	}
	p.building = append(p.building, dir)
	defer func() { p.building = p.building[:len(p.building)-1] }()

	chart, err := readChart(p.root, dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(p.root, dir, ".helmignore")); err == nil {
		return nil, fmt.Errorf("%s/.helmignore: not supported; every file of a chart is packaged", dir)
	}
	entries := map[string][]byte{}
	err = filepath.WalkDir(filepath.Join(p.root, dir), func(file string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(filepath.Join(p.root, dir), file)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case entry.IsDir() && rel == dependenciesDir:
			return fs.SkipDir
		case entry.IsDir():
			return nil
		case !entry.Type().IsRegular():
			return fmt.Errorf("%s/%s: only regular files can be packaged (a chart holds no links)", dir, rel)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		entries[rel] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	deps, err := p.dependencies(dir)
	if err != nil {
		return nil, err
	}
	for name, archive := range deps {
		entries[path.Join(dependenciesDir, name)] = archive
	}

	packaged := make(map[string][]byte, len(entries))
	for name, data := range entries {
		packaged[path.Join(chart.Name, name)] = data
	}
	// No compression: deflate's output may change between Go releases, and the
	// archives must stay byte-identical wherever `make verify` runs.
	archive, err := tarball.Write(packaged, gzip.NoCompression)
	if err != nil {
		return nil, err
	}
	p.archives[dir] = archive
	return archive, nil
}

func readChart(root, dir string) (chartFile, error) {
	var chart chartFile
	file := path.Join(dir, "Chart.yaml")
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return chart, err
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		return chart, fmt.Errorf("%s: %w", file, err)
	}
	if chart.Name == "" || chart.Version == "" {
		return chart, fmt.Errorf("%s: name and version are required", file)
	}
	return chart, nil
}
