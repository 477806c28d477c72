package guardrails

import (
	"fmt"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// benchmarkItems builds a resource list of n items shaped like a large
// rendered deployment: a guarded worker Deployment per source (every third in
// production with KEDA), each with its Service and ConfigMap, spread over
// namespaces of a few hundred objects.
func benchmarkItems(b *testing.B, n int) []*yaml.RNode {
	b.Helper()
	environments := []string{"production", "staging", "dev"}
	items := make([]*yaml.RNode, 0, n)
	for i := 0; len(items) < n; i++ {
		namespace := fmt.Sprintf("tenant-%d", i/100)
		name := fmt.Sprintf("philotes-worker-source-%d", i)
		items = append(items, mustParse(b, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
  labels: {app.kubernetes.io/name: philotes-worker, app.kubernetes.io/instance: philotes, philotes.io/source: source-%[3]d}
  annotations:
    guardrails.philotes.io/environment: %[4]s
    guardrails.philotes.io/network: '{"egress": [{"endpoint": "buffer-database"}, {"pods": {"app.kubernetes.io/name": "lakekeeper"}, "port": 8181}]}'
    guardrails.philotes.io/scaling: '{"type": "replication-slot", "slot": "slot_%[3]d", "host": "db-%[3]d", "port": 5432, "database": "app", "user": "philotes", "sslmode": "require", "passwordSecret": {"name": "%[1]s", "key": "password"}}'
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: philotes-worker, philotes.io/source: source-%[3]d}
  template:
    spec:
      containers:
      - name: worker
        image: ghcr.io/janovincze/philotes-worker:0.1.0
`, name, namespace, i, environments[i%len(environments)])))
		items = append(items,
			mustParse(b, fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {ports: [{port: 8081}]}\n", name, namespace)),
			mustParse(b, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {PHILOTES_CDC_SOURCE_PORT: \"5432\"}\n", name, namespace)))
	}
	return items[:n]
}

func benchmarkGuardrails(b *testing.B, n int) {
	config := mustParse(b, `apiVersion: guardrails.philotes.io/v1alpha1
kind: GuardrailPolicy
spec:
  environments:
    dev: {}
    staging: {podDisruptionBudget: true, networkPolicy: true}
    production: {podDisruptionBudget: true, networkPolicy: true, keda: true}
  networkPolicy:
    endpoints:
      buffer-database: {cidrs: [10.20.0.0/24], port: 5432}
`)
	items := benchmarkItems(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		// The function changes its input; every round starts from the same one.
		input := make([]*yaml.RNode, len(items))
		for i, item := range items {
			input[i] = item.Copy()
		}
		rl := &framework.ResourceList{FunctionConfig: config, Items: input}
		b.StartTimer()
		if err := (&Processor{}).Process(rl); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGuardrails1k(b *testing.B)   { benchmarkGuardrails(b, 1_000) }
func BenchmarkGuardrails10k(b *testing.B)  { benchmarkGuardrails(b, 10_000) }
func BenchmarkGuardrails100k(b *testing.B) { benchmarkGuardrails(b, 100_000) }
