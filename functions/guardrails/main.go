// Command philotes-guardrails is the exec KRM function of the Kustomize door:
// it adds PodDisruptionBudgets, NetworkPolicies and KEDA ScaledObjects to the
// workloads that carry the guardrails.philotes.io annotations (see README.md).
package main

import (
	_ "embed"
	"fmt"
	"os"

	"github.com/janovincze/philotes-deploy/functions/guardrails/guardrails"
)

// readme is the function's README: its contract sections are the --help text.
//
//go:embed README.md
var readme string

func main() {
	cmd, err := guardrails.NewCommand(readme)
	if err != nil {
		fmt.Fprintln(os.Stderr, "philotes-guardrails:", err)
		os.Exit(1)
	}
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
