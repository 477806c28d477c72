package cluster

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// waitTimeout bounds each wait for a rollout, a Job or a drain. On fake nodes
// they take seconds; the margin is for a loaded CI machine.
const waitTimeout = "3m"

// applyArgs make every apply server-side, as GitOps controllers do, under one
// field manager so that re-applying a newer version is an update, not a conflict.
var applyArgs = []string{"apply", "--server-side", "--field-manager=philotes-e2e"}

// KubectlErr runs the pinned kubectl against the cluster from the repository
// root (so repository paths may be relative) and returns its stdout; the error
// carries stderr.
func (c *Cluster) KubectlErr(args ...string) ([]byte, error) {
	return testenv.RunErr(testenv.RepoRoot(), c.kubectl, c.kubectlArgs(args)...)
}

// kubectlArgs point kubectl at the cluster, with its discovery cache beside it
// rather than in the user's home.
func (c *Cluster) kubectlArgs(args []string) []string {
	return append([]string{"--kubeconfig=" + c.Kubeconfig, "--cache-dir=" + filepath.Join(c.dir, "kubectl-cache")}, args...)
}

// Kubectl is KubectlErr that fails the test on error.
func (c *Cluster) Kubectl(tb testing.TB, args ...string) []byte {
	tb.Helper()
	out, err := c.KubectlErr(args...)
	if err != nil {
		tb.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// Apply server-side applies what the arguments name (--filename, --kustomize).
func (c *Cluster) Apply(tb testing.TB, args ...string) []byte {
	tb.Helper()
	return c.Kubectl(tb, append(slices.Clone(applyArgs), args...)...)
}

// ApplyErr is Apply returning the error, whose text carries every object the
// API server refused and why, for checks of what was refused.
func (c *Cluster) ApplyErr(args ...string) ([]byte, error) {
	return c.KubectlErr(append(slices.Clone(applyArgs), args...)...)
}

// ApplyManifestErr server-side applies YAML text and returns the error instead
// of failing, for checks that a manifest is refused.
func (c *Cluster) ApplyManifestErr(tb testing.TB, manifest string) ([]byte, error) {
	tb.Helper()
	return c.ApplyErr("--filename=" + writeManifest(tb, manifest))
}

// ApplyManifest server-side applies YAML text.
func (c *Cluster) ApplyManifest(tb testing.TB, manifest string) []byte {
	tb.Helper()
	return c.Apply(tb, "--filename="+writeManifest(tb, manifest))
}

func writeManifest(tb testing.TB, manifest string) string {
	tb.Helper()
	file, err := os.CreateTemp(tb.TempDir(), "manifest-*.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	if _, err := file.WriteString(manifest); err != nil {
		tb.Fatal(err)
	}
	return file.Name()
}

// CreateNamespace creates a namespace with labels and deletes it when the test
// ends.
func (c *Cluster) CreateNamespace(tb testing.TB, name string, labels map[string]string) {
	tb.Helper()
	var manifest strings.Builder
	fmt.Fprintf(&manifest, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n", name)
	for _, key := range slices.Sorted(maps.Keys(labels)) {
		fmt.Fprintf(&manifest, "    %s: %q\n", key, labels[key])
	}
	c.UseNamespace(tb, name)
	c.ApplyManifest(tb, manifest.String())
}

// CreateRestrictedNamespace creates a namespace whose Pod Security admission enforces the
// restricted standard, as the deployment's own namespaces do.
func (c *Cluster) CreateRestrictedNamespace(tb testing.TB, name string) {
	tb.Helper()
	c.CreateNamespace(tb, name, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
}

// UseNamespace claims a namespace name for the test, for manifests that create
// the namespace themselves: it waits until an earlier test's namespace of that
// name is gone, and deletes the namespace when this test ends.
func (c *Cluster) UseNamespace(tb testing.TB, name string) {
	tb.Helper()
	// The namespace controller takes five seconds or more to empty a namespace:
	// the next test pays for that only when it reuses the name.
	c.Kubectl(tb, "wait", "--for=delete", "namespace/"+name, "--timeout="+waitTimeout)
	tb.Cleanup(func() {
		// Terminating first, so that no controller recreates the pods removed
		// next: pods of a terminating namespace cannot be evicted, and would hold
		// up a later test's drain until the namespace controller gets to them.
		_, err := c.KubectlErr("delete", "namespace", name, "--ignore-not-found", "--wait=false")
		if err == nil {
			_, err = c.KubectlErr("delete", "pods", "--all", "--namespace="+name, "--force", "--grace-period=0")
		}
		if err != nil {
			tb.Errorf("deleting namespace %s: %v", name, err)
		}
	})
}

// WaitAvailable waits until every Deployment and StatefulSet in the namespace
// has rolled out with all replicas available, and returns their names
// (kind/name) so that callers can check something was there to wait for.
// Workloads a HorizontalPodAutoscaler owns are first given their minimum.
func (c *Cluster) WaitAvailable(tb testing.TB, namespace string) []string {
	tb.Helper()
	targets := c.Kubectl(tb, "get", "horizontalpodautoscalers", "--namespace="+namespace,
		`--output=jsonpath={range .items[*]}{.spec.scaleTargetRef.kind}/{.spec.scaleTargetRef.name} {.spec.minReplicas}{"\n"}{end}`)
	for line := range strings.Lines(string(targets)) {
		target, minReplicas, _ := strings.Cut(strings.TrimSpace(line), " ")
		if minReplicas == "" {
			minReplicas = "1" // its default when unset
		}
		// Without a metrics server the autoscaler cannot compute a load, so it
		// settles exactly on its minimum.
		if _, err := c.KubectlErr("wait", "--for=jsonpath={.spec.replicas}="+minReplicas, strings.ToLower(target),
			"--namespace="+namespace, "--timeout="+waitTimeout); err != nil {
			tb.Fatalf("the autoscaler of %s did not raise it to its %s minimum replicas: %v\n%s", target, minReplicas, err, c.describe(namespace))
		}
	}
	return c.waitEach(tb, namespace, "deployments,statefulsets", "rollout", "status")
}

// WaitJobsComplete waits until every Job in the namespace has completed and
// returns their names (job/name).
func (c *Cluster) WaitJobsComplete(tb testing.TB, namespace string) []string {
	tb.Helper()
	return c.waitEach(tb, namespace, "jobs", "wait", "--for=condition=Complete")
}

// WaitJobsDeleted waits until every Job of the namespace is gone, and returns
// those it waited for.
func (c *Cluster) WaitJobsDeleted(tb testing.TB, namespace string) []string {
	tb.Helper()
	return c.waitEach(tb, namespace, "jobs", "wait", "--for=delete")
}

func (c *Cluster) waitEach(tb testing.TB, namespace, kinds string, wait ...string) []string {
	tb.Helper()
	names := strings.Fields(string(c.Kubectl(tb, "get", kinds, "--namespace="+namespace, "--output=name")))
	for _, name := range names {
		args := append(slices.Clone(wait), name, "--namespace="+namespace, "--timeout="+waitTimeout)
		if _, err := c.KubectlErr(args...); err != nil {
			tb.Fatalf("%s in namespace %s: %v\n%s", name, namespace, err, c.describe(namespace))
		}
	}
	return names
}

// RejectedPods returns the events of controllers that could not create a pod
// in the namespace, such as a Pod Security admission refusal.
func (c *Cluster) RejectedPods(tb testing.TB, namespace string) string {
	tb.Helper()
	return strings.TrimSpace(string(c.Kubectl(tb, "get", "events", "--namespace="+namespace,
		"--field-selector=reason=FailedCreate", "--output=custom-columns=OBJECT:.involvedObject.name,MESSAGE:.message", "--no-headers")))
}

// describe lists the namespace's pods and events, to explain a failed wait.
func (c *Cluster) describe(namespace string) string {
	out, err := c.KubectlErr("get", "pods,events", "--namespace="+namespace, "--output=wide")
	if err != nil {
		return fmt.Sprintf("(listing pods and events failed: %v)", err)
	}
	return string(out)
}

// Drain evicts every pod from a node, respecting PodDisruptionBudgets, and
// makes the node schedulable again when the test ends.
func (c *Cluster) Drain(tb testing.TB, node string) []byte {
	tb.Helper()
	tb.Cleanup(func() {
		if _, err := c.KubectlErr("uncordon", node); err != nil {
			tb.Errorf("uncordoning %s: %v", node, err)
		}
	})
	return c.Kubectl(tb, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout="+waitTimeout)
}

// CRDs are CustomResourceDefinitions in a folder of an operator module that
// ModuleDir locates: the files named in Files, or all of the folder.
type CRDs struct {
	Module, Dir string
	Files       []string
}

var (
	// KEDACRDs define ScaledObject, TriggerAuthentication and the other keda.sh kinds.
	KEDACRDs = CRDs{Module: "github.com/kedacore/keda/v2", Dir: "config/crd/bases"}
	// PrometheusOperatorCRDs define the kinds a workload declares its own
	// monitoring with. The operator's other CRDs (Prometheus, Alertmanager...)
	// are megabytes that would only slow every start down.
	PrometheusOperatorCRDs = CRDs{
		Module: "github.com/prometheus-operator/prometheus-operator",
		Dir:    "example/prometheus-operator-crd",
		Files: []string{
			"monitoring.coreos.com_servicemonitors.yaml",
			"monitoring.coreos.com_podmonitors.yaml",
			"monitoring.coreos.com_prometheusrules.yaml",
		},
	}
	// GatewayAPICRDs define the routes of the Gateway API; the API's HTTPRoute
	// is the one kind the environments render.
	GatewayAPICRDs = CRDs{
		Module: "sigs.k8s.io/gateway-api",
		Dir:    "config/crd/standard",
		Files:  []string{"gateway.networking.k8s.io_httproutes.yaml"},
	}
	// GatewayCRDs and CertManagerCRDs define what the cert-manager examples of
	// docs/examples declare: the Gateway, the issuer and a Certificate.
	GatewayCRDs = CRDs{
		Module: "sigs.k8s.io/gateway-api",
		Dir:    "config/crd/standard",
		Files:  []string{"gateway.networking.k8s.io_gateways.yaml"},
	}
	CertManagerCRDs = CRDs{
		Module: "github.com/cert-manager/cert-manager",
		Dir:    "deploy/crds",
		Files:  []string{"cert-manager.io_certificates.yaml", "cert-manager.io_clusterissuers.yaml"},
	}
	// ExternalSecretsCRDs define the ExternalSecret the charts render when
	// global.externalSecrets is on.
	ExternalSecretsCRDs = CRDs{
		Module: "github.com/external-secrets/external-secrets",
		Dir:    "config/crds/bases",
		Files:  []string{"external-secrets.io_externalsecrets.yaml"},
	}
	// PlatformCRDs are the CRDs of every custom kind the environments render,
	// which the platform under them installs.
	PlatformCRDs = []CRDs{KEDACRDs, PrometheusOperatorCRDs, GatewayAPICRDs}
)

// InstallCRDs applies the CRDs from the module cache, once per cluster, and
// waits until the API server serves them. It returns the CRDs' names.
func (c *Cluster) InstallCRDs(tb testing.TB, sets ...CRDs) []string {
	tb.Helper()
	c.crdMutex.Lock()
	defer c.crdMutex.Unlock()
	var names []string
	for _, set := range sets {
		key := set.Module + "/" + set.Dir + fmt.Sprint(set.Files)
		if installed, ok := c.installedCRDs[key]; ok {
			names = append(names, installed...)
			continue
		}
		module := ModuleDir(tb, set.Module)
		files := []string{"--filename=" + filepath.Join(module, set.Dir)}
		if len(set.Files) > 0 {
			files = files[:0]
			for _, file := range set.Files {
				files = append(files, "--filename="+filepath.Join(module, set.Dir, file))
			}
		}
		// Server-side: the largest CRDs exceed the annotation size limit of a
		// client-side apply.
		installed := strings.Fields(string(c.Apply(tb, append(files, "--output=name")...)))
		if len(installed) == 0 {
			tb.Fatalf("no CRDs found in %s/%s", module, set.Dir)
		}
		c.waitEstablished(tb, installed)
		if c.installedCRDs == nil {
			c.installedCRDs = map[string][]string{}
		}
		c.installedCRDs[key] = installed
		names = append(names, installed...)
	}
	return names
}

// waitEstablished waits until the CRDs are served. kubectl wait fails at once,
// instead of waiting, on a CRD whose status has no conditions yet (which is
// how a CRD starts), so the wait is retried until its own deadline.
func (c *Cluster) waitEstablished(tb testing.TB, crds []string) {
	tb.Helper()
	deadline := time.Now().Add(crdWaitTimeout)
	for {
		_, err := c.KubectlErr(append([]string{"wait", "--for=condition=Established", "--timeout=" + waitTimeout}, crds...)...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("CRDs not established: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const crdWaitTimeout = time.Minute
