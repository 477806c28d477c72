package envgen

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
	"github.com/janovincze/philotes-deploy/internal/testsupport/tree"
)

// fixture lays out a minimal umbrella chart, library and worker chart.
func fixture(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	base := map[string]string{
		"charts/philotes/Chart.yaml": `dependencies:
- {name: philotes-common, repository: "file://../philotes-common"}
- {name: philotes-api, alias: api, condition: api.enabled, repository: "file://../philotes-api"}
- {name: philotes-worker, alias: worker, condition: worker.enabled, repository: "file://../philotes-worker"}
`,
		"charts/philotes/values.yaml": `global:
  environment: production
  networkPolicy:
    namespaces: {monitoring: monitoring}
api:
  enabled: true
  replicaCount: 3
worker:
  enabled: true
  sources: [{name: orders}]
`,
		"charts/philotes-common/values.yaml": `global:
  environment: production
  profile: production
  namespace: ""
  networkPolicy:
    enabled: false
    defaultDenyName: default-deny
    dns: {namespace: kube-system, port: 53}
    namespaces: {ingress-controller: ingress-nginx, monitoring: monitoring}
`,
		"charts/philotes-common/Chart.yaml": "type: library\n",
		"charts/philotes-api/Chart.yaml":    "type: application\n",
		"charts/philotes-worker/Chart.yaml": "type: application\n",
		"charts/philotes-api/values.yaml":   "podDisruptionBudget: {enabled: false}\n",
		"charts/philotes-worker/values.yaml": `podDisruptionBudget: {enabled: false}
keda:
  enabled: false
  pollingInterval: 30
  cooldownPeriod: 300
  targetLagBytes: 1048576
  activationLagBytes: 0
`,
	}
	for env, profile := range map[string]string{"dev": "development", "staging": "staging", "production": "production"} {
		base["charts/philotes/values-"+env+".yaml"] = envValues(env, profile, "")
	}
	for path, content := range files {
		base[path] = content
	}
	tree.Write(t, root, base)
	return root
}

// envValues is an environment's values file: its global identity, then body.
func envValues(env, profile, body string) string {
	return "global: {environment: " + env + ", profile: " + profile + ", namespace: philotes-" + env + "}\n" + body
}

func generatedValues(t *testing.T, files generated.Files, path string) map[string]any {
	t.Helper()
	content, ok := files[path]
	if !ok {
		t.Fatalf("%s was not generated", path)
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(content, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func TestCoalesceMergesMapsReplacesListsAndDeletesNulls(t *testing.T) {
	base := Values{"a": Values{"x": 1, "y": 2}, "list": []any{1, 2}, "gone": "v"}
	override := Values{"a": Values{"y": 3}, "list": []any{9}, "gone": nil}
	got := coalesce(base, override)
	want := Values{"a": Values{"x": 1, "y": 3}, "list": []any{9}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("coalesce = %v, want %v", got, want)
	}
	if _, present := base["gone"]; !present {
		t.Fatal("coalesce modified its base")
	}
}

func TestEachServiceGetsItsUmbrellaSectionPlusGlobalWithoutEnabled(t *testing.T) {
	root := fixture(t, map[string]string{
		"charts/philotes/values-staging.yaml": envValues("staging", "staging", "api: {replicaCount: 2}\n"),
	})
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	api := generatedValues(t, files, "overlays/staging/values-api.yaml")
	if api["replicaCount"] != float64(2) {
		t.Errorf("staging api replicaCount = %v, want the environment's 2", api["replicaCount"])
	}
	if _, present := api["enabled"]; present {
		t.Error("the umbrella's condition key `enabled` leaked into the service values")
	}
	if env, _ := lookup(api, "global", "environment"); env != "staging" {
		t.Errorf("global.environment = %v, want staging", env)
	}
	worker := generatedValues(t, files, "overlays/production/values-worker.yaml")
	if sources, _ := worker["sources"].([]any); len(sources) != 1 {
		t.Errorf("production worker sources = %v, want the umbrella default list", worker["sources"])
	}
}

func TestGuardrailPolicyCarriesTheEffectiveNetworkAndKedaSettings(t *testing.T) {
	root := fixture(t, map[string]string{
		"charts/philotes/values-production.yaml": `global:
  environment: production
  profile: production
  namespace: philotes-production
  networkPolicy:
    enabled: true
    endpoints: {buffer-database: {cidrs: [10.0.0.0/24], port: 5432}}
worker:
  keda: {cooldownPeriod: 600}
`,
	})
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	policy := generatedValues(t, files, "overlays/production/guardrails.yaml")
	network, _ := lookup(policy, "spec", "networkPolicy")
	want := map[string]any{
		"defaultDenyName": "default-deny",
		"dns":             map[string]any{"namespace": "kube-system", "port": float64(53)},
		"namespaces":      map[string]any{"ingress-controller": "ingress-nginx", "monitoring": "monitoring"},
		"endpoints":       map[string]any{"buffer-database": map[string]any{"cidrs": []any{"10.0.0.0/24"}, "port": float64(5432)}},
	}
	if !reflect.DeepEqual(network, want) {
		t.Errorf("networkPolicy = %v\nwant %v", network, want)
	}
	keda, _ := lookup(policy, "spec", "keda")
	wantKeda := map[string]any{"pollingInterval": float64(30), "cooldownPeriod": float64(600), "targetLagBytes": float64(1048576), "activationLagBytes": float64(0)}
	if !reflect.DeepEqual(keda, wantKeda) {
		t.Errorf("keda = %v, want %v", keda, wantKeda)
	}
}

func TestAValuesFileNamingAnotherEnvironmentIsRefused(t *testing.T) {
	root := fixture(t, map[string]string{"charts/philotes/values-staging.yaml": envValues("production", "staging", "")})
	_, err := Generate(root)
	if err == nil || !strings.Contains(err.Error(), "charts/philotes/values-staging.yaml: global.environment is production, want \"staging\"") {
		t.Fatalf("err = %v, want the disagreement named", err)
	}
}

func TestAnOverlayInflatesOnlyTheEnabledServicesInItsNamespace(t *testing.T) {
	root := fixture(t, map[string]string{"charts/philotes/values-dev.yaml": envValues("dev", "development", "worker: {enabled: false}\n")})
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	charts := generatedValues(t, files, "overlays/dev/charts/kustomization.yaml")
	if got, want := charts["resources"], []any{"../../../base/api"}; !reflect.DeepEqual(got, want) {
		t.Errorf("dev resources = %v, want %v", got, want)
	}
	patch, _ := lookup(charts, "patches")
	if !strings.Contains(fmtAny(patch), "value: philotes-dev") {
		t.Errorf("dev patch = %v, want the overlay's namespace philotes-dev", patch)
	}
	if _, ok := files["overlays/dev/values-worker.yaml"]; ok {
		t.Error("values were generated for the disabled worker")
	}
}

func TestAnEnvironmentWithoutANamespaceOrWithAnUnknownProfileIsRefused(t *testing.T) {
	for file, want := range map[string]string{
		"global: {environment: staging, profile: staging}\n":                         "charts/philotes/values-staging.yaml: global.namespace is required",
		"global: {environment: staging, profile: qa, namespace: philotes-staging}\n": `charts/philotes/values-staging.yaml: global.profile "qa" is not allowed; allowed values: development, staging, production`,
	} {
		root := fixture(t, map[string]string{"charts/philotes/values-staging.yaml": file})
		if _, err := Generate(root); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", file, err, want)
		}
	}
}

func TestEnvironmentsAreTheValuesFilesInPromotionOrder(t *testing.T) {
	root := fixture(t, map[string]string{
		"charts/philotes/values-qa.yaml":      envValues("qa", "staging", ""),
		"charts/philotes/values-sandbox.yaml": envValues("sandbox", "development", ""),
	})
	got, err := Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dev", "sandbox", "qa", "staging", "production"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Environments = %v, want %v (by profile, then name)", got, want)
	}
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	overlay := generatedValues(t, files, "overlays/qa/kustomization.yaml")
	if overlay["namespace"] != "philotes-qa" || !reflect.DeepEqual(overlay["transformers"], []any{GuardrailsFile}) {
		t.Errorf("overlays/qa/kustomization.yaml = %v, want namespace philotes-qa and the guardrail function", overlay)
	}
}

func TestThePolicyEnforcesWhatTheValuesSwitchOnAndTheChartsRenderNoGuardrail(t *testing.T) {
	root := fixture(t, map[string]string{
		"charts/philotes/values-qa.yaml": envValues("qa", "staging", `api: {podDisruptionBudget: {enabled: true}}
worker: {podDisruptionBudget: {enabled: true}, keda: {enabled: true}}
`),
	})
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	policy := generatedValues(t, files, "overlays/qa/guardrails.yaml")
	environments, _ := lookup(policy, "spec", "environments")
	want := map[string]any{"qa": map[string]any{"podDisruptionBudget": true, "networkPolicy": false, "keda": true}}
	if !reflect.DeepEqual(environments, want) {
		t.Errorf("spec.environments = %v, want %v (only this environment, from its switches)", environments, want)
	}
	for _, service := range []string{"api", "worker"} {
		values := generatedValues(t, files, "overlays/qa/values-"+service+".yaml")
		if producer, _ := lookup(values, "global", "guardrailObjects"); producer != "function" {
			t.Errorf("%s: global.guardrailObjects = %v, want function: the charts must render no guardrail in the Kustomize door", service, producer)
		}
	}
}

func TestServicesThatDisagreeOnPodDisruptionBudgetsAreRefused(t *testing.T) {
	root := fixture(t, map[string]string{
		"charts/philotes/values-qa.yaml": envValues("qa", "staging", "api: {podDisruptionBudget: {enabled: true}}\n"),
	})
	_, err := Generate(root)
	want := "charts/philotes/values-qa.yaml: api.podDisruptionBudget.enabled is true but worker.podDisruptionBudget.enabled is false"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func fmtAny(v any) string {
	out, _ := yaml.Marshal(v)
	return string(out)
}

func TestWrittenFilesAreNoLongerStale(t *testing.T) {
	root := fixture(t, nil)
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	if stale, err := files.Stale(root); err != nil || len(stale) != len(files) {
		t.Fatalf("before writing, stale = %v (%v), want all %d files", stale, err, len(files))
	}
	if _, err := files.Write(root); err != nil {
		t.Fatal(err)
	}
	if stale, err := files.Stale(root); err != nil || len(stale) != 0 {
		t.Fatalf("after writing, stale = %v (%v)", stale, err)
	}
}

func TestTheCommittedOverlayInputsMatchTheUmbrellaValues(t *testing.T) {
	// Three levels up from this package; testenv, which would say so, imports this package.
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, umbrellaDir, "Chart.yaml")); err != nil {
		t.Fatalf("umbrella chart missing: %v", err)
	}
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	if stale, err := files.Stale(root); err != nil || len(stale) > 0 {
		t.Fatalf("stale generated files, run `make generate`: %v (%v)", stale, err)
	}
}
