// Tests of the Kustomize door: every overlay built the way users build it, and
// compared with the Helm door of the same environment.
package overlays_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// renders caches each rendering: several tests read the same environment.
var renders sync.Map

type rendering struct {
	once sync.Once
	out  []byte
	err  error
}

func cached(key string, build func() ([]byte, error)) ([]byte, error) {
	r, _ := renders.LoadOrStore(key, &rendering{})
	entry := r.(*rendering)
	entry.once.Do(func() { entry.out, entry.err = build() })
	return entry.out, entry.err
}

func tools(t *testing.T, helm string) render.Tools {
	t.Helper()
	testenv.Tool(t, "philotes-guardrails")
	return render.Tools{Kustomize: testenv.Tool(t, "kustomize"), Helm: testenv.Tool(t, helm), BinDir: testenv.BinDir()}
}

// kustomizeDoor is overlays/<env> built with the given Helm major.
func kustomizeDoor(t *testing.T, env, helm string) manifests.Objects {
	t.Helper()
	tl := tools(t, helm)
	out, err := cached("kustomize/"+env+"/"+helm, func() ([]byte, error) { return tl.Overlay(testenv.RepoRoot(), env) })
	if err != nil {
		t.Fatalf("overlays/%s with %s: %v", env, helm, err)
	}
	return parse(t, out)
}

// helmDoor is the umbrella chart rendered with values-<env>.yaml.
func helmDoor(t *testing.T, env string) manifests.Objects {
	t.Helper()
	tl := tools(t, "helm")
	out, err := cached("helm/"+env, func() ([]byte, error) { return tl.Umbrella(testenv.RepoRoot(), env) })
	if err != nil {
		t.Fatalf("helm door, %s: %v", env, err)
	}
	return parse(t, out)
}

func parse(t *testing.T, out []byte) manifests.Objects {
	t.Helper()
	objects, err := manifests.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	return objects
}

func forEachEnvironment(t *testing.T, test func(t *testing.T, env string)) {
	for _, env := range testenv.Environments(t) {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			test(t, env)
		})
	}
}

func id(n *yaml.RNode) string {
	return fmt.Sprintf("%s/%s/%s", n.GetKind(), n.GetNamespace(), n.GetName())
}

func TestEveryOverlayBuildsIdenticallyWithHelm3AndHelm4(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, env string) {
		helm3, helm4 := kustomizeDoor(t, env, "helm3"), kustomizeDoor(t, env, "helm4")
		if a, b := mustString(t, helm3), mustString(t, helm4); a != b {
			t.Fatalf("overlays/%s differs between Helm 3 and Helm 4:\n%s", env, testenv.FirstDifference("Helm 3", a, "Helm 4", b))
		}
	})
}

func TestRenderedManifestsAreTheOverlaysOutputByteForByte(t *testing.T) {
	root := testenv.RepoRoot()
	forEachEnvironment(t, func(t *testing.T, env string) {
		tl := tools(t, "helm")
		out, err := cached("kustomize/"+env+"/helm", func() ([]byte, error) { return tl.Overlay(root, env) })
		if err != nil {
			t.Fatal(err)
		}
		// A second build must give the same bytes, or rendered/ could never be checked.
		again, err := tl.Overlay(root, env)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(again) {
			t.Fatalf("two builds of overlays/%s differ:\n%s", env, testenv.FirstDifference("first build", string(out), "second build", string(again)))
		}
		if !render.RenderedIsCurrent(root, env, out) {
			t.Fatalf("rendered/%s is stale: run `make render`", env)
		}
	})
}

func TestEveryNamespacedObjectIsInTheOverlaysNamespace(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, env string) {
		namespace := testenv.Namespace(t, env)
		for _, n := range kustomizeDoor(t, env, "helm") {
			if !manifests.Namespaced(n.GetKind()) {
				continue
			}
			if n.GetNamespace() != namespace {
				t.Errorf("%s: namespace %q, want %q", id(n), n.GetNamespace(), namespace)
			}
		}
	})
}

func TestABuildWithoutEnableExecFailsInsteadOfDroppingTheGuardrails(t *testing.T) {
	tl := tools(t, "helm")
	out, err := testenv.RunErr(testenv.RepoRoot(), tl.Kustomize, "build", "--enable-helm", "--enable-alpha-plugins",
		"--helm-command", tl.Helm, filepath.Join("overlays", "production"))
	if err == nil {
		t.Fatalf("kustomize build without --enable-exec succeeded; %d bytes of unguarded output", len(out))
	}
	if !strings.Contains(err.Error(), "guardrails.philotes.io~1enforced") {
		t.Fatalf("the failure does not name the missing guardrail mark: %v", err)
	}
}

// The validator asks every guarded workload for the function's mark, whichever
// services an environment runs: with the API disabled it still passes a build with
// the function and fails one without.
func TestTheValidatorNeedsNoParticularService(t *testing.T) {
	tl := tools(t, "helm")
	m := testenv.NewMirror(t, testenv.RepoRoot())
	staging, err := os.ReadFile(filepath.Join(m.Source, "charts", "philotes", "values-staging.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withoutAPI := strings.Replace(string(staging), "\napi:\n", "\napi:\n  enabled: false\n", 1)
	if withoutAPI == string(staging) {
		t.Fatal("charts/philotes/values-staging.yaml has no api section to disable")
	}
	m.Replace(t, "charts/philotes/values-staging.yaml", []byte(withoutAPI))
	files, err := envgen.Generate(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	m.ReplaceAll(t, files, "overlays/staging/")
	out, err := tl.Overlay(m.Root, "staging")
	if err != nil {
		t.Fatalf("staging without the API: %v", err)
	}
	objects := parse(t, out)
	if objects.Find("Deployment", "philotes-api") != nil || len(objects.OfKind("PodDisruptionBudget")) == 0 {
		t.Fatalf("the build without the API is not what the test needs: %v", objects.IDs())
	}
	_, err = testenv.RunErr(m.Root, tl.Kustomize, "build", "--enable-helm", "--enable-alpha-plugins",
		"--helm-command", tl.Helm, filepath.Join("overlays", "staging"))
	if err == nil || !strings.Contains(err.Error(), "guardrails.philotes.io~1enforced") {
		t.Fatalf("without --enable-exec and without the API the build must still fail on the mark: %v", err)
	}
}

// Provenance the Kustomize door adds on purpose; everything else must match.
const (
	enforcedAnnotation = "guardrails.philotes.io/enforced"
	generatedByLabel   = "guardrails.philotes.io/generated-by"
)

func TestBothDoorsRenderTheSameObjects(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, env string) {
		requireTheSameObjects(t, kustomizeDoor(t, env, "helm"), helmDoor(t, env))
	})
}

// requireTheSameObjects compares an environment's two doors object by object.
func requireTheSameObjects(t *testing.T, kustomizeObjects, helmObjects manifests.Objects) {
	t.Helper()
	fromKustomize := comparable(t, kustomizeObjects)
	fromHelm := comparable(t, helmObjects)
	// The overlay also creates the namespace, with its Pod Security labels;
	// the Helm door installs into a namespace that exists.
	for key := range fromKustomize {
		if strings.HasPrefix(key, "Namespace/") {
			delete(fromKustomize, key)
		}
	}
	for _, key := range sortedKeys(fromHelm) {
		if _, ok := fromKustomize[key]; !ok {
			t.Errorf("%s: only the Helm door renders it", key)
		}
	}
	for _, key := range sortedKeys(fromKustomize) {
		helmObject, ok := fromHelm[key]
		if !ok {
			t.Errorf("%s: only the Kustomize door renders it", key)
			continue
		}
		if helmObject != fromKustomize[key] {
			t.Errorf("%s differs between the doors:\n%s", key, testenv.FirstDifference("Helm door", helmObject, "Kustomize door", fromKustomize[key]))
		}
	}
}

func TestAFourthEnvironmentIsAValuesFileAndMakeGenerate(t *testing.T) {
	tl := tools(t, "helm")
	m := testenv.NewMirror(t, testenv.RepoRoot())
	staging, err := os.ReadFile(filepath.Join(m.Source, "charts", "philotes", "values-staging.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	qa := strings.NewReplacer("environment: staging", "environment: qa", "namespace: philotes-staging", "namespace: philotes-qa").Replace(string(staging))
	m.Replace(t, "charts/philotes/values-qa.yaml", []byte(qa))
	files, err := envgen.Generate(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	m.ReplaceAll(t, files, "overlays/qa/")
	envs, err := envgen.Environments(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(envs, "qa") {
		t.Fatalf("environments %v lack qa", envs)
	}
	kustomizeOut, err := tl.Overlay(m.Root, "qa")
	if err != nil {
		t.Fatalf("overlays/qa: %v", err)
	}
	helmOut, err := tl.Umbrella(m.Root, "qa")
	if err != nil {
		t.Fatalf("helm door, qa: %v", err)
	}
	fromKustomize := parse(t, kustomizeOut)
	requireTheSameObjects(t, fromKustomize, parse(t, helmOut))

	// `make render` lists it in every GitOps file that has an entry per environment.
	var rendered []render.Environment
	for _, env := range envs {
		manifests := kustomizeOut
		if env != "qa" {
			manifests, err = os.ReadFile(filepath.Join(m.Source, render.RenderedDir, env, render.ManifestsFile))
			if err != nil {
				t.Fatal(err)
			}
		}
		namespace, err := envgen.Namespace(m.Root, env)
		if err != nil {
			t.Fatal(err)
		}
		rendered = append(rendered, render.Environment{Name: env, Namespace: namespace, Manifests: manifests})
	}
	site, err := render.LoadSite(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	digests, err := render.PinnedDigests(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := render.GitOpsFiles(m.Root, site, digests, rendered)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{render.ArgoCDApplicationSet, render.ArgoCDProject, render.FluxNamespaces, render.FluxRenderedApps, render.FluxHelmReleaseInputs} {
		if !strings.Contains(string(lists[name]), "philotes-qa") {
			t.Errorf("%s does not list qa:\n%s", name, lists[name])
		}
	}
	for _, workload := range slices.Concat(fromKustomize.OfKind("Deployment"), fromKustomize.OfKind("StatefulSet")) {
		if fromKustomize.Find("PodDisruptionBudget", workload.GetName()) == nil || fromKustomize.Find("NetworkPolicy", workload.GetName()) == nil {
			t.Errorf("qa: %s lacks the PodDisruptionBudget or NetworkPolicy staging's values switch on", id(workload))
		}
		if workload.GetNamespace() != "philotes-qa" {
			t.Errorf("qa: %s is not in philotes-qa", id(workload))
		}
	}
}

func TestARenderWithoutTheFunctionHasNoGuardrailAndFailsTheValidator(t *testing.T) {
	tl := tools(t, "helm")
	m := testenv.NewMirror(t, testenv.RepoRoot())
	overlay, err := os.ReadFile(filepath.Join(m.Source, "overlays", "production", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withoutFunction := strings.Replace(string(overlay), "transformers:\n- guardrails.yaml\n", "", 1)
	if withoutFunction == string(overlay) {
		t.Fatal("overlays/production/kustomization.yaml lists no guardrails.yaml transformer")
	}
	m.Replace(t, "overlays/production/kustomization.yaml", []byte(withoutFunction))
	if out, err := tl.Overlay(m.Root, "production"); err == nil {
		t.Fatalf("the build without the function passed the validator; %d bytes of output", len(out))
	}
	// And without the validator, what the charts alone render in the Kustomize door.
	unvalidated := strings.Replace(withoutFunction, "validators:\n- ../../base/guardrails\n", "", 1)
	m.Replace(t, "overlays/production/kustomization.yaml", []byte(unvalidated))
	out, err := tl.Overlay(m.Root, "production")
	if err != nil {
		t.Fatal(err)
	}
	objects := parse(t, out)
	for _, kind := range []string{"PodDisruptionBudget", "ScaledObject", "TriggerAuthentication"} {
		for _, n := range objects.OfKind(kind) {
			t.Errorf("%s rendered without the function: the charts must leave it to philotes-guardrails", id(n))
		}
	}
	workloadPods := map[string]bool{}
	for _, workload := range slices.Concat(objects.OfKind("Deployment"), objects.OfKind("StatefulSet")) {
		workloadPods[fmt.Sprint(manifests.StringMap(workload, "spec", "selector", "matchLabels"))] = true
	}
	for _, policy := range objects.OfKind("NetworkPolicy") {
		if isDefaultDeny(policy) || workloadPods[fmt.Sprint(manifests.StringMap(policy, "spec", "podSelector", "matchLabels"))] {
			t.Errorf("%s rendered without the function guards a workload: the charts must leave it to philotes-guardrails", id(policy))
		}
	}
}

// comparable maps each object's id to its YAML without the Kustomize door's
// provenance marks, fields sorted so that formatting cannot differ.
func comparable(t *testing.T, nodes []*yaml.RNode) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range nodes {
		n = n.Copy()
		if err := n.PipeE(yaml.ClearAnnotation(enforcedAnnotation)); err != nil {
			t.Fatal(err)
		}
		if err := n.PipeE(yaml.Lookup("metadata", "labels"), yaml.Clear(generatedByLabel)); err != nil {
			t.Fatal(err)
		}
		for _, emptied := range [][]string{{"metadata", "labels"}, {"metadata", "annotations"}} {
			if m, err := n.Pipe(yaml.Lookup(emptied...)); err == nil && m != nil && len(m.Content()) == 0 {
				if err := n.PipeE(yaml.Lookup(emptied[:1]...), yaml.Clear(emptied[1])); err != nil {
					t.Fatal(err)
				}
			}
		}
		var v any
		if err := n.YNode().Decode(&v); err != nil {
			t.Fatal(err)
		}
		normalized, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[id(n)] = string(normalized)
	}
	return out
}

func TestGuardrailsSelectTheWorkloadsTheyGuardInEachEnvironment(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, env string) {
		nodes := kustomizeDoor(t, env, "helm")
		policy := enforcedIn(t, env)
		for _, workload := range nodes {
			if workload.GetKind() != "Deployment" && workload.GetKind() != "StatefulSet" {
				continue
			}
			if workload.GetAnnotations()["guardrails.philotes.io/environment"] == "" {
				continue
			}
			selector := manifests.StringMap(workload, "spec", "selector", "matchLabels")
			if len(selector) == 0 {
				t.Errorf("%s: %s has no selector labels to guard", env, id(workload))
				continue
			}
			checkGuard := func(kind string, required bool, path ...string) {
				guard := nodes.Find(kind, workload.GetName())
				switch {
				case !required && guard != nil:
					t.Errorf("%s: %s %s exists, but %s has none", env, kind, workload.GetName(), env)
				case required && guard == nil:
					t.Errorf("%s: %s has no %s", env, id(workload), kind)
				case required && !reflect.DeepEqual(manifests.StringMap(guard, path...), selector):
					t.Errorf("%s: %s %s selects %v, the workload's pods are %v", env, kind, guard.GetName(), manifests.StringMap(guard, path...), selector)
				}
			}
			checkGuard("PodDisruptionBudget", policy.PodDisruptionBudgets, "spec", "selector", "matchLabels")
			checkGuard("NetworkPolicy", policy.NetworkPolicies, "spec", "podSelector", "matchLabels")
			if workload.GetAnnotations()["guardrails.philotes.io/scaling"] != "" {
				scaled := nodes.Find("ScaledObject", workload.GetName())
				if (scaled != nil) != policy.ScaledObjects {
					t.Errorf("%s: ScaledObject for %s present=%v, want %v", env, workload.GetName(), scaled != nil, policy.ScaledObjects)
				}
				if scaled != nil {
					if target, _ := scaled.Pipe(yaml.Lookup("spec", "scaleTargetRef", "name")); target == nil || target.YNode().Value != workload.GetName() {
						t.Errorf("%s: ScaledObject %s does not target its Deployment", env, scaled.GetName())
					}
					if replicas, _ := workload.Pipe(yaml.Lookup("spec", "replicas")); replicas != nil {
						t.Errorf("%s: %s keeps spec.replicas although KEDA owns it", env, id(workload))
					}
				}
			}
		}
		if policy.NetworkPolicies && !slices.ContainsFunc(nodes.OfKind("NetworkPolicy"), isDefaultDeny) {
			t.Errorf("%s: no namespace-wide default deny (an empty pod selector, both policy types, no rule) beside the per-workload policies", env)
		}
	})
}

// enforced is what an environment's generated GuardrailPolicy enforces.
type enforced struct{ PodDisruptionBudgets, NetworkPolicies, ScaledObjects bool }

// enforcedIn reads the environment's entry of overlays/<env>/guardrails.yaml,
// which envgen derives from its values file.
func enforcedIn(t *testing.T, env string) enforced {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "overlays", env, envgen.GuardrailsFile))
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Spec struct {
			Environments map[string]struct {
				PodDisruptionBudget bool `yaml:"podDisruptionBudget"`
				NetworkPolicy       bool `yaml:"networkPolicy"`
				KEDA                bool `yaml:"keda"`
			} `yaml:"environments"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &policy); err != nil {
		t.Fatal(err)
	}
	entry, ok := policy.Spec.Environments[env]
	if !ok {
		t.Fatalf("overlays/%s/%s has no entry for %s", env, envgen.GuardrailsFile, env)
	}
	return enforced{PodDisruptionBudgets: entry.PodDisruptionBudget, NetworkPolicies: entry.NetworkPolicy, ScaledObjects: entry.KEDA}
}

func mustFind(t *testing.T, objects manifests.Objects, kind, name string) *yaml.RNode {
	t.Helper()
	n := objects.Find(kind, name)
	if n == nil {
		t.Fatalf("no %s %s", kind, name)
	}
	return n
}

func intField(t *testing.T, n *yaml.RNode, path ...string) int {
	t.Helper()
	var v int
	field, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || field == nil {
		t.Fatalf("%s has no %s", id(n), strings.Join(path, "."))
	}
	if err := field.YNode().Decode(&v); err != nil {
		t.Fatalf("%s %s: %v", id(n), strings.Join(path, "."), err)
	}
	return v
}

func mustString(t *testing.T, nodes []*yaml.RNode) string {
	t.Helper()
	s, err := kio.StringAll(nodes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isDefaultDeny reports whether a NetworkPolicy selects every pod of its namespace and allows
// no traffic either way.
func isDefaultDeny(policy *yaml.RNode) bool {
	var spec struct {
		PodSelector struct {
			MatchLabels      map[string]string `json:"matchLabels"`
			MatchExpressions []any             `json:"matchExpressions"`
		} `json:"podSelector"`
		PolicyTypes []string `json:"policyTypes"`
		Ingress     []any    `json:"ingress"`
		Egress      []any    `json:"egress"`
	}
	if err := manifests.Decode(policy, &spec, "spec"); err != nil {
		return false
	}
	types := slices.Sorted(slices.Values(spec.PolicyTypes))
	return len(spec.PodSelector.MatchLabels) == 0 && len(spec.PodSelector.MatchExpressions) == 0 &&
		slices.Equal(types, []string{"Egress", "Ingress"}) && len(spec.Ingress) == 0 && len(spec.Egress) == 0
}
