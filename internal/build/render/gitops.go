package render

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
)

// Environment is one rendered environment, as the GitOps lists need it.
type Environment struct {
	Name      string
	Namespace string
	Manifests []byte
}

// The GitOps files that hold one entry per environment. `make render` writes
// them from the environments and their rendered manifests, so that adding an
// environment changes no hand-written file.
const (
	ArgoCDApplicationSet  = "gitops/argocd/overlays/applicationset.yaml"
	FluxNamespaces        = "gitops/flux/namespaces/namespaces.yaml"
	FluxRenderedApps      = "gitops/flux/rendered/kustomizations.yaml"
	FluxHelmReleaseInputs = "gitops/flux/helm/kustomizations.yaml"
)

// The ApplicationSet's list of environments stands between these lines; the
// rest of the file is written by hand.
const (
	environmentsStart = "# environments:start: written by `make render` from charts/philotes/values-<env>.yaml, do not edit\n"
	environmentsEnd   = "      # environments:end"
)

const generatedHeader = "# Written by `make render`, one entry per charts/philotes/values-<env>.yaml: do not edit.\n"

// GitOpsFiles returns the GitOps files that list the environments.
func GitOpsFiles(root string, envs []Environment) (generated.Files, error) {
	appSet, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ArgoCDApplicationSet)))
	if err != nil {
		return nil, err
	}
	var elements, namespaces, renderedApps, helmInputs []string
	for _, env := range envs {
		elements = append(elements, fmt.Sprintf("      - env: %s\n        namespace: %s\n", env.Name, env.Namespace))
		crds, err := customResourceDefinitions(env)
		if err != nil {
			return nil, err
		}
		namespaces = append(namespaces, namespaceKustomization(env, crds))
		renderedApps = append(renderedApps, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: philotes-%[1]s
  namespace: flux-system
spec:
  dependsOn:
  - name: philotes-%[1]s-namespace
  path: ./%[2]s/%[1]s
`, env.Name, RenderedDir))
		workloads, err := workloadHealthChecks(env)
		if err != nil {
			return nil, err
		}
		helmInputs = append(helmInputs, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: philotes-%[1]s-helm
  namespace: flux-system
spec:
  dependsOn:
  - name: philotes-%[1]s-namespace
  postBuild:
    substitute:
      PHILOTES_ENVIRONMENT: %[1]s
      PHILOTES_NAMESPACE: %[2]s
  healthChecks:
  - apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    name: philotes-%[1]s
    namespace: flux-system
%[3]s`, env.Name, env.Namespace, workloads))
	}
	spliced, err := generated.Splice(appSet, environmentsStart, environmentsEnd, strings.Join(elements, ""))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ArgoCDApplicationSet, err)
	}
	return generated.Files{
		ArgoCDApplicationSet: spliced,
		FluxNamespaces: []byte(generatedHeader + `# One Kustomization per environment owns its Namespace: the base the overlays
# use, renamed to the environment's namespace. Its health checks are the
# Namespace and the CRDs of every custom kind in the environment's rendered
# manifests, which the cluster's platform installs; the app Kustomizations
# depend on these, so they are applied only into a ready namespace on a
# cluster that serves every kind they contain.
` + strings.Join(namespaces, "---\n")),
		FluxRenderedApps: []byte(generatedHeader + `# Flux's kustomize-controller runs neither helm nor KRM functions, so it
# applies rendered/<env>, the overlays' output that ` + "`make render`" + ` committed.
# The manifests carry their namespace: no targetNamespace.
` + strings.Join(renderedApps, "---\n")),
		FluxHelmReleaseInputs: []byte(generatedHeader + `# One HelmRelease per environment from a single template (release/), filled in
# by postBuild substitution, and applied only once the namespace is ready (a
# HelmRelease can depend on other HelmReleases only, hence the Kustomization
# around it). Ready when the HelmRelease is (installed, every hook Job done)
# and every workload the environment renders is: the HelmRelease does not wait
# for them (see release/helmrelease.yaml), so the health checks do.
` + strings.Join(helmInputs, "---\n")),
	}, nil
}

func namespaceKustomization(env Environment, crds []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: philotes-%[1]s-namespace
  namespace: flux-system
spec:
  targetNamespace: %[2]s
  healthChecks:
  - apiVersion: v1
    kind: Namespace
    name: %[2]s
`, env.Name, env.Namespace)
	for _, crd := range crds {
		fmt.Fprintf(&b, "  - apiVersion: apiextensions.k8s.io/v1\n    kind: CustomResourceDefinition\n    name: %s\n", crd)
	}
	return b.String()
}

// workloadHealthChecks lists the environment's Deployments and StatefulSets as
// health check entries, in the order the manifests hold them.
func workloadHealthChecks(env Environment) (string, error) {
	nodes, err := kio.FromBytes(env.Manifests)
	if err != nil {
		return "", fmt.Errorf("%s: %w", env.Name, err)
	}
	var b strings.Builder
	for _, n := range nodes {
		if n.GetApiVersion() != "apps/v1" || (n.GetKind() != "Deployment" && n.GetKind() != "StatefulSet") {
			continue
		}
		fmt.Fprintf(&b, "  - apiVersion: apps/v1\n    kind: %s\n    name: %s\n    namespace: %s\n", n.GetKind(), n.GetName(), env.Namespace)
	}
	return b.String(), nil
}

// customResourceDefinitions names, sorted, the CRD of every custom kind in the
// environment's manifests. Kubernetes' own API groups have no dot or end in
// .k8s.io; a CRD is named <plural>.<group>, and the custom kinds the charts
// render all take the lowercase kind plus "s" (a test compares the names with
// the CRDs themselves).
func customResourceDefinitions(env Environment) ([]string, error) {
	nodes, err := kio.FromBytes(env.Manifests)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", env.Name, err)
	}
	var crds []string
	for _, n := range nodes {
		group, _, hasGroup := strings.Cut(n.GetApiVersion(), "/")
		if !hasGroup || !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io") {
			continue
		}
		crd := strings.ToLower(n.GetKind()) + "s." + group
		if !slices.Contains(crds, crd) {
			crds = append(crds, crd)
		}
	}
	slices.Sort(crds)
	return crds, nil
}
