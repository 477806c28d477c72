package guardrails

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/fn/framework/command"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Processor is the function as a framework.ResourceListProcessor.
//
// Notices, when set, receives the Info results (an object adopted or removed),
// one per line: kustomize shows an exec function's stderr but not the results
// of its output list.
//
// It does not use framework.SimpleProcessor: that appends a filter's error
// results to the list and lets the process exit 0, and kustomize shows no
// results, so a refused input would pass the build. Here any error result
// returns an error (the process exits 1) and empties the items, so nothing is
// half-written.
type Processor struct {
	Notices io.Writer
}

// Process implements framework.ResourceListProcessor.
func (p *Processor) Process(rl *framework.ResourceList) error {
	policy, err := LoadPolicy(rl.FunctionConfig)
	if err != nil {
		rl.Results = append(rl.Results, policyResults(rl.FunctionConfig, err)...)
	} else {
		items, results := apply(policy, rl.Items)
		rl.Results = append(rl.Results, results...)
		rl.Items = items
	}
	if rl.Results.ExitCode() != 0 {
		rl.Items = nil
		return rl.Results
	}
	if p.Notices != nil {
		for _, result := range rl.Results {
			if _, err := fmt.Fprintln(p.Notices, result); err != nil {
				return err
			}
		}
	}
	return nil
}

func policyResults(config *yaml.RNode, err error) framework.Results {
	ref := &yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: PolicyAPIVersion, Kind: PolicyKind}}
	if config != nil && !config.IsNilOrEmpty() {
		meta, _ := readMetadata(config)
		*ref = meta.ref()
	}
	var fieldErrs FieldErrors
	if !errors.As(err, &fieldErrs) {
		fieldErrs = FieldErrors{{Field: "functionConfig", Message: err.Error()}}
	}
	results := make(framework.Results, len(fieldErrs))
	for i, fe := range fieldErrs {
		results[i] = &framework.Result{Severity: framework.Error, ResourceRef: ref, Field: &framework.Field{Path: fe.Field}, Message: fe.Message}
	}
	return results
}

// helpSections are the README sections that make up --help: the contract a user writes
// against, kept in one place.
var helpSections = []string{"## Annotations (the contract)", "## Configuration: GuardrailPolicy"}

// Help is the long help text: the README's contract sections, as written there.
func Help(readme string) (string, error) {
	var parts []string
	for _, heading := range helpSections {
		start := strings.Index(readme, "\n"+heading+"\n")
		if start < 0 {
			return "", fmt.Errorf("README.md has no section %q for --help", heading)
		}
		section := readme[start+1:]
		if end := strings.Index(section[len(heading):], "\n## "); end >= 0 {
			section = section[:len(heading)+end]
		}
		parts = append(parts, strings.TrimSpace(section))
	}
	return strings.Join(parts, "\n\n"), nil
}

// NewCommand is the philotes-guardrails command line: a ResourceList on stdin
// (how kustomize runs it), or `philotes-guardrails config.yaml resources.yaml...`.
// Its --help shows the contract sections of readme (README.md, embedded by main).
func NewCommand(readme string) (*cobra.Command, error) {
	long, err := Help(readme)
	if err != nil {
		return nil, err
	}
	processor := &Processor{}
	cmd := command.Build(processor, command.StandaloneEnabled, true)
	cmd.Use = "philotes-guardrails [CONFIG.yaml [RESOURCES.yaml...]]"
	cmd.Short = "Add PodDisruptionBudgets, NetworkPolicies and KEDA ScaledObjects to annotated workloads"
	cmd.Long = cmd.Short + "\n\n" + long
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		processor.Notices = c.ErrOrStderr()
		err := run(c, args)
		if err != nil {
			// One problem per line, ending in a newline, for kustomize's stderr
			// (Results.Error would put a blank line between them).
			var results framework.Results
			if errors.As(err, &results) {
				for _, result := range results {
					_, _ = fmt.Fprintln(c.ErrOrStderr(), result)
				}
			} else {
				_, _ = fmt.Fprintln(c.ErrOrStderr(), err)
			}
		}
		return err
	}
	return cmd, nil
}
