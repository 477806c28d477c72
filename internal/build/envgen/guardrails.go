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
// carries what the environment enforces, read from the same switches the Helm
// door's templates read, and the network endpoints and KEDA settings the
// charts render from, so that both doors produce the same guardrails.
func guardrailPolicy(root string, env environment, deps []dependency, library Values) (Values, error) {
	network := Values{}
	if defaults, ok := lookup(library, "global", "networkPolicy"); ok {
		network = coalesce(network, asMap(defaults))
	}
	if overrides, ok := lookup(env.merged, "global", "networkPolicy"); ok {
		network = coalesce(network, asMap(overrides))
	}
	enforces := Values{"networkPolicy": lookupBool(network, "enabled"), "podDisruptionBudget": false, "keda": false}
	network = coalesce(network, Values{"enabled": nil})

	keda := Values{}
	// pdbSetting names the first service's podDisruptionBudget.enabled: every
	// service must agree, since the function enforces PDBs per environment.
	pdbSetting := ""
	for _, dep := range deps {
		if !dependencyEnabled(dep, env.merged) {
			continue
		}
		chartFile := filepath.Join(chartDir(dep), "values.yaml")
		chartValues, err := readValues(filepath.Join(root, chartFile))
		if err != nil {
			return nil, err
		}
		section := asMap(env.merged[dep.valuesKey()])
		if chartPDB, supported := chartValues["podDisruptionBudget"]; supported {
			effective := coalesce(asMap(chartPDB), asMap(section["podDisruptionBudget"]))
			enabled := lookupBool(effective, "enabled")
			setting := dep.valuesKey() + ".podDisruptionBudget.enabled"
			switch {
			case pdbSetting == "":
				pdbSetting = setting
				enforces["podDisruptionBudget"] = enabled
			case enforces["podDisruptionBudget"] != enabled:
				return nil, fmt.Errorf("%s: %s is %v but %s is %v; the guardrail function enforces PodDisruptionBudgets for a whole environment: set them alike",
					env.file, pdbSetting, enforces["podDisruptionBudget"], setting, enabled)
			}
		}
		if dep.Name != workerChart {
			continue
		}
		effective := coalesce(asMap(chartValues["keda"]), asMap(section["keda"]))
		enforces["keda"] = lookupBool(effective, "enabled")
		for _, key := range kedaSettings {
			value, ok := effective[key]
			if !ok {
				return nil, fmt.Errorf("%s: keda.%s has no default; the guardrail function needs it", chartFile, key)
			}
			keda[key] = value
		}
	}
	spec := Values{
		"environments":  Values{env.name: enforces},
		"networkPolicy": network,
	}
	if len(keda) > 0 {
		spec["keda"] = keda
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
		"spec": spec,
	}, nil
}

func asMap(v any) Values {
	m, _ := v.(map[string]any)
	return m
}
