package envgen

import (
	"fmt"
	"path/filepath"
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
		chartValues, err := readValues(filepath.Join(root, filepath.Join(chartDir(dep), "values.yaml")))
		if err != nil {
			return nil, err
		}
		overrides, _ := lookup(merged, dep.valuesKey(), "keda")
		effective := coalesce(asMap(chartValues["keda"]), asMap(overrides))
		for _, key := range kedaSettings {
			value, ok := effective[key]
			if !ok {
				return nil, fmt.Errorf("%s: keda.%s has no default; the guardrail function needs it", filepath.Join(chartDir(dep), "values.yaml"), key)
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

func asMap(v any) Values {
	m, _ := v.(map[string]any)
	return m
}
