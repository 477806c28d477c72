package runtime

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/servers"
)

// The bootstrap Job publishes the warehouse id into the ConfigMap the workers read, through the
// real API server with its own ServiceAccount's rights, and the prefix the workers end up with
// is one Lakekeeper accepts. Lakekeeper runs as the contract double.
func TestCatalogBootstrapGivesTheWorkersAPrefixLakekeeperAccepts(t *testing.T) {
	forEachDoor(t, func(t *testing.T, d door) {
		c := cluster.Start(t)
		job := d.job(t, "bootstrap")
		namespace := job.env["NAMESPACE"]
		c.CreateNamespace(t, namespace, nil)
		var rbac manifests.Objects
		for _, kind := range []string{"ServiceAccount", "Role", "RoleBinding"} {
			rbac = append(rbac, d.objects.OfKind(kind)...)
		}
		text, err := manifests.Encode(rbac)
		if err != nil {
			t.Fatal(err)
		}
		c.ApplyManifest(t, string(text))
		account := manifests.String(manifests.PodSpec(d.objects.Find("Job", job.job)), "serviceAccountName")
		identity := c.ServiceAccountIdentity(t, namespace, account)
		catalog := servers.StartLakekeeper(t)
		overrides := map[string]string{
			"LAKEKEEPER_URL":          catalog.URL,
			"KUBERNETES_SERVICE_HOST": identity.Host,
			"KUBERNETES_SERVICE_PORT": identity.Port,
			"SERVICEACCOUNT_DIR":      identity.Dir, // the pod's token mount
		}

		// Without the Job's own account (here the namespace's default one) nothing is published,
		// and the Job says why in one line.
		c.Kubectl(t, "create", "serviceaccount", "no-rights", "--namespace="+namespace)
		unprivileged := c.ServiceAccountIdentity(t, namespace, "no-rights")
		refused := job.run(t, map[string]string{"LAKEKEEPER_URL": catalog.URL, "KUBERNETES_SERVICE_HOST": unprivileged.Host,
			"KUBERNETES_SERVICE_PORT": unprivileged.Port, "SERVICEACCOUNT_DIR": unprivileged.Dir})
		refused.failsWithOneLine(t, "lakekeeper bootstrap: writing the ConfigMap "+namespace+"/"+job.env["WAREHOUSE_CONFIGMAP"]+" answered 403")
		for _, step := range []string{"catalog bootstrapped", "warehouse philotes created ("} {
			if !strings.Contains(refused.stdout, step) {
				t.Errorf("the first run did not report %q:\n%s", step, refused)
			}
		}
		if _, err := c.KubectlErr("get", "configmap", job.env["WAREHOUSE_CONFIGMAP"], "--namespace="+namespace); err == nil {
			t.Errorf("a refused Job left the ConfigMap %s", job.env["WAREHOUSE_CONFIGMAP"])
		}

		first := job.run(t, overrides)
		first.succeeds(t, "catalog already bootstrapped", "warehouse philotes exists (", "published the warehouse id")
		warehouses := catalog.Warehouses()
		if len(warehouses) != 1 || warehouses[0].Name != "philotes" || warehouses[0].AccessKeyID != d.secret(t, "philotes-lakekeeper", "storage-access-key") {
			t.Fatalf("the catalog holds %+v, want the warehouse philotes with the S3 key of the Lakekeeper Secret", warehouses)
		}
		id := warehouses[0].ID
		published := func() string {
			return string(c.Kubectl(t, "get", "configmap", job.env["WAREHOUSE_CONFIGMAP"], "--namespace="+namespace, "--output=jsonpath={.data.warehouse-id}"))
		}
		if got := published(); got != id {
			t.Fatalf("the ConfigMap holds %q, the catalog gave the warehouse %s", got, id)
		}
		job.run(t, overrides).succeeds(t, "catalog already bootstrapped", "warehouse philotes exists ("+id+")", "published the warehouse id "+id)
		if got := published(); got != id || len(catalog.Warehouses()) != 1 {
			t.Errorf("after a second run the ConfigMap holds %q and the catalog %d warehouses, want %s and 1", got, len(catalog.Warehouses()), id)
		}

		// Each worker takes the id from that ConfigMap and sends it verbatim as the prefix.
		for _, worker := range d.objects.OfKind("Deployment") {
			ref := manifests.Lookup(manifests.PodSpec(worker), "containers", "[name=worker]", "env", "[name=PHILOTES_ICEBERG_WAREHOUSE]", "valueFrom", "configMapKeyRef")
			if manifests.String(worker, "metadata", "labels", "app.kubernetes.io/name") != "philotes-worker" {
				continue
			}
			if ref == nil {
				t.Fatalf("%s does not read its warehouse from a ConfigMap", worker.GetName())
			}
			prefix := string(c.Kubectl(t, "get", "configmap", manifests.String(ref, "name"), "--namespace="+namespace,
				"--output=jsonpath={.data."+manifests.String(ref, "key")+"}"))
			if status, body := get(t, catalog.URL+"/catalog/v1/"+prefix+"/namespaces"); status != http.StatusOK {
				t.Errorf("%s's prefix %q: Lakekeeper answers %d %s", worker.GetName(), prefix, status, body)
			}
		}
		// What the workers were configured with before: the name, which Lakekeeper refuses.
		if status, body := get(t, catalog.URL+"/catalog/v1/philotes/namespaces"); status != http.StatusBadRequest || !strings.Contains(body, "PrefixIsNotWarehouseID") {
			t.Errorf("the warehouse name as prefix: %d %s, want 400 PrefixIsNotWarehouseID", status, body)
		}

		// The Job's account may write that one ConfigMap and nothing else.
		for _, forbidden := range []struct{ method, path string }{
			{http.MethodPut, "/api/v1/namespaces/" + namespace + "/configmaps/philotes-worker-demo"},
			{http.MethodGet, "/api/v1/namespaces/" + namespace + "/secrets"},
			{http.MethodPost, "/api/v1/namespaces/kube-system/configmaps"},
		} {
			if status := apiStatus(t, identity, forbidden.method, forbidden.path); status != http.StatusForbidden {
				t.Errorf("%s %s as %s answered %d, want 403", forbidden.method, forbidden.path, account, status)
			}
		}
	})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	response, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(body)
}

// apiStatus sends a request to the API server as the pod identity, with an empty object body.
func apiStatus(t *testing.T, identity cluster.PodIdentity, method, path string) int {
	t.Helper()
	client, token := identity.Client(t)
	request, err := http.NewRequest(method, fmt.Sprintf("https://%s:%s%s", identity.Host, identity.Port, path),
		strings.NewReader(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"philotes-worker-demo"}}`))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Authorization", "Bearer "+token)
	request.Header.Set("Content-Type", "application/json")
	response, err := client.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	return response.StatusCode
}
