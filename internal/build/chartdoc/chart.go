package chartdoc

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// chartMeta holds the Chart.yaml fields the generator reads.
type chartMeta struct {
	Name         string        `yaml:"name"`
	Type         string        `yaml:"type"`
	Dependencies []*dependency `yaml:"dependencies"`
}

type dependency struct {
	Name       string `yaml:"name"`
	Alias      string `yaml:"alias"`
	Condition  string `yaml:"condition"`
	Repository string `yaml:"repository"`
	// dir is the dependency's chart directory, a slash path relative to the charts directory.
	dir string
}

// valuesKey is the key of the parent's values that Helm hands to the dependency.
func (d *dependency) valuesKey() string {
	if d.Alias != "" {
		return d.Alias
	}
	return d.Name
}

type chart struct {
	dir    string // slash path relative to the charts directory
	meta   chartMeta
	values *yaml.Node // the top-level mapping of values.yaml; nil when the chart has none
}

func (c *chart) isLibrary() bool { return c.meta.Type == "library" }

func (c *chart) file(name string) string { return path.Join(c.dir, name) }

const (
	chartFile  = "Chart.yaml"
	valuesFile = "values.yaml"
	schemaFile = "values.schema.json"
	readmeFile = "README.md"
)

// loadChart reads Chart.yaml and values.yaml of the chart in dir.
func loadChart(fsys fs.FS, dir string, problems *Problems) (*chart, bool) {
	c := &chart{dir: dir}
	raw, err := fs.ReadFile(fsys, c.file(chartFile))
	if err != nil {
		problems.add(Problem{File: c.file(chartFile), Msg: err.Error()})
		return nil, false
	}
	if err := yaml.Unmarshal(raw, &c.meta); err != nil {
		problems.add(Problem{File: c.file(chartFile), Msg: err.Error()})
		return nil, false
	}
	if c.meta.Name == "" {
		problems.add(Problem{File: c.file(chartFile), Msg: "the chart has no name"})
		return nil, false
	}
	raw, err = fs.ReadFile(fsys, c.file(valuesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return c, true
	}
	if err != nil {
		problems.add(Problem{File: c.file(valuesFile), Chart: c.meta.Name, Msg: err.Error()})
		return nil, false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		problems.add(Problem{File: c.file(valuesFile), Chart: c.meta.Name, Msg: err.Error()})
		return nil, false
	}
	if len(doc.Content) == 0 {
		return c, true // an empty values.yaml
	}
	if root := doc.Content[0]; root.Kind == yaml.MappingNode {
		c.values = root
		return c, true
	}
	problems.add(Problem{File: c.file(valuesFile), Chart: c.meta.Name, Line: doc.Content[0].Line,
		Msg: "values must be a map of keys"})
	return nil, false
}

// resolveDependency finds the directory of a dependency: its file:// repository,
// or the copy Helm would use under the parent's charts/ directory.
func resolveDependency(fsys fs.FS, parent *chart, d *dependency) error {
	if local, ok := strings.CutPrefix(d.Repository, "file://"); ok {
		dir := path.Join(parent.dir, local)
		if !fs.ValidPath(dir) || strings.HasPrefix(dir, "../") {
			return fmt.Errorf("dependency %s: repository %s leaves the charts directory", d.Name, d.Repository)
		}
		d.dir = dir
		return nil
	}
	vendored := path.Join(parent.dir, "charts", d.Name)
	if _, err := fs.Stat(fsys, path.Join(vendored, chartFile)); err != nil {
		return fmt.Errorf("dependency %s: repository %q is not a file:// chart and %s/ holds no copy, so its values cannot be described",
			d.Name, d.Repository, vendored)
	}
	d.dir = vendored
	return nil
}
