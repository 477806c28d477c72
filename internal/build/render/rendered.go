package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
)

// RenderedDir holds, per environment, the manifests that `kubectl apply -k`
// and Flux consume: neither can run helm or KRM functions.
const RenderedDir = "rendered"

// ManifestsFile is the one file of rendered manifests per environment.
const ManifestsFile = "manifests.yaml"

// RenderedKustomization makes rendered/<env> a kustomization of its manifests.
func RenderedKustomization(env string) []byte {
	return []byte(fmt.Sprintf(`# Rendered by `+"`make render`"+` from overlays/%s: do not edit. kubectl apply -k and
# Flux consume this directory because they can run neither helm nor KRM functions.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
`, env, ManifestsFile))
}

// WriteRendered replaces rendered/<env> with the given manifests. The new
// directory is written beside the old one and swapped in by renames, so an
// interrupted run leaves the previous rendering intact.
func WriteRendered(root, env string, manifests []byte) error {
	dir := filepath.Join(root, RenderedDir, env)
	next, previous := dir+".next", dir+".previous"
	for _, stale := range []string{next, previous} {
		if err := os.RemoveAll(stale); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(next, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(next, "kustomization.yaml"), RenderedKustomization(env), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(next, ManifestsFile), manifests, 0o644); err != nil {
		return err
	}
	if err := os.Rename(dir, previous); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(next, dir); err != nil {
		return err
	}
	return os.RemoveAll(previous)
}

// RenderedIsCurrent reports whether rendered/<env> holds exactly these manifests.
func RenderedIsCurrent(root, env string, manifests []byte) bool {
	dir := filepath.Join(root, RenderedDir, env)
	committed, err := os.ReadFile(filepath.Join(dir, ManifestsFile))
	if err != nil || !bytes.Equal(committed, manifests) {
		return false
	}
	kustomization, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	return err == nil && bytes.Equal(kustomization, RenderedKustomization(env))
}

// GuardrailKinds are the objects the guardrail function is responsible for.
var GuardrailKinds = []string{"PodDisruptionBudget", "NetworkPolicy", "ScaledObject", "TriggerAuthentication"}

// Summary is one line per environment: objects by kind, then the guardrails.
func Summary(env string, manifests []byte) (string, error) {
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		return "", fmt.Errorf("%s: %w", env, err)
	}
	counts := map[string]int{}
	for _, n := range nodes {
		counts[n.GetKind()]++
	}
	var kinds []string
	for kind, n := range counts {
		kinds = append(kinds, fmt.Sprintf("%s %d", kind, n))
	}
	sort.Strings(kinds)
	var guardrails []string
	for _, kind := range GuardrailKinds {
		guardrails = append(guardrails, fmt.Sprintf("%s %d", kind, counts[kind]))
	}
	return fmt.Sprintf("%-10s %d objects: %s\n%-10s guardrails: %s", env, len(nodes), strings.Join(kinds, ", "), "", strings.Join(guardrails, ", ")), nil
}
