// Package envgen derives the Kustomize door's per-environment inputs from the
// umbrella chart's values files. An environment setting is written once, in
// charts/philotes/values-<env>.yaml: the Helm door reads it directly, and the
// Kustomize door reads the files generated here (and checked by `make verify`).
package envgen

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
)

const (
	umbrellaDir = "charts/philotes"
	libraryDir  = "charts/philotes-common"
	// GuardrailsFile is the function config each overlay hands to philotes-guardrails.
	GuardrailsFile = "guardrails.yaml"
	// valuesPrefix and valuesSuffix frame an environment's name in its values file's name.
	valuesPrefix = "values-"
	valuesSuffix = ".yaml"
)

// profiles orders environments for promotion: every message, document and
// test lists them this way (then by name within a profile).
var profiles = []string{"development", "staging", "production"}

type dependency struct {
	Name       string `json:"name"`
	Alias      string `json:"alias"`
	Condition  string `json:"condition"`
	Repository string `json:"repository"`
}

// valuesKey is where the umbrella keeps this dependency's values.
func (d dependency) valuesKey() string {
	if d.Alias != "" {
		return d.Alias
	}
	return d.Name
}

// environment is one charts/philotes/values-<name>.yaml over the umbrella's defaults.
type environment struct {
	name      string
	file      string // relative to the repository root
	merged    Values
	profile   string
	namespace string
}

// Environments lists the environments the repository defines, one per
// charts/philotes/values-<name>.yaml, in promotion order. It is the one list:
// the overlays, rendered/, the tests and the benchmarks all read it.
func Environments(root string) ([]string, error) {
	envs, err := loadEnvironments(root)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(envs))
	for i, env := range envs {
		names[i] = env.name
	}
	return names, nil
}

func loadEnvironments(root string) ([]environment, error) {
	pattern := filepath.Join(root, umbrellaDir, valuesPrefix+"*"+valuesSuffix)
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	defaults, err := readValues(filepath.Join(root, umbrellaDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	library, err := readValues(filepath.Join(root, libraryDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	libraryGlobal := Values{"global": asMap(library["global"])}
	var envs []environment
	for _, full := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(full), valuesPrefix), valuesSuffix)
		file := path.Join(umbrellaDir, filepath.Base(full))
		envValues, err := readValues(full)
		if err != nil {
			return nil, err
		}
		env := environment{name: name, file: file, merged: coalesce(defaults, envValues)}
		global := coalesce(libraryGlobal, Values{"global": asMap(env.merged["global"])})
		if declared, _ := lookup(global, "global", "environment"); declared != name {
			return nil, fmt.Errorf("%s: global.environment is %v, want %q (the file's name and the value must agree)", file, declared, name)
		}
		env.profile, _ = lookupString(global, "global", "profile")
		if !slices.Contains(profiles, env.profile) {
			return nil, fmt.Errorf("%s: global.profile %q is not allowed; allowed values: %s", file, env.profile, strings.Join(profiles, ", "))
		}
		env.namespace, _ = lookupString(global, "global", "namespace")
		if env.namespace == "" {
			return nil, fmt.Errorf("%s: global.namespace is required: the Kustomize door deploys the environment into it", file)
		}
		envs = append(envs, env)
	}
	if len(envs) == 0 {
		return nil, fmt.Errorf("no environment: %s matches no file", path.Join(umbrellaDir, valuesPrefix+"<environment>"+valuesSuffix))
	}
	slices.SortStableFunc(envs, func(a, b environment) int {
		if byProfile := slices.Index(profiles, a.profile) - slices.Index(profiles, b.profile); byProfile != 0 {
			return byProfile
		}
		return strings.Compare(a.name, b.name)
	})
	return envs, nil
}

// Generate returns every generated file of every environment.
func Generate(root string) (generated.Files, error) {
	deps, err := umbrellaDependencies(root)
	if err != nil {
		return nil, err
	}
	library, err := readValues(filepath.Join(root, libraryDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	envs, err := loadEnvironments(root)
	if err != nil {
		return nil, err
	}
	files := generated.Files{}
	for _, env := range envs {
		envFiles, err := environmentFiles(root, env, deps, library)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", env.name, err)
		}
		maps.Copy(files, envFiles)
	}
	return files, nil
}

func environmentFiles(root string, env environment, deps []dependency, library Values) (generated.Files, error) {
	global, _ := env.merged["global"].(map[string]any)
	overlay := path.Join("overlays", env.name)
	header := fmt.Sprintf("# Generated by `make generate` from %s/values.yaml and %s.\n# Do not edit: change those and regenerate.\n", umbrellaDir, env.file)
	files := generated.Files{}
	var bases []string
	for _, dep := range deps {
		key := dep.valuesKey()
		if !dependencyEnabled(dep, env.merged) {
			continue
		}
		bases = append(bases, key)
		section, _ := env.merged[key].(map[string]any)
		values := coalesce(section, Values{"enabled": nil})
		// The function builds every guardrail object from the workloads'
		// annotations: the charts render none, so each has one producer.
		values["global"] = coalesce(global, Values{"guardrailObjects": "function"})
		content, err := marshal(header, values)
		if err != nil {
			return nil, err
		}
		files[path.Join(overlay, "values-"+key+".yaml")] = content
	}
	guardrails, err := guardrailPolicy(root, env, deps, library)
	if err != nil {
		return nil, err
	}
	for name, content := range map[string]any{
		GuardrailsFile:                            guardrails,
		"kustomization.yaml":                      overlayKustomization(env),
		path.Join("charts", "kustomization.yaml"): chartsKustomization(env.namespace, bases),
	} {
		data, err := marshal(header, content)
		if err != nil {
			return nil, err
		}
		files[path.Join(overlay, name)] = data
	}
	return files, nil
}

// overlayKustomization is overlays/<env>/kustomization.yaml: the namespace, the
// charts, the guardrail function and the check that it ran.
func overlayKustomization(env environment) Values {
	return Values{
		"apiVersion":   "kustomize.config.k8s.io/v1beta1",
		"kind":         "Kustomization",
		"namespace":    env.namespace,
		"resources":    []any{"../../base/namespace"},
		"generators":   []any{"charts"},
		"transformers": []any{GuardrailsFile},
		"validators":   []any{"../../base/guardrails"},
	}
}

// chartsKustomization lists the generator objects of the enabled services and
// hands them the overlay's namespace: kustomize passes a namespace to helm only
// through the object's own field, and since 5.8 its namespace transformer leaves
// helm output alone, so this is how every chart object lands in the namespace.
func chartsKustomization(namespace string, bases []string) Values {
	var resources []any
	for _, b := range bases {
		resources = append(resources, "../../../base/"+b)
	}
	return Values{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  resources,
		"patches": []any{Values{
			"target": Values{"kind": "HelmChartInflationGenerator"},
			"patch":  fmt.Sprintf("- op: add\n  path: /namespace\n  value: %s\n", namespace),
		}},
	}
}

// Namespace is the namespace the environment deploys into (global.namespace).
func Namespace(root, name string) (string, error) {
	env, err := find(root, name)
	return env.namespace, err
}

// Profile is what the environment is to Philotes (global.profile): development,
// staging or production.
func Profile(root, name string) (string, error) {
	env, err := find(root, name)
	return env.profile, err
}

func find(root, name string) (environment, error) {
	envs, err := loadEnvironments(root)
	if err != nil {
		return environment{}, err
	}
	for _, env := range envs {
		if env.name == name {
			return env, nil
		}
	}
	return environment{}, fmt.Errorf("no environment %q: %s does not exist", name, path.Join(umbrellaDir, valuesPrefix+name+valuesSuffix))
}

func dependencyEnabled(dep dependency, merged Values) bool {
	if dep.Condition == "" {
		return true
	}
	for _, condition := range strings.Split(dep.Condition, ",") {
		if value, ok := lookup(merged, strings.Split(strings.TrimSpace(condition), ".")...); ok {
			enabled, isBool := value.(bool)
			return isBool && enabled
		}
	}
	return true
}

func umbrellaDependencies(root string) ([]dependency, error) {
	path := filepath.Join(root, umbrellaDir, "Chart.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var chart struct {
		Dependencies []dependency `json:"dependencies"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Library charts render nothing: no base inflates them.
	var services []dependency
	for _, dep := range chart.Dependencies {
		library, err := isLibrary(root, dep)
		if err != nil {
			return nil, err
		}
		if !library {
			services = append(services, dep)
		}
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("%s: no service chart among the dependencies", path)
	}
	return services, nil
}

func isLibrary(root string, dep dependency) (bool, error) {
	path := filepath.Join(root, chartDir(dep), "Chart.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var chart struct {
		Type string `json:"type"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return chart.Type == "library", nil
}

// chartDir is where the dependency's chart lives, from its file:// repository.
func chartDir(dep dependency) string {
	dir := strings.TrimPrefix(dep.Repository, "file://")
	if dir == dep.Repository || dir == "" {
		dir = "../" + dep.Name
	}
	return filepath.Join(umbrellaDir, dir)
}

func marshal(header string, values any) ([]byte, error) {
	body, err := yaml.Marshal(values)
	if err != nil {
		return nil, err
	}
	return append([]byte(header), body...), nil
}
