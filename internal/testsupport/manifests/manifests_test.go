package manifests_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
)

// helmOutput looks like `helm template`: source comments, a template that
// rendered nothing, and a label key with dots.
const helmOutput = `---
# Source: demo/templates/empty.yaml
---
# Source: demo/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
  namespace: apps
  labels:
    app.kubernetes.io/name: demo
data:
  LEVEL: info
---
# Source: demo/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
  namespace: apps
spec:
  replicas: 2
  template:
    spec:
      initContainers:
        - name: init
      containers:
        - name: app
          image: demo:1.0.0
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: demo
`

func TestParseSkipsEmptyDocumentsAndKeepsOrder(t *testing.T) {
	objects, err := manifests.Parse([]byte(helmOutput))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, o := range objects {
		got = append(got, manifests.ID(o))
	}
	want := []string{"ConfigMap/demo", "Deployment/demo", "ClusterRole/demo"}
	if !slices.Equal(got, want) {
		t.Fatalf("objects = %v, want %v", got, want)
	}
}

func TestParseRefusesADocumentThatIsNotAnObject(t *testing.T) {
	_, err := manifests.Parse([]byte("apiVersion: v1\nkind: ConfigMap\n---\nfoo: bar\n"))
	if err == nil || !strings.Contains(err.Error(), "document 2") {
		t.Fatalf("error = %v, want one naming document 2", err)
	}
}

func TestParseReportsInvalidYAML(t *testing.T) {
	if _, err := manifests.Parse([]byte("kind: [unclosed\n")); err == nil {
		t.Fatal("invalid YAML parsed without an error")
	}
}

func TestQueriesFindObjectsByKindAndName(t *testing.T) {
	objects, err := manifests.Parse([]byte(helmOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got := objects.OfKind("Deployment").Names(); !slices.Equal(got, []string{"demo"}) {
		t.Errorf("OfKind(Deployment) = %v", got)
	}
	if objects.Find("Deployment", "other") != nil {
		t.Error("Find returned an object for a name that does not exist")
	}
	deployment := objects.Find("Deployment", "demo")
	if deployment == nil {
		t.Fatal("Find(Deployment, demo) = nil")
	}
	if got := manifests.String(deployment, "spec", "replicas"); got != "2" {
		t.Errorf("spec.replicas = %q, want 2", got)
	}
	if got := manifests.String(deployment, "spec", "missing"); got != "" {
		t.Errorf("a missing field = %q, want empty", got)
	}
	labels := manifests.StringMap(objects.Find("ConfigMap", "demo"), "metadata", "labels")
	if labels["app.kubernetes.io/name"] != "demo" {
		t.Errorf("labels = %v: a key with dots was not read whole", labels)
	}
	if got := objects.IDs(); !slices.Equal(got, []string{"ClusterRole/demo", "ConfigMap/demo", "Deployment/demo"}) {
		t.Errorf("IDs = %v, want them sorted", got)
	}
}

func TestPodSpecAndContainersOfAWorkload(t *testing.T) {
	objects, err := manifests.Parse([]byte(helmOutput))
	if err != nil {
		t.Fatal(err)
	}
	spec := manifests.PodSpec(objects.Find("Deployment", "demo"))
	var names []string
	for _, c := range manifests.Containers(spec) {
		names = append(names, manifests.String(c, "name"))
	}
	if !slices.Equal(names, []string{"init", "app"}) {
		t.Errorf("containers = %v, want init then app", names)
	}
	if manifests.PodSpec(objects.Find("ConfigMap", "demo")) != nil {
		t.Error("a ConfigMap has no pod spec")
	}
}

func TestDecodeReadsJSONFieldNames(t *testing.T) {
	objects, err := manifests.Parse([]byte(helmOutput))
	if err != nil {
		t.Fatal(err)
	}
	var containers []struct {
		Name  string `json:"name"`
		Image string `json:"image"`
	}
	if err := manifests.Decode(objects.Find("Deployment", "demo"), &containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	if len(containers) != 1 || containers[0].Image != "demo:1.0.0" {
		t.Errorf("containers = %+v", containers)
	}
	if err := manifests.Decode(objects.Find("Deployment", "demo"), &containers, "spec", "nothing"); err == nil {
		t.Error("decoding a missing field gave no error")
	}
}

func TestNamespacedKnowsClusterScopedKinds(t *testing.T) {
	for kind, want := range map[string]bool{"Deployment": true, "ScaledObject": true, "ClusterRole": false, "Namespace": false} {
		if got := manifests.Namespaced(kind); got != want {
			t.Errorf("Namespaced(%s) = %v, want %v", kind, got, want)
		}
	}
}

func TestEncodeRoundTrips(t *testing.T) {
	objects, err := manifests.Parse([]byte(helmOutput))
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := manifests.Encode(objects)
	if err != nil {
		t.Fatal(err)
	}
	again, err := manifests.Parse(encoded)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.IDs(), objects.IDs()) {
		t.Errorf("after a round trip: %v, want %v", again.IDs(), objects.IDs())
	}
	if strings.Contains(string(encoded), "config.kubernetes.io") {
		t.Errorf("encoded output carries reader annotations:\n%s", encoded)
	}
}
