package guardrails

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func mustParse(t testing.TB, text string) *yaml.RNode {
	t.Helper()
	node, err := yaml.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return node
}

func TestAMissingConfigHasNoEnvironmentAndTheDocumentedDefaults(t *testing.T) {
	policy, err := LoadPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(policy.Spec.Environments) != 0 {
		t.Errorf("environments = %v, want none: the function knows no environment of its own", policy.Spec.Environments)
	}
	np, keda := policy.Spec.NetworkPolicy, policy.Spec.KEDA
	if np.DefaultDenyName != "default-deny" || np.DNS.Namespace != "kube-system" || np.DNS.Port != 53 || np.DNS.Pods["k8s-app"] != "kube-dns" {
		t.Errorf("network policy defaults: %+v", np)
	}
	if *keda.PollingInterval != 30 || *keda.CooldownPeriod != 300 || *keda.TargetLagBytes != 1048576 || *keda.ActivationLagBytes != 0 {
		t.Errorf("keda defaults: %d %d %d %d", *keda.PollingInterval, *keda.CooldownPeriod, *keda.TargetLagBytes, *keda.ActivationLagBytes)
	}
}

func TestAnEnvironmentEnforcesOnlyWhatItLists(t *testing.T) {
	policy, err := LoadPolicy(mustParse(t, `apiVersion: guardrails.philotes.io/v1alpha1
kind: GuardrailPolicy
spec:
  environments:
    qa: {podDisruptionBudget: true, networkPolicy: true}
    sandbox: {}
  keda: {activationLagBytes: 0, cooldownPeriod: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	qa, sandbox := policy.Spec.Environments["qa"], policy.Spec.Environments["sandbox"]
	if *qa.KEDA || !*qa.PodDisruptionBudget || !*qa.NetworkPolicy {
		t.Errorf("qa = %v/%v/%v, want pdb and networkpolicy without keda", *qa.PodDisruptionBudget, *qa.NetworkPolicy, *qa.KEDA)
	}
	if *sandbox.PodDisruptionBudget || *sandbox.NetworkPolicy || *sandbox.KEDA {
		t.Errorf("sandbox = %v/%v/%v, want nothing enforced", *sandbox.PodDisruptionBudget, *sandbox.NetworkPolicy, *sandbox.KEDA)
	}
	if *policy.Spec.KEDA.CooldownPeriod != 0 {
		t.Errorf("an explicit cooldownPeriod 0 became %d", *policy.Spec.KEDA.CooldownPeriod)
	}
}

func TestAnEnvironmentNameOutsideKubernetesLabelSyntaxIsRefused(t *testing.T) {
	_, err := LoadPolicy(mustParse(t, `apiVersion: guardrails.philotes.io/v1alpha1
kind: GuardrailPolicy
spec:
  environments:
    QA_1: {}
`))
	if err == nil || !strings.Contains(err.Error(), "spec.environments[QA_1]") {
		t.Fatalf("err = %v, want the environment's key named", err)
	}
}

func TestEveryDestinationIsAllowedOnlyWhenTheEndpointSaysSo(t *testing.T) {
	for _, tc := range []struct {
		endpoint Endpoint
		refused  bool
	}{
		{Endpoint{CIDRs: []string{"0.0.0.0/0"}, Port: 443, Protocol: "TCP"}, true},
		{Endpoint{CIDRs: []string{"::/0"}, Port: 443, Protocol: "TCP"}, true},
		{Endpoint{CIDRs: []string{"0.0.0.0/0"}, Port: 443, Protocol: "TCP", AllowAnyDestination: true}, false},
		{Endpoint{CIDRs: []string{"0.0.0.0/1"}, Port: 443, Protocol: "TCP"}, false},
	} {
		var errs FieldErrors
		tc.endpoint.validate(&errs, "endpoint")
		if refused := strings.Contains(errs.Error(), "every destination"); refused != tc.refused {
			t.Errorf("%+v: refused = %v, want %v (%v)", tc.endpoint, refused, tc.refused, errs)
		}
	}
}

func TestMaxUnavailableAcceptsOnlyValuesThatLetADrainProceed(t *testing.T) {
	for value, want := range map[string]string{"1": "!!int 1", "250": "!!int 250", "1%": "!!str 1%", "25%": "!!str 25%", "100%": "!!str 100%"} {
		parsed, errs := parseMaxUnavailable(value)
		node := parsed.yamlNode()
		if got := node.Tag + " " + node.Value; len(errs) > 0 || got != want {
			t.Errorf("%q: got %s %v, want %s", value, got, errs, want)
		}
	}
	for _, value := range []string{"0", "0%", "101%", "-1", "1.5", "01", "", " 1", "1000000000", "ten"} {
		if _, errs := parseMaxUnavailable(value); len(errs) == 0 {
			t.Errorf("%q was accepted", value)
		}
	}
}

func TestAnnotationsMustBeOneJSONObject(t *testing.T) {
	for _, value := range []string{"", "null", "[]", `"text"`, "{} {}", "{}}", `{"ingress": {}}`} {
		if _, errs := parseNetwork(value); len(errs) == 0 {
			t.Errorf("network annotation %q was accepted", value)
		}
	}
	if _, errs := parseNetwork(" {} "); len(errs) > 0 {
		t.Errorf("an empty object (DNS only) was refused: %v", errs)
	}
}

func TestFieldPathsFollowTheJSONTags(t *testing.T) {
	got := strings.Join(fieldPaths(reflect.TypeFor[network]()), " ")
	want := "ingress[].port ingress[].protocol ingress[].from[].namespace ingress[].from[].pods egress[].endpoint egress[].pods egress[].port egress[].protocol"
	if got != want {
		t.Errorf("fieldPaths(network) = %s\nwant %s", got, want)
	}
}

const sampleConfig = `apiVersion: guardrails.philotes.io/v1alpha1
kind: GuardrailPolicy
metadata:
  name: guardrails
`

func TestAnErrorResultFailsTheProcessAndDropsEveryItem(t *testing.T) {
	rl := &framework.ResourceList{
		FunctionConfig: mustParse(t, sampleConfig),
		Items: []*yaml.RNode{
			mustParse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n"),
			mustParse(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\n  annotations:\n    guardrails.philotes.io/environment: qa\n"),
		},
	}
	err := (&Processor{}).Process(rl)
	if err == nil {
		t.Fatal("Process returned no error for an unknown environment")
	}
	if rl.Results.ExitCode() != 1 || len(rl.Items) != 0 {
		t.Errorf("exit code %d with %d items, want 1 with none", rl.Results.ExitCode(), len(rl.Items))
	}
}

func TestOutputOrderIsInputThenAddedByKindNamespaceName(t *testing.T) {
	items, err := kio.FromBytes([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: two, annotations: {guardrails.philotes.io/environment: staging, guardrails.philotes.io/network: "{}"}}
spec: {selector: {matchLabels: {app: b}}}
---
apiVersion: v1
kind: Service
metadata: {name: between}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: two, annotations: {guardrails.philotes.io/environment: staging, guardrails.philotes.io/network: "{}"}}
spec: {selector: {matchLabels: {app: a}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: c, namespace: one, annotations: {guardrails.philotes.io/environment: staging, guardrails.philotes.io/network: "{}"}}
spec: {selector: {matchLabels: {app: c}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := LoadPolicy(mustParse(t, `apiVersion: guardrails.philotes.io/v1alpha1
kind: GuardrailPolicy
spec: {environments: {staging: {podDisruptionBudget: true, networkPolicy: true}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	out, results := apply(policy, items)
	if results != nil {
		t.Fatal(results)
	}
	var got []string
	for _, node := range out {
		meta, _ := readMetadata(node)
		got = append(got, meta.key().String())
	}
	want := []string{
		"Deployment two/b", "Service between", "Deployment two/a", "StatefulSet one/c",
		"NetworkPolicy one/c", "NetworkPolicy one/default-deny",
		"NetworkPolicy two/a", "NetworkPolicy two/b", "NetworkPolicy two/default-deny",
		"PodDisruptionBudget one/c", "PodDisruptionBudget two/a", "PodDisruptionBudget two/b",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAdoptingOrRemovingAnObjectIsReportedAsInfo(t *testing.T) {
	policy, err := LoadPolicy(mustParse(t, `apiVersion: guardrails.philotes.io/v1alpha1
kind: GuardrailPolicy
spec: {environments: {staging: {podDisruptionBudget: true}, dev: {}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	items, err := kio.FromBytes([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: one, annotations: {guardrails.philotes.io/environment: staging}}
spec: {selector: {matchLabels: {app: api}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: one, annotations: {guardrails.philotes.io/adopt: "true"}}
spec: {minAvailable: 1}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: old, namespace: one, labels: {guardrails.philotes.io/generated-by: philotes-guardrails}}
spec: {maxUnavailable: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	out, results := apply(policy, items)
	if results.ExitCode() != 0 || len(out) != 2 {
		t.Fatalf("got %d items and %v, want the Deployment and the adopted PDB", len(out), results)
	}
	var got []string
	for _, r := range results {
		got = append(got, r.String())
	}
	want := []string{
		"[info] policy/v1/PodDisruptionBudget/one/api: adopted (guardrails.philotes.io/adopt): now generated for Deployment one/api",
		"[info] policy/v1/PodDisruptionBudget/one/old: removed: generated earlier for a workload or environment that no longer asks for it",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
