package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// certManagerExamples are the manifests the chart README points to for TLS.
const certManagerExamples = "docs/examples/cert-manager"

// listener is the part of a Gateway listener the examples are checked on.
type listener struct {
	Name, Hostname string
	AllowedRoutes  struct {
		Namespaces struct {
			Selector struct {
				MatchExpressions []struct{ Values []string }
			}
		}
	} `json:"allowedRoutes"`
}

// TestTheCertManagerExamplesAreValidAndMatchProductionsRoute applies the
// documented Gateway, ClusterIssuer and Certificate to the API server with the
// CRDs of the pinned Gateway API and cert-manager modules (no controller runs
// here), and checks that the Gateway is the one production's HTTPRoute attaches
// to, for production's host name, with the issuer the annotation names.
func TestTheCertManagerExamplesAreValidAndMatchProductionsRoute(t *testing.T) {
	c := shared.Cluster(t)
	c.InstallCRDs(t, cluster.GatewayCRDs, cluster.CertManagerCRDs)
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), certManagerExamples, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example under %s (%v)", certManagerExamples, err)
	}
	objects := map[string]*yaml.RNode{}
	var applied []*yaml.RNode
	// The examples' namespaces, renamed so that they meet no environment the other tests install.
	renamed := map[string]string{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := kio.FromBytes(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, n := range nodes {
			objects[n.GetKind()] = n
			if ns := n.GetNamespace(); ns != "" {
				if renamed[ns] == "" {
					renamed[ns] = "example-" + ns
					c.CreateNamespace(t, renamed[ns], nil)
				}
				copied := n.Copy()
				if err := copied.SetNamespace(renamed[ns]); err != nil {
					t.Fatal(err)
				}
				applied = append(applied, copied)
			} else {
				applied = append(applied, n)
			}
		}
	}
	manifest, err := kio.StringAll(applied)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.ApplyManifestErr(t, manifest); err != nil {
		t.Fatalf("the API server refuses the examples of %s: %v\n%s", certManagerExamples, err, out)
	}

	var production struct {
		API struct {
			HTTPRoute struct {
				ParentRefs []struct{ Name, Namespace, SectionName string } `json:"parentRefs"`
				Hostnames  []string                                        `json:"hostnames"`
			} `json:"httpRoute"`
		} `json:"api"`
	}
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "charts", "philotes", "values-production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &production); err != nil {
		t.Fatal(err)
	}
	gateway, issuer := objects["Gateway"], objects["ClusterIssuer"]
	if gateway == nil || issuer == nil || objects["Certificate"] == nil {
		t.Fatalf("%s must hold a Gateway, a ClusterIssuer and a Certificate", certManagerExamples)
	}
	var listeners []listener
	testenv.Decode(t, gateway, &listeners, "spec", "listeners")
	for _, ref := range production.API.HTTPRoute.ParentRefs {
		if ref.Name != gateway.GetName() || ref.Namespace != gateway.GetNamespace() {
			t.Errorf("production's HTTPRoute attaches to %s/%s, the example Gateway is %s/%s", ref.Namespace, ref.Name, gateway.GetNamespace(), gateway.GetName())
		}
		i := slices.IndexFunc(listeners, func(l listener) bool { return l.Name == ref.SectionName })
		if i < 0 {
			t.Errorf("the example Gateway has no listener %q, which production's HTTPRoute attaches to", ref.SectionName)
			continue
		}
		if !slices.Contains(production.API.HTTPRoute.Hostnames, listeners[i].Hostname) {
			t.Errorf("listener %s serves %q, not one of production's host names %v", ref.SectionName, listeners[i].Hostname, production.API.HTTPRoute.Hostnames)
		}
		var admitted []string
		for _, e := range listeners[i].AllowedRoutes.Namespaces.Selector.MatchExpressions {
			admitted = append(admitted, e.Values...)
		}
		if !slices.Contains(admitted, testenv.Namespace(t, "production")) {
			t.Errorf("listener %s admits routes from %v, not from production's namespace", ref.SectionName, admitted)
		}
	}
	if annotation := gateway.GetAnnotations()["cert-manager.io/cluster-issuer"]; annotation != issuer.GetName() {
		t.Errorf("the Gateway asks cert-manager for issuer %q, the example ClusterIssuer is %q", annotation, issuer.GetName())
	}
	if ref := strings.TrimSpace(objects["Certificate"].MustString()); !strings.Contains(ref, "name: "+issuer.GetName()) {
		t.Errorf("the example Certificate does not name the ClusterIssuer %s", issuer.GetName())
	}
}
