// Package chartdoc turns each chart's documented values.yaml into a closed
// values.schema.json and the parameter table of its README.md.
//
// Every key of values.yaml has a comment block directly above it that starts
// with `# -- <description>` (continued on the following `#` lines) and may
// refine the generated schema with one directive per line:
//
//	# @enum dev|staging|production    the allowed values
//	# @type string|null               the type, when the default cannot show it
//	# @schema {"minimum": 1}          JSON merged into the key's schema (RFC 7386:
//	                                  objects merge, null removes a keyword)
//
// Types come from the defaults as Helm reads them; maps are closed
// (additionalProperties: false) unless @schema describes their entries, which
// makes them free-form: entries without a `# --` comment are then data. List
// items are inferred from the first item, unless @schema gives "items".
//
// Helm hands a chart more values than its values.yaml holds, and validates all
// of them: `global`, the values of each dependency (under its alias or name,
// library charts included) and, in a subchart, its dependency condition key.
// So the schema of `global` (documented once, by the library chart whose
// values.yaml defines it) is added to every chart's schema, each dependency's
// schema is embedded under its key, and each condition key (api.enabled) is
// added to the subchart's schema. A values file may set keys of those sections
// without documenting them, but only keys their owner documents.
package chartdoc

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
)

// Files maps each generated file, a slash path relative to the charts
// directory, to its content.
type Files = generated.Files

type generator struct {
	fsys     fs.FS
	top      []*chart          // the charts directly under the charts directory
	charts   map[string]*chart // every chart read, by directory
	problems Problems

	globalOwner  *chart
	globalSchema schema

	// conditions lists, by chart directory, the keys that dependency conditions
	// of parent charts add to that chart's values.
	conditions map[string][]conditionKey
	built      map[string]*built
	building   map[string]bool
}

type conditionKey struct {
	name, parent, condition string
}

// built is a chart's generated root schema (without $schema) and README rows.
type built struct {
	schema schema
	rows   []row
}

// Generate describes every chart directly under fsys. It returns the schema of
// each application chart and the README of every chart, or every problem found.
func Generate(fsys fs.FS) (Files, error) {
	g := &generator{fsys: fsys, charts: map[string]*chart{}, conditions: map[string][]conditionKey{},
		built: map[string]*built{}, building: map[string]bool{}}
	if err := g.load(); err != nil {
		return nil, err
	}
	if !g.problems.empty() {
		return nil, &g.problems
	}
	g.collectConditions()
	g.findGlobalOwner()
	if g.globalOwner != nil {
		g.build(g.globalOwner)
	}
	files := Files{}
	for _, c := range g.top {
		g.render(c, files)
	}
	if !g.problems.empty() {
		return nil, &g.problems
	}
	return files, nil
}

func (g *generator) load() error {
	entries, err := fs.ReadDir(g.fsys, ".")
	if err != nil {
		return err
	}
	for _, entry := range entries {
		if _, err := fs.Stat(g.fsys, entry.Name()+"/"+chartFile); err != nil {
			continue
		}
		if c := g.chartAt(entry.Name()); c != nil {
			g.top = append(g.top, c)
		}
	}
	if len(g.top) == 0 && g.problems.empty() {
		return errors.New("no chart (a directory holding Chart.yaml) in the charts directory")
	}
	return nil
}

// chartAt reads the chart in dir and, recursively, its dependencies.
func (g *generator) chartAt(dir string) *chart {
	if c, ok := g.charts[dir]; ok {
		return c
	}
	c, ok := loadChart(g.fsys, dir, &g.problems)
	g.charts[dir] = c
	if !ok {
		return nil
	}
	for _, d := range c.meta.Dependencies {
		if err := resolveDependency(g.fsys, c, d); err != nil {
			g.chartProblem(c, "%v", err)
			continue
		}
		dep := g.chartAt(d.dir)
		if dep != nil && dep.meta.Name != d.Name {
			g.chartProblem(c, "dependency %s: %s holds the chart %s", d.Name, d.dir, dep.meta.Name)
		}
	}
	return c
}

func (g *generator) chartProblem(c *chart, format string, args ...any) {
	g.problems.add(Problem{File: c.file(chartFile), Chart: c.meta.Name, Msg: fmt.Sprintf(format, args...)})
}

// collectConditions finds the keys that parents' dependency conditions add to
// subcharts: Helm leaves api.enabled in the values it hands the api subchart.
func (g *generator) collectConditions() {
	for _, dir := range slices.Sorted(maps.Keys(g.charts)) {
		parent := g.charts[dir]
		if parent == nil {
			continue
		}
		for _, d := range parent.meta.Dependencies {
			for _, condition := range conditionPaths(d) {
				name, inSubchart := strings.CutPrefix(condition, d.valuesKey()+".")
				if !inSubchart || strings.Contains(name, ".") {
					continue // a key of the parent's own values, checked once the parent is built
				}
				known := slices.ContainsFunc(g.conditions[d.dir], func(k conditionKey) bool { return k.name == name })
				if !known {
					g.conditions[d.dir] = append(g.conditions[d.dir], conditionKey{name: name, parent: parent.meta.Name, condition: condition})
				}
			}
		}
	}
}

func conditionPaths(d *dependency) []string {
	var paths []string
	for _, condition := range strings.Split(d.Condition, ",") {
		if condition = strings.TrimSpace(condition); condition != "" {
			paths = append(paths, condition)
		}
	}
	return paths
}

// findGlobalOwner finds the library chart that documents `global`.
func (g *generator) findGlobalOwner() {
	var owners []string
	for _, c := range g.top {
		if !c.isLibrary() || c.values == nil {
			continue
		}
		for i := 0; i < len(c.values.Content); i += 2 {
			if c.values.Content[i].Value != "global" {
				continue
			}
			owners = append(owners, c.meta.Name)
			if g.globalOwner != nil {
				g.problems.add(Problem{File: c.file(valuesFile), Line: c.values.Content[i].Line, Chart: c.meta.Name, Key: "global",
					Msg: fmt.Sprintf("global is documented by more than one library chart (%s): keep it in one", strings.Join(owners, ", "))})
				continue
			}
			g.globalOwner = c
		}
	}
}

// build generates a chart's schema and rows after those of its dependencies.
func (g *generator) build(c *chart) *built {
	if b, ok := g.built[c.dir]; ok {
		return b
	}
	w := &valuesWalker{chart: c, problems: &g.problems, borrowed: map[string]*borrowedSection{}}
	if g.building[c.dir] {
		g.chartProblem(c, "the chart depends on itself")
		return &built{schema: rootSchema(c, schema{})}
	}
	g.building[c.dir] = true
	defer delete(g.building, c.dir)

	for _, d := range c.meta.Dependencies {
		dep := g.charts[d.dir]
		if dep == nil {
			continue // reported while loading
		}
		section := &borrowedSection{schema: cloneSchema(g.build(dep).schema), owner: dep.meta.Name, library: dep.isLibrary()}
		if section.library {
			section.schema["description"] = fmt.Sprintf("Values Helm hands to the %s library chart; no template reads them.", dep.meta.Name)
		}
		w.borrowed[d.valuesKey()] = section
	}
	if g.globalSchema != nil && c != g.globalOwner {
		global := cloneSchema(g.globalSchema)
		global["description"] = strings.TrimSpace(fmt.Sprintf("%s Documented in the %s chart.", descriptionOf(global), g.globalOwner.meta.Name))
		w.borrowed["global"] = &borrowedSection{schema: global, owner: g.globalOwner.meta.Name}
	}

	properties := schema{}
	if c.values != nil {
		properties = w.documentedKeys(c.values, "", false)
	}
	for _, key := range slices.Sorted(maps.Keys(w.borrowed)) {
		section := w.borrowed[key]
		properties[key] = section.schema
		if !section.inFile && !section.library {
			w.rows = append(w.rows, row{key: key, typ: typeLabel(section.schema), def: "{}",
				description: descriptionOf(section.schema)})
		}
	}
	g.addConditionKeys(c, w, properties)
	b := &built{schema: rootSchema(c, properties), rows: w.rows}
	g.built[c.dir] = b
	if c == g.globalOwner {
		g.globalSchema, _ = properties["global"].(map[string]any)
	}
	g.checkParentConditions(c, properties)
	return b
}

func rootSchema(c *chart, properties schema) schema {
	return schema{
		"description":          fmt.Sprintf("Values of the %s chart.", c.meta.Name),
		"type":                 "object",
		"additionalProperties": false,
		"properties":           properties,
	}
}

// addConditionKeys accepts the condition keys parents leave in this chart's values.
func (g *generator) addConditionKeys(c *chart, w *valuesWalker, properties schema) {
	for _, key := range g.conditions[c.dir] {
		if documented, ok := properties[key.name].(map[string]any); ok {
			if !slices.Equal(typesOf(documented), []string{"boolean"}) {
				w.problem(0, key.name, "the %s chart's dependency condition %s needs a boolean", key.parent, key.condition)
			}
			continue
		}
		properties[key.name] = schema{"type": "boolean", "description": fmt.Sprintf(
			"Whether the %s chart deploys this chart (its dependency condition %s); unused when this chart is installed on its own.",
			key.parent, key.condition)}
	}
}

// checkParentConditions checks the conditions that name the parent's own values.
func (g *generator) checkParentConditions(c *chart, properties schema) {
	for _, d := range c.meta.Dependencies {
		for _, condition := range conditionPaths(d) {
			s := schema{"properties": properties}
			for _, name := range strings.Split(condition, ".") {
				s, _ = propertiesOf(s)[name].(map[string]any)
			}
			if s == nil {
				g.chartProblem(c, "dependency %s: condition %s names no value of the chart", d.Name, condition)
			}
		}
	}
}

func (g *generator) render(c *chart, files Files) {
	b := g.build(c)
	if !c.isLibrary() {
		root := cloneSchema(b.schema)
		root["$schema"] = draft07
		data, err := encodeJSON(root, true)
		if err != nil {
			g.chartProblem(c, "encoding the schema: %v", err)
			return
		}
		files[c.file(schemaFile)] = data
	}
	readme, err := fs.ReadFile(g.fsys, c.file(readmeFile))
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("README.md is missing: every chart has one, with the parameter table between %s and %s", tableStart, tableEnd)
	}
	if err != nil {
		g.problems.add(Problem{File: c.file(readmeFile), Chart: c.meta.Name, Msg: err.Error()})
		return
	}
	out, err := spliceTable(readme, renderTable(b.rows))
	if err != nil {
		g.problems.add(Problem{File: c.file(readmeFile), Chart: c.meta.Name, Msg: err.Error()})
		return
	}
	files[c.file(readmeFile)] = out
}

// generateDir runs Generate on a charts directory, naming files by their path.
func generateDir(root string) (Files, error) {
	files, err := Generate(os.DirFS(root))
	var problems *Problems
	if errors.As(err, &problems) {
		problems.root = root
		return nil, problems
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	return files, nil
}

// Write regenerates the files of every chart under root and returns the ones it changed.
func Write(root string) ([]string, error) {
	files, err := generateDir(root)
	if err != nil {
		return nil, err
	}
	written, err := files.Write(root)
	return displayNames(root, written), err
}

// Check returns the generated files under root that are missing or differ from
// what the charts' values.yaml says; it writes nothing.
func Check(root string) ([]string, error) {
	files, err := generateDir(root)
	if err != nil {
		return nil, err
	}
	stale, err := files.Stale(root)
	return displayNames(root, stale), err
}

func displayNames(root string, names []string) []string {
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = filepath.Join(root, filepath.FromSlash(name))
	}
	return out
}
