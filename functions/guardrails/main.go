// Command philotes-guardrails is the exec KRM function of the Kustomize door:
// it adds PodDisruptionBudgets, NetworkPolicies and KEDA ScaledObjects to the
// workloads that carry the guardrails.philotes.io annotations (see README.md).
package main

import (
	"os"

	"github.com/janovincze/philotes-deploy/functions/guardrails/guardrails"
)

func main() {
	if err := guardrails.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
