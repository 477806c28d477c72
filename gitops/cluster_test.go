package gitops_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// The Argo CD and Flux releases pinned in tools/crds/go.mod. Argo CD's CRD
// folder also holds a kustomization.yaml, which is no manifest, so its CRDs are
// named file by file.
const argoCDModule = "github.com/argoproj/argo-cd/v3"

var gitOpsCRDs = append([]cluster.CRDs{
	{Module: argoCDModule, Dir: "manifests/crds/application-crd.yaml"},
	{Module: argoCDModule, Dir: "manifests/crds/applicationset-crd.yaml"},
	{Module: argoCDModule, Dir: "manifests/crds/appproject-crd.yaml"},
	// The custom kinds the environments render, for the CRD health checks.
}, cluster.PlatformCRDs...)

// The namespaces Argo CD and Flux are installed into, where their objects live.
var controllerNamespaces = []string{"argocd", "flux-system"}

func TestEveryGitOpsManifestIsAcceptedByAClusterWithTheArgoCDAndFluxCRDs(t *testing.T) {
	c := cluster.Start(t)
	c.InstallCRDs(t, append(gitOpsCRDs, cluster.FluxCRDs...)...)
	for _, namespace := range controllerNamespaces {
		c.CreateNamespace(t, namespace, nil)
	}
	for _, door := range doors {
		t.Run(door, func(t *testing.T) {
			dryRunApply(t, c, manifestsText(t, build(t, door)))
		})
	}
	t.Run("Flux HelmReleases as substituted", func(t *testing.T) {
		for _, r := range fluxHelmReleases(t) {
			dryRunApply(t, c, r.Manifest)
		}
	})
	t.Run("Argo CD installation with "+repoServerComponent, func(t *testing.T) {
		dryRunApply(t, c, manifestsText(t, build(t, argoCDInstallation(t))))
	})
	t.Run("Flux health checks name the CRD of every custom kind rendered", func(t *testing.T) {
		checkCRDHealthChecks(t, c)
	})
}

// dryRunApply has the API server validate manifests against the installed
// schemas and admission without persisting them.
func dryRunApply(t *testing.T, c *cluster.Cluster, manifests string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "manifests.yaml")
	if err := os.WriteFile(file, []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Kubectl(t, "apply", "--server-side", "--dry-run=server", "--field-manager=philotes-gitops", "--filename="+file)
}

// argoCDInstallation is a kustomization that installs the pinned Argo CD with
// the repo-server component, the way docs/gitops.md tells operators to.
func argoCDInstallation(t *testing.T) string {
	t.Helper()
	install, err := os.ReadFile(filepath.Join(cluster.ModuleDir(t, argoCDModule), "manifests", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "install.yaml"), install, 0o644); err != nil {
		t.Fatal(err)
	}
	component, err := filepath.Rel(dir, filepath.Join(root, repoServerComponent))
	if err != nil {
		t.Fatal(err)
	}
	writeKustomization(t, dir, map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"namespace":  "argocd",
		"resources":  []string{"install.yaml"},
		"components": []string{component},
	})
	return dir
}

// checkCRDHealthChecks: each namespace Kustomization health-checks exactly the
// CRDs that serve the custom kinds in its environment's rendered manifests, so
// the app waits for them instead of failing its dry run.
func checkCRDHealthChecks(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	crdOf := map[groupKind]string{}
	listing := c.Kubectl(t, "get", "customresourcedefinitions", "--output=jsonpath={range .items[*]}{.spec.group} {.spec.names.kind} {.metadata.name}{\"\\n\"}{end}")
	for line := range strings.Lines(string(listing)) {
		fields := strings.Fields(line)
		if len(fields) == 3 {
			crdOf[groupKind{Group: fields[0], Kind: fields[1]}] = fields[2]
		}
	}
	namespaces := overlayNamespaces(t)
	for _, door := range fluxDoors {
		all := fluxKustomizations(t, door)
		for _, env := range testenv.Environments(t) {
			var want []string
			for _, n := range rendered(t, env) {
				gk := groupKind{Group: apiGroup(n.GetApiVersion()), Kind: n.GetKind()}
				if crd, ok := crdOf[gk]; ok {
					want = append(want, crd)
				} else if strings.Contains(gk.Group, ".") && !strings.HasSuffix(gk.Group, ".k8s.io") {
					t.Errorf("rendered/%s holds %s %s, whose CRD this test does not install", env, gk.Kind, gk.Group)
				}
			}
			slices.Sort(want)
			want = slices.Compact(want)
			checked := 0
			for _, k := range all {
				if filepath.Clean(k.Spec.Path) != "base/namespace" || k.Spec.TargetNamespace != namespaces[env] {
					continue
				}
				checked++
				var got []string
				for _, check := range k.Spec.HealthChecks {
					if check.Kind == "CustomResourceDefinition" {
						got = append(got, check.Name)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: Kustomization %s health-checks CRDs %v, want those of the custom kinds in rendered/%s: %v", door, k.Metadata.Name, got, env, want)
				}
			}
			if checked != 1 {
				t.Errorf("%s: %d Kustomizations apply base/namespace into %s, want one", door, checked, namespaces[env])
			}
		}
	}
}

// The Flux controllers the tests run are the releases whose CRDs the tests install.
func TestTheFluxControllersAreTheReleasesOfTheirCRDs(t *testing.T) {
	for tool, module := range map[string]string{
		"flux-source-controller":    "github.com/fluxcd/source-controller",
		"flux-kustomize-controller": "github.com/fluxcd/kustomize-controller",
		"flux-helm-controller":      "github.com/fluxcd/helm-controller",
	} {
		if run, crds := pinnedVersion(t, tool, module), pinnedVersion(t, "crds", module); run != crds {
			t.Errorf("tools/%s/go.mod runs %s %s, tools/crds/go.mod installs the CRDs of %s", tool, module, run, crds)
		}
	}
}
