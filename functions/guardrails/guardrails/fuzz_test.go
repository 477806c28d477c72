package guardrails

import (
	"bytes"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fuzzConfig resolves the names the seed corpus uses, so that fuzzing reaches
// NetworkPolicy generation and not only name lookups that fail.
const fuzzConfig = `apiVersion: guardrails.philotes.io/v1alpha1
kind: GuardrailPolicy
metadata:
  name: guardrails
spec:
  environments:
    dev: {}
    staging: {podDisruptionBudget: true, networkPolicy: true}
    production: {podDisruptionBudget: true, networkPolicy: true, keda: true}
  networkPolicy:
    namespaces: {ingress-controller: ingress-nginx, monitoring: monitoring}
    endpoints:
      buffer-database: {cidrs: [10.20.0.0/24], port: 5432}
      vault: {namespace: vault, pods: {app: vault}, port: 8200}
`

// fuzzWorkload is a worker Deployment carrying the fuzzed annotation values.
func fuzzWorkload(t *testing.T, environment, network, scaling, maxUnavailable string) *yaml.RNode {
	t.Helper()
	node := mustParse(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: philotes-worker-orders
  namespace: philotes
  labels: {app.kubernetes.io/name: philotes-worker}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: philotes-worker}
`)
	annotations := map[string]string{EnvironmentAnnotation: environment}
	for key, value := range map[string]string{NetworkAnnotation: network, ScalingAnnotation: scaling, MaxUnavailableAnnotation: maxUnavailable} {
		if value != "" {
			annotations[key] = value
		}
	}
	if err := node.SetAnnotations(annotations); err != nil {
		t.Fatal(err)
	}
	return node
}

// process runs the function on items and returns its output as the bytes a
// run would print, or nil when it refused the input.
func process(t *testing.T, config *yaml.RNode, items []*yaml.RNode) []byte {
	t.Helper()
	rl := &framework.ResourceList{FunctionConfig: config, Items: items}
	if err := (&Processor{}).Process(rl); err != nil {
		if rl.Results.ExitCode() != 1 || len(rl.Items) != 0 {
			t.Fatalf("an error left exit code %d and %d items", rl.Results.ExitCode(), len(rl.Items))
		}
		return nil
	}
	var out bytes.Buffer
	if err := (kio.ByteWriter{Writer: &out}).Write(rl.Items); err != nil {
		t.Fatalf("writing the output: %v", err)
	}
	return out.Bytes()
}

// FuzzGuardrails feeds arbitrary annotation values and extra resources. The
// function may refuse them but must never panic, and whatever it accepts it
// must reproduce byte for byte when run on its own output.
func FuzzGuardrails(f *testing.F) {
	f.Add("production", `{"egress":[{"endpoint":"buffer-database"}]}`,
		`{"type":"replication-slot","slot":"orders","host":"db","port":5432,"database":"orders","user":"philotes","sslmode":"require","passwordSecret":{"name":"orders","key":"password"}}`,
		"1", "")
	f.Fuzz(func(t *testing.T, environment, network, scaling, maxUnavailable, resources string) {
		items := []*yaml.RNode{fuzzWorkload(t, environment, network, scaling, maxUnavailable)}
		if extra, err := kio.FromBytes([]byte(resources)); err == nil {
			items = append(items, extra...)
		}
		config := mustParse(t, fuzzConfig)
		first := process(t, config, items)
		if first == nil {
			return
		}
		again, err := kio.FromBytes(first)
		if err != nil {
			t.Fatalf("the output does not parse: %v\n%s", err, first)
		}
		second := process(t, config, again)
		if !bytes.Equal(first, second) {
			t.Fatalf("the second run changed the output:\n--- first\n%s\n--- second\n%s", first, second)
		}
	})
}

// FuzzGuardrailPolicy feeds arbitrary function configs: refused or accepted,
// never a panic, and an accepted config must work on a guarded workload.
func FuzzGuardrailPolicy(f *testing.F) {
	f.Add(fuzzConfig)
	f.Fuzz(func(t *testing.T, config string) {
		node, err := yaml.Parse(config)
		if err != nil {
			return
		}
		workload := fuzzWorkload(t, "production", `{"egress":[{"endpoint":"buffer-database"}]}`, "", "")
		process(t, node, []*yaml.RNode{workload})
	})
}

// The seeds must reach the function's work, not only its refusals: a config
// that no longer names the workloads' environment would turn every fuzz run
// into a refusal.
func TestTheFuzzSeedsAreAccepted(t *testing.T) {
	workload := fuzzWorkload(t, "production", `{"egress":[{"endpoint":"buffer-database"}]}`,
		`{"type":"replication-slot","slot":"orders","host":"db","port":5432,"database":"orders","user":"philotes","sslmode":"require","passwordSecret":{"name":"orders","key":"password"}}`, "1")
	if process(t, mustParse(t, fuzzConfig), []*yaml.RNode{workload}) == nil {
		t.Fatal("the fuzz seed config and workload are refused")
	}
}
