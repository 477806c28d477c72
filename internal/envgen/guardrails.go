package envgen

import (
	"fmt"
	"path/filepath"
	"strings"
)

// workerChart is the chart whose KEDA values configure the function's scalers.
const workerChart = "philotes-worker"

// kedaSettings are the worker chart's keda values the function's config shares.
var kedaSettings = []string{"pollingInterval", "cooldownPeriod", "targetLagBytes", "activationLagBytes"}

// guardrailPolicy is the philotes-guardrails config for one environment. It
// carries the same network endpoints and KEDA settings the charts render from,
// so the function and the chart templates produce the same guardrails; the
// environment policy itself is the function's default.
func guardrailPolicy(root, env string, deps []dependency, library, merged Values) (Values, error) {
	network := Values{}
	if defaults, ok := lookup(library, "global", "networkPolicy"); ok {
		network = coalesce(network, asMap(defaults))
	}
	if overrides, ok := lookup(merged, "global", "networkPolicy"); ok {
		network = coalesce(network, asMap(overrides))
	}
	network = coalesce(network, Values{"enabled": nil})

	keda := Values{}
	for _, dep := range deps {
		if dep.Name != workerChart {
			continue
		}
		chartValues, err := readValues(filepath.Join(root, chartValuesPath(dep)))
		if err != nil {
			return nil, err
		}
		overrides, _ := lookup(merged, dep.valuesKey(), "keda")
		effective := coalesce(asMap(chartValues["keda"]), asMap(overrides))
		for _, key := range kedaSettings {
			value, ok := effective[key]
			if !ok {
				return nil, fmt.Errorf("%s: keda.%s has no default; the guardrail function needs it", chartValuesPath(dep), key)
			}
			keda[key] = value
		}
	}
	return Values{
		"apiVersion": "guardrails.philotes.io/v1alpha1",
		"kind":       "GuardrailPolicy",
		"metadata": Values{
			"name": "philotes-guardrails",
			"annotations": Values{
				// A bare name: kustomize looks it up on PATH, where `make tools`
				// and the GitOps images put the binary built from functions/.
				"config.kubernetes.io/function": "exec:\n  path: philotes-guardrails\n",
			},
		},
		"spec": Values{
			"networkPolicy": network,
			"keda":          keda,
		},
	}, nil
}

// chartValuesPath is the dependency's values.yaml, found through its file:// repository.
func chartValuesPath(dep dependency) string {
	dir := strings.TrimPrefix(dep.Repository, "file://")
	if dir == dep.Repository || dir == "" {
		dir = "../" + dep.Name
	}
	return filepath.Join(umbrellaDir, dir, "values.yaml")
}

func asMap(v any) Values {
	m, _ := v.(map[string]any)
	return m
}
