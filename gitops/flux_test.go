package gitops_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

const (
	fluxKustomizeGroup = "kustomize.toolkit.fluxcd.io"
	fluxSourceGroup    = "source.toolkit.fluxcd.io"
	fluxHelmGroup      = "helm.toolkit.fluxcd.io"
)

type reference struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

type fluxKustomization struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		SourceRef       reference   `json:"sourceRef"`
		Path            string      `json:"path"`
		TargetNamespace string      `json:"targetNamespace"`
		Prune           *bool       `json:"prune"`
		Wait            bool        `json:"wait"`
		DependsOn       []reference `json:"dependsOn"`
		HealthChecks    []reference `json:"healthChecks"`
		Patches         []fluxPatch `json:"patches"`
		PostBuild       *struct {
			Substitute map[string]string `json:"substitute"`
		} `json:"postBuild"`
	} `json:"spec"`
}

type fluxPatch struct {
	Patch  string `json:"patch"`
	Target *struct {
		Kind string `json:"kind"`
	} `json:"target"`
}

type gitRepository struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		URL    string `json:"url"`
		Ignore string `json:"ignore"`
	} `json:"spec"`
}

// helmAction is the install or upgrade section of a HelmRelease.
type helmAction struct {
	DisableWait bool `json:"disableWait"`
}

type helmRelease struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Install          helmAction `json:"install"`
		Upgrade          helmAction `json:"upgrade"`
		ReleaseName      string     `json:"releaseName"`
		TargetNamespace  string     `json:"targetNamespace"`
		StorageNamespace string     `json:"storageNamespace"`
		Chart            struct {
			Spec helmChartTemplate `json:"spec"`
		} `json:"chart"`
	} `json:"spec"`
}

// helmChartTemplate is the HelmChart a HelmRelease has source-controller build.
type helmChartTemplate struct {
	Chart       string    `json:"chart"`
	Version     string    `json:"version"`
	SourceRef   reference `json:"sourceRef"`
	ValuesFiles []string  `json:"valuesFiles"`
}

type helmRepository struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"spec"`
}

func fluxKustomizations(t *testing.T, door string) []fluxKustomization {
	t.Helper()
	return objectsOf[fluxKustomization](t, build(t, door), fluxKustomizeGroup, "Kustomization")
}

func (k fluxKustomization) prunes() bool { return k.Spec.Prune != nil && *k.Spec.Prune }

// fluxSource is the one source object a Flux door defines.
func fluxSource(t *testing.T, door string) reference {
	t.Helper()
	var sources []reference
	for _, n := range build(t, door) {
		if apiGroup(n.GetApiVersion()) == fluxSourceGroup {
			sources = append(sources, reference{Kind: n.GetKind(), Name: n.GetName()})
		}
	}
	if len(sources) != 1 {
		t.Fatalf("%s defines sources %v, want exactly one", door, sources)
	}
	return sources[0]
}

// namespaceKustomization is the dependency of app that prepares namespace.
func namespaceKustomization(t *testing.T, door string, all []fluxKustomization, app fluxKustomization, namespace string) (fluxKustomization, bool) {
	t.Helper()
	for _, dep := range app.Spec.DependsOn {
		for _, k := range all {
			if k.Metadata.Name == dep.Name && k.Spec.TargetNamespace == namespace && filepath.Clean(k.Spec.Path) == "base/namespace" {
				return k, true
			}
		}
	}
	t.Errorf("%s: Kustomization %s depends on %v, none of which applies base/namespace into %s", door, app.Metadata.Name, app.Spec.DependsOn, namespace)
	return fluxKustomization{}, false
}

func TestFluxAppliesEachEnvironmentsRenderedManifestsIntoItsReadyNamespace(t *testing.T) {
	namespaces := overlayNamespaces(t)
	for _, door := range []string{fluxGit, fluxOCI} {
		all := fluxKustomizations(t, door)
		src := fluxSource(t, door)
		for _, k := range all {
			if ref := k.Spec.SourceRef; ref.Kind != src.Kind || ref.Name != src.Name {
				t.Errorf("%s: Kustomization %s reads %s %s, want the door's %s %s", door, k.Metadata.Name, ref.Kind, ref.Name, src.Kind, src.Name)
			}
		}
		for _, env := range testenv.Environments(t) {
			want := filepath.Join(render.RenderedDir, env)
			i := slices.IndexFunc(all, func(k fluxKustomization) bool { return filepath.Clean(k.Spec.Path) == want })
			if i < 0 {
				t.Errorf("%s: no Kustomization applies %s", door, want)
				continue
			}
			app := all[i]
			if app.Spec.TargetNamespace != "" {
				t.Errorf("%s: Kustomization %s sets targetNamespace %s; the rendered manifests carry their namespaces", door, app.Metadata.Name, app.Spec.TargetNamespace)
			}
			if !app.prunes() || !app.Spec.Wait {
				t.Errorf("%s: Kustomization %s has prune %v, wait %v: both must be on", door, app.Metadata.Name, app.Spec.Prune, app.Spec.Wait)
			}
			dropsNamespace := slices.ContainsFunc(app.Spec.Patches, func(p fluxPatch) bool {
				return p.Target != nil && p.Target.Kind == "Namespace" && strings.Contains(p.Patch, "$patch: delete")
			})
			if !dropsNamespace {
				t.Errorf("%s: Kustomization %s applies the Namespace too; only its namespace Kustomization may own it", door, app.Metadata.Name)
			}
			ns, ok := namespaceKustomization(t, door, all, app, namespaces[env])
			if !ok {
				continue
			}
			if ns.prunes() {
				t.Errorf("%s: Kustomization %s prunes: deleting it would delete namespace %s and every Secret in it", door, ns.Metadata.Name, namespaces[env])
			}
			if !slices.Contains(ns.Spec.HealthChecks, reference{APIVersion: "v1", Kind: "Namespace", Name: namespaces[env]}) {
				t.Errorf("%s: Kustomization %s does not health-check Namespace %s", door, ns.Metadata.Name, namespaces[env])
			}
		}
	}
}

func TestFluxNamespaceKustomizationsApplyTheNamespaceEachEnvironmentRenders(t *testing.T) {
	namespaces := overlayNamespaces(t)
	for _, env := range testenv.Environments(t) {
		var want []*yaml.RNode
		for _, n := range rendered(t, env) {
			if n.GetKind() == "Namespace" {
				want = append(want, n)
			}
		}
		for _, k := range fluxKustomizations(t, fluxGit) {
			if k.Spec.TargetNamespace != namespaces[env] || filepath.Clean(k.Spec.Path) != "base/namespace" {
				continue
			}
			got := buildComposition(t, composition{Namespace: k.Spec.TargetNamespace, Resources: []string{k.Spec.Path}})
			if g, w := manifestsText(t, got), manifestsText(t, want); g != w {
				t.Errorf("Kustomization %s applies\n%s\nbut rendered/%s holds\n%s", k.Metadata.Name, g, env, w)
			}
		}
	}
}

// sourceKeeps reads a GitRepository's ignore rules, which must keep only named
// top-level directories ("/*" then "!/dir/"), and returns those directories.
func sourceKeeps(t *testing.T, source gitRepository) []string {
	t.Helper()
	var kept []string
	for i, line := range strings.Split(source.Spec.Ignore, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "/*" && kept == nil:
			kept = []string{}
		case strings.HasPrefix(line, "!/") && strings.HasSuffix(line, "/") && kept != nil:
			kept = append(kept, strings.Trim(line, "!/"))
		default:
			t.Fatalf("GitRepository %s, ignore line %d %q: want \"/*\" followed by \"!/<directory>/\" lines", source.Metadata.Name, i+1, line)
		}
	}
	if kept == nil {
		t.Fatalf("GitRepository %s keeps the whole repository: its ignore must start with \"/*\"", source.Metadata.Name)
	}
	return kept
}

func TestFluxSourceShipsEveryPathTheFluxObjectsRead(t *testing.T) {
	for _, door := range []string{fluxGit, fluxHelm} {
		source := single[gitRepository](t, door, build(t, door), fluxSourceGroup, "GitRepository")
		kept := sourceKeeps(t, source)
		var paths []string
		for _, k := range fluxKustomizations(t, door) {
			paths = append(paths, k.Spec.Path)
		}
		for _, p := range paths {
			top, _, _ := strings.Cut(filepath.Clean(p), "/")
			if !slices.Contains(kept, top) {
				t.Errorf("%s: a Flux object reads %s, but GitRepository %s keeps only %v", door, p, source.Metadata.Name, kept)
			}
		}
	}
}

// fluxHelmRelease is the HelmRelease one Flux Kustomization of the Helm door
// applies, its postBuild variables substituted.
type fluxHelmRelease struct {
	Env           string
	Kustomization fluxKustomization
	Release       helmRelease
	Manifest      string
}

// environmentVariable is the postBuild variable that names the environment.
const environmentVariable = "PHILOTES_ENVIRONMENT"

func fluxHelmReleases(t *testing.T) []fluxHelmRelease {
	t.Helper()
	var releases []fluxHelmRelease
	for _, k := range fluxKustomizations(t, fluxHelm) {
		if k.Spec.PostBuild == nil {
			continue
		}
		manifest, err := substitute(manifestsText(t, build(t, k.Spec.Path)), k.Spec.PostBuild.Substitute)
		if err != nil {
			t.Fatalf("%s: Kustomization %s applies %s: %v", fluxHelm, k.Metadata.Name, k.Spec.Path, err)
		}
		release := single[helmRelease](t, k.Spec.Path, parse(t, k.Spec.Path, []byte(manifest)), fluxHelmGroup, "HelmRelease")
		releases = append(releases, fluxHelmRelease{Env: k.Spec.PostBuild.Substitute[environmentVariable], Kustomization: k, Release: release, Manifest: manifest})
	}
	return releases
}

func TestFluxHelmReleasesInstallTheUmbrellaChartWithEachEnvironmentsValues(t *testing.T) {
	namespaces := overlayNamespaces(t)
	nodes := build(t, fluxHelm)
	all := fluxKustomizations(t, fluxHelm)
	git := single[gitRepository](t, fluxHelm, nodes, fluxSourceGroup, "GitRepository")
	registry := single[helmRepository](t, fluxHelm, nodes, fluxSourceGroup, "HelmRepository")
	// valuesFiles are read inside the package only when the chart comes from a
	// HelmRepository; an oci one pulls what `helm push` pushed.
	if registry.Spec.Type != "oci" || !strings.HasPrefix(registry.Spec.URL, "oci://") {
		t.Errorf("HelmRepository %s is of type %q at %q, want type oci at an oci:// URL, where `helm push` puts the packaged chart", registry.Metadata.Name, registry.Spec.Type, registry.Spec.URL)
	}
	umbrella := readChart(t, umbrellaChart)
	var envs []string
	for _, r := range fluxHelmReleases(t) {
		envs = append(envs, r.Env)
		spec, name := r.Release.Spec, r.Release.Metadata.Name
		if spec.ReleaseName != render.ReleaseName {
			t.Errorf("HelmRelease %s installs release %q, want %q like the Helm door", name, spec.ReleaseName, render.ReleaseName)
		}
		if spec.TargetNamespace != namespaces[r.Env] || spec.StorageNamespace != namespaces[r.Env] {
			t.Errorf("HelmRelease %s installs into %q and stores in %q, want %q (overlays/%s)", name, spec.TargetNamespace, spec.StorageNamespace, namespaces[r.Env], r.Env)
		}
		if ref := r.Kustomization.Spec.SourceRef; ref.Kind != "GitRepository" || ref.Name != git.Metadata.Name {
			t.Errorf("Kustomization %s reads HelmRelease %s from %s %s, want GitRepository %s", r.Kustomization.Metadata.Name, name, ref.Kind, ref.Name, git.Metadata.Name)
		}
		chart := spec.Chart.Spec
		if ref := chart.SourceRef; ref.Kind != "HelmRepository" || ref.Name != registry.Metadata.Name {
			t.Errorf("HelmRelease %s takes its chart from %s %s, want HelmRepository %s", name, ref.Kind, ref.Name, registry.Metadata.Name)
		}
		if chart.Chart != umbrella.Name || chart.Version != umbrella.Version {
			t.Errorf("HelmRelease %s installs chart %s version %q, want the umbrella chart of the same commit: %s version %s (%s)", name, chart.Chart, chart.Version, umbrella.Name, umbrella.Version, umbrellaChart)
		}
		want := []string{"values.yaml", fmt.Sprintf("values-%s.yaml", r.Env)}
		var got []string
		for _, file := range chart.ValuesFiles {
			got = append(got, filepath.Clean(file))
			if !filepath.IsLocal(file) || !existsInRepository(t, filepath.Join(umbrellaChart, file)) {
				t.Errorf("HelmRelease %s reads values file %s, which %s does not hold", name, file, umbrellaChart)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("HelmRelease %s reads values files %v, want %v: the chart's defaults, then the environment's", name, got, want)
		}
		namespaceKustomization(t, fluxHelm, all, r.Kustomization, namespaces[r.Env])
		// helm-controller's wait would hold the post-install catalog bootstrap until the
		// workers are ready, which they are not without it: the Kustomization checks them.
		if !spec.Install.DisableWait || !spec.Upgrade.DisableWait {
			t.Errorf("HelmRelease %s waits for its workloads before the post-install hooks (install.disableWait %v, upgrade.disableWait %v): the workers wait for the catalog bootstrap hook", name, spec.Install.DisableWait, spec.Upgrade.DisableWait)
		}
		checkHelmHealthChecks(t, r, name, namespaces[r.Env])
	}
	slices.Sort(envs)
	if want := slices.Sorted(slices.Values(testenv.Environments(t))); !slices.Equal(envs, want) {
		t.Errorf("%s installs HelmReleases for %v, want %v", fluxHelm, envs, want)
	}
}

// checkHelmHealthChecks: the Kustomization around a HelmRelease is Ready only when the
// HelmRelease and every workload of the environment are; health checks, since `wait`
// would make kustomize-controller ignore them.
func checkHelmHealthChecks(t *testing.T, r fluxHelmRelease, release, namespace string) {
	t.Helper()
	k := r.Kustomization
	if k.Spec.Wait {
		t.Errorf("Kustomization %s sets wait, which ignores its health checks", k.Metadata.Name)
	}
	want := []reference{{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease", Name: release, Namespace: r.Release.Metadata.Namespace}}
	for _, n := range rendered(t, r.Env) {
		if n.GetKind() == "Deployment" || n.GetKind() == "StatefulSet" {
			want = append(want, reference{APIVersion: n.GetApiVersion(), Kind: n.GetKind(), Name: n.GetName(), Namespace: namespace})
		}
	}
	if !slices.Equal(k.Spec.HealthChecks, want) {
		t.Errorf("Kustomization %s checks %v, want the HelmRelease and every workload of rendered/%s: %v", k.Metadata.Name, k.Spec.HealthChecks, r.Env, want)
	}
}

// TestFluxHelmValuesFilesHoldNoNulls: source-controller merges valuesFiles
// into the chart's defaults without Helm's rule that null deletes a key, so a
// null would reach the templates and the schema in the Flux door only. The
// package holds the chart's files unchanged (see
// TestThePackagedUmbrellaChartHoldsEveryDependencyWithItsTemplates).
func TestFluxHelmValuesFilesHoldNoNulls(t *testing.T) {
	for _, r := range fluxHelmReleases(t) {
		for _, file := range r.Release.Spec.Chart.Spec.ValuesFiles {
			file = filepath.Join(umbrellaChart, file)
			for _, key := range nullKeys(readValues(t, file), "") {
				t.Errorf("%s sets %s to null; Flux's valuesFiles merge would keep it instead of deleting it", file, key)
			}
		}
	}
}

// readValues reads a values file, repository-relative or absolute.
func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(inRepository(file))
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return values
}

func nullKeys(values map[string]any, prefix string) []string {
	var keys []string
	for key, value := range values {
		switch v := value.(type) {
		case nil:
			keys = append(keys, prefix+key)
		case map[string]any:
			keys = append(keys, nullKeys(v, prefix+key+".")...)
		}
	}
	return keys
}

// TestTheSubstitutionEngineIsTheOneThePinnedKustomizeControllerLinks: the
// static tests of the Helm door substitute with it, so its version follows
// the controller's.
func TestTheSubstitutionEngineIsTheOneThePinnedKustomizeControllerLinks(t *testing.T) {
	const module = "github.com/fluxcd/pkg/envsubst"
	used := strings.TrimSpace(string(testenv.Run(t, root, "go", "list", "-m", "-f", "{{.Version}}", module)))
	if controller := pinnedVersion(t, "flux-kustomize-controller", module); used != controller {
		t.Errorf("the tests substitute with %s %s, but the pinned kustomize-controller links %s", module, used, controller)
	}
}
