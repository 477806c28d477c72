// Tests of the harness itself: the control plane the other tests install into is the pinned
// release, serves the operators' CRDs, enforces Pod Security and drains like a real one.
package cluster_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
)

func TestKubectlAndTheAPIServerReportTheSamePinnedRelease(t *testing.T) {
	c := shared.Cluster(t)
	var versions struct {
		ClientVersion, ServerVersion struct{ GitVersion, Major, Minor string }
	}
	if err := json.Unmarshal(c.Kubectl(t, "version", "--output=json"), &versions); err != nil {
		t.Fatal(err)
	}
	client, server := versions.ClientVersion, versions.ServerVersion
	if client != server {
		t.Errorf("kubectl is %+v but the API server is %+v: both come from tools/kube and must match", client, server)
	}
	if !strings.HasPrefix(server.GitVersion, "v1.") || strings.Contains(server.GitVersion, "master") || server.Major != "1" || server.Minor == "" {
		t.Errorf("the API server reports %+v: the release stamp of `make cluster-tools` is missing", server)
	}
}

func TestOperatorCRDsFromThePinnedModulesServeAndValidateTheirKinds(t *testing.T) {
	c := shared.Cluster(t)
	installed := c.InstallCRDs(t, cluster.PlatformCRDs...)
	for _, crd := range []string{"scaledobjects.keda.sh", "triggerauthentications.keda.sh", "servicemonitors.monitoring.coreos.com", "httproutes.gateway.networking.k8s.io"} {
		if !slices.Contains(installed, "customresourcedefinition.apiextensions.k8s.io/"+crd) {
			t.Errorf("CRD %s was not installed; installed: %v", crd, installed)
		}
	}
	const namespace = "crd-check"
	c.CreateNamespace(t, namespace, nil)
	c.ApplyManifest(t, `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: api
  namespace: crd-check
spec:
  selector:
    matchLabels:
      app: api
  endpoints:
  - port: http
`)
	// A ScaledObject without its required scaleTargetRef must be refused, which
	// proves the CRD's schema is enforced and not merely stored.
	out, err := c.ApplyManifestErr(t, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
  namespace: crd-check
spec:
  maxReplicaCount: 1
`)
	if err == nil || !strings.Contains(err.Error(), "scaleTargetRef") {
		t.Errorf("a ScaledObject without scaleTargetRef was not refused for it: %v\n%s", err, out)
	}
	// The Gateway API's CRD validates its routes too: a path match must start with /.
	out, err = c.ApplyManifestErr(t, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: api
  namespace: crd-check
spec:
  parentRefs:
  - name: public
  rules:
  - matches:
    - path: {type: PathPrefix, value: api}
`)
	if err == nil || !strings.Contains(err.Error(), "path") {
		t.Errorf("an HTTPRoute with a relative path was not refused: %v\n%s", err, out)
	}
}

// restrictedPodSpec is the body of a pod template's spec that meets Pod
// Security "restricted", indented for spec.template.spec.
const restrictedPodSpec = `      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop: [ALL]
`

// restrictedDeployment spreads one replica per zone; it honours node taints so
// that a cordoned node's zone does not block rescheduling during a drain.
func restrictedDeployment(namespace, name string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  replicas: %[3]d
  selector:
    matchLabels:
      app: %[2]s
  template:
    metadata:
      labels:
        app: %[2]s
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        nodeTaintsPolicy: Honor
        labelSelector:
          matchLabels:
            app: %[2]s
`, namespace, name, replicas) + restrictedPodSpec
}

func TestARestrictedNamespaceRunsCompliantWorkloadsAndRejectsAnUnconfinedPod(t *testing.T) {
	c := shared.Cluster(t)
	const namespace = "psa-restricted"
	c.CreateRestrictedNamespace(t, namespace)
	c.ApplyManifest(t, restrictedDeployment(namespace, "web", 3)+`---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: psa-restricted
spec:
  template:
    spec:
      restartPolicy: Never
`+restrictedPodSpec)
	if available := c.WaitAvailable(t, namespace); !slices.Equal(available, []string{"deployment.apps/web"}) {
		t.Errorf("waited for %v, want the web Deployment", available)
	}
	if completed := c.WaitJobsComplete(t, namespace); !slices.Equal(completed, []string{"job.batch/migrate"}) {
		t.Errorf("waited for %v, want the migrate Job", completed)
	}
	nodes := strings.Fields(string(c.Kubectl(t, "get", "pods", "--namespace="+namespace, "--selector=app=web",
		"--output=jsonpath={.items[*].spec.nodeName}")))
	slices.Sort(nodes)
	if want := c.Nodes; !slices.Equal(nodes, want) {
		t.Errorf("web replicas run on %v, want one on each of %v", nodes, want)
	}

	// Allowed by the baseline level, so only "restricted" can refuse it.
	out, err := c.ApplyManifestErr(t, `apiVersion: v1
kind: Pod
metadata:
  name: unconfined
  namespace: psa-restricted
spec:
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
`)
	if err == nil || !strings.Contains(err.Error(), `violates PodSecurity "restricted:`) {
		t.Errorf("a pod without a restricted security context was not rejected by Pod Security admission: %v\n%s", err, out)
	}
}

func TestDrainingANodeReschedulesItsPodsOntoTheOtherZones(t *testing.T) {
	c := shared.Cluster(t)
	const namespace = "drain"
	c.CreateRestrictedNamespace(t, namespace)
	c.ApplyManifest(t, restrictedDeployment(namespace, "web", 3)+`---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: drain
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: web
`)
	c.WaitAvailable(t, namespace)
	drained := c.Nodes[0]
	out := c.Drain(t, drained)
	if !strings.Contains(string(out), "evicted") || !strings.Contains(string(out), "drained") {
		t.Errorf("kubectl drain %s evicted nothing:\n%s", drained, out)
	}
	c.WaitAvailable(t, namespace)
	nodes := strings.Fields(string(c.Kubectl(t, "get", "pods", "--namespace="+namespace, "--selector=app=web",
		"--field-selector=status.phase=Running", "--output=jsonpath={.items[*].spec.nodeName}")))
	if len(nodes) != 3 || slices.Contains(nodes, drained) {
		t.Errorf("after draining %s the web pods run on %v, want 3 pods on the other nodes", drained, nodes)
	}
}

// shared is one cluster for the harness tests, started by the first that needs it.
var shared cluster.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}
