package charts_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
)

// The migration pods must not look like server pods: the Service would route to them
// and the server's PodDisruptionBudget would count them.
func TestLakekeeperMigrationPodsAreNotServerPods(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		objects := environment("staging").objects(t, helm)
		server := manifests.StringMap(objects.Find("Deployment", "philotes-lakekeeper"), "spec", "selector", "matchLabels")
		job := jobOf(t, objects, "migrate")
		labels := manifests.StringMap(job, "spec", "template", "metadata", "labels")
		matches := true
		for key, value := range server {
			matches = matches && labels[key] == value
		}
		if matches {
			t.Errorf("migration pod labels %v match the server selector %v", labels, server)
		}
		if args := manifests.String(job, "spec", "template", "spec", "containers", "[name=migrate]", "args", "[=migrate]"); args != "migrate" {
			t.Errorf("%s does not run `migrate`", job.GetName())
		}
	})
}

// The bootstrap Job reaches Lakekeeper through the default deny only if the server lets it in,
// and it creates the warehouse the workers write to, on the store they write to.
func TestLakekeeperBootstrapCreatesTheWorkersWarehouse(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := environment(env).objects(t, helm)
		job := jobOf(t, objects, "bootstrap")
		vars := containerEnv(t, job)
		var request struct {
			Name    string `json:"warehouse-name"`
			Profile struct {
				Type, Bucket, Endpoint, Flavor string
				KeyPrefix                      string `json:"key-prefix"`
				STS                            bool   `json:"sts-enabled"`
			} `json:"storage-profile"`
		}
		if err := json.Unmarshal([]byte(vars["WAREHOUSE_REQUEST"]), &request); err != nil {
			t.Fatalf("WAREHOUSE_REQUEST %q: %v", vars["WAREHOUSE_REQUEST"], err)
		}
		for _, worker := range deploymentsOf(objects, "philotes-worker") {
			config := manifests.StringMap(objects.Find("ConfigMap", worker.GetName()), "data")
			if request.Name != vars["WAREHOUSE_NAME"] || request.Profile.Bucket != config["PHILOTES_STORAGE_BUCKET"] {
				t.Errorf("the bootstrap creates warehouse %q (looked up as %q) on bucket %q, %s writes to bucket %q", request.Name,
					vars["WAREHOUSE_NAME"], request.Profile.Bucket, worker.GetName(), config["PHILOTES_STORAGE_BUCKET"])
			}
			// Lakekeeper takes the warehouse id as the catalog prefix, never the name: the worker
			// reads the id the Job publishes, and waits for it (a required reference).
			if name, ok := config["PHILOTES_ICEBERG_WAREHOUSE"]; ok {
				t.Errorf("%s's ConfigMap sets PHILOTES_ICEBERG_WAREHOUSE=%q: the id comes from the bootstrap Job", worker.GetName(), name)
			}
			ref := manifests.Lookup(manifests.PodSpec(worker), "containers", "[name=worker]", "env", "[name=PHILOTES_ICEBERG_WAREHOUSE]", "valueFrom", "configMapKeyRef")
			if got := manifests.String(ref, "name") + "/" + manifests.String(ref, "key") + " optional=" + manifests.String(ref, "optional"); got != vars["WAREHOUSE_CONFIGMAP"]+"/warehouse-id optional=false" {
				t.Errorf("%s reads the warehouse from %s, the bootstrap Job publishes it in %s/warehouse-id", worker.GetName(), got, vars["WAREHOUSE_CONFIGMAP"])
			}
			scheme := map[string]string{"true": "https://", "false": "http://"}[config["PHILOTES_STORAGE_USE_SSL"]]
			if request.Profile.Endpoint != scheme+config["PHILOTES_STORAGE_ENDPOINT"] {
				t.Errorf("the warehouse's endpoint %q is not the store %s writes to (%s%s)", request.Profile.Endpoint, worker.GetName(), scheme, config["PHILOTES_STORAGE_ENDPOINT"])
			}
		}
		if request.Profile.Type != "s3" || request.Profile.STS {
			t.Errorf("storage profile %+v: want s3 with static keys", request.Profile)
		}
		if refs := secretRefs(t, manifests.PodSpec(job)); len(refs) != 1 || refs[0] != secretOf(t, objects, "philotes-lakekeeper") {
			t.Errorf("%s reads the S3 keys from %v, want Lakekeeper's Secret", job.GetName(), refs)
		}
		if !environmentTable[env].networkPolicy {
			return
		}
		var network struct {
			Ingress []struct {
				Port int
				From []struct{ Pods map[string]string }
			}
		}
		lakekeeper := objects.Find("Deployment", "philotes-lakekeeper")
		if err := json.Unmarshal([]byte(lakekeeper.GetAnnotations()["guardrails.philotes.io/network"]), &network); err != nil {
			t.Fatal(err)
		}
		jobPods := manifests.StringMap(job, "spec", "template", "metadata", "labels")
		admitted := false
		for _, rule := range network.Ingress {
			for _, from := range rule.From {
				admitted = admitted || (rule.Port == 8181 && len(from.Pods) > 0 && selects(from.Pods, jobPods))
			}
		}
		if !admitted {
			t.Errorf("Lakekeeper's ingress %+v does not admit the bootstrap pods %v on 8181", network.Ingress, jobPods)
		}
	})
}

func TestLakekeeperBootstrapValuesThatCannotWorkAreRefused(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		environment("dev").with("lakekeeper.config.openidProviderUri=https://idp.example.com").
			expectRefusal(t, helm, "philotes-lakekeeper: bootstrap.enabled needs a catalog without authentication")
		environment("staging").with("lakekeeper.bootstrap.warehouse.storage.endpoint=s3.example.com:443").
			expectRefusal(t, helm, `bootstrap.warehouse.storage.endpoint "s3.example.com:443" is not an S3 endpoint URL`)
		environment("dev").with("lakekeeper.secrets.storageSecretKey=").
			expectRefusal(t, helm, "philotes-lakekeeper: secrets.storageSecretKey is empty")
		if jobs := environment("dev").with("lakekeeper.bootstrap.enabled=false").objects(t, helm).OfKind("Job"); len(jobsOf(jobs, "bootstrap")) != 0 {
			t.Errorf("bootstrap.enabled=false still renders %v", jobs.Names())
		}
	})
}

// The bootstrap Job's ServiceAccount may create ConfigMaps and read and update the warehouse
// ConfigMap by name: nothing else, and no other pod gets a token.
func TestBootstrapJobMayWriteOnlyTheWarehouseConfigMap(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := environment(env).objects(t, helm)
		job := jobOf(t, objects, "bootstrap")
		account := manifests.String(manifests.PodSpec(job), "serviceAccountName")
		configMap := containerEnv(t, job)["WAREHOUSE_CONFIGMAP"]
		binding := objects.Find("RoleBinding", account)
		if binding == nil || manifests.String(binding, "roleRef", "name") != account ||
			manifests.String(binding, "subjects", "[name="+account+"]", "kind") != "ServiceAccount" {
			t.Fatalf("the bootstrap Job runs as %q, which no RoleBinding of its own binds: %v", account, objects.IDs())
		}
		var rules []struct{ APIGroups, Resources, ResourceNames, Verbs []string }
		if err := manifests.Decode(objects.Find("Role", account), &rules, "rules"); err != nil {
			t.Fatalf("Role %s: %v", account, err)
		}
		var got []string
		for _, rule := range rules {
			got = append(got, strings.Join([]string{strings.Join(rule.APIGroups, ","), strings.Join(rule.Resources, ","),
				strings.Join(rule.ResourceNames, ","), strings.Join(rule.Verbs, ",")}, "|"))
		}
		want := []string{"|configmaps||create", "|configmaps|" + configMap + "|get,update"}
		if !slices.Equal(got, want) {
			t.Errorf("Role %s rules = %v, want %v", account, got, want)
		}
	})
}
