package charts_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
)

// PostgreSQL lets one consumer read a replication slot: a second worker exits, and a
// rolling update or an HPA would start one.
func TestWorkerDeploymentsAreSingletonsWithRecreate(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		for _, hpa := range objects.OfKind("HorizontalPodAutoscaler") {
			if target := manifests.String(hpa, "spec", "scaleTargetRef", "name"); strings.HasPrefix(target, "philotes-worker") {
				t.Errorf("HPA %s scales the worker %s", hpa.GetName(), target)
			}
		}
		for _, d := range deploymentsOf(objects, "philotes-worker") {
			if got := manifests.String(d, "spec", "strategy", "type"); got != "Recreate" {
				t.Errorf("%s strategy = %q, want Recreate", d.GetName(), got)
			}
			source := manifests.String(d, "spec", "selector", "matchLabels", "philotes.io/source")
			if d.GetName() != "philotes-worker-"+source {
				t.Errorf("%s selects source %q: one Deployment per source, named after it", d.GetName(), source)
			}
			replicas := manifests.String(d, "spec", "replicas")
			scaler := objects.Find("ScaledObject", d.GetName())
			switch {
			case scaler == nil && replicas != "1":
				t.Errorf("%s replicas = %q, want 1", d.GetName(), replicas)
			case scaler != nil && replicas != "":
				t.Errorf("%s sets replicas %s although KEDA owns them", d.GetName(), replicas)
			case scaler != nil && manifests.String(scaler, "spec", "maxReplicaCount") != "1":
				t.Errorf("ScaledObject %s maxReplicaCount = %s, want 1", scaler.GetName(), manifests.String(scaler, "spec", "maxReplicaCount"))
			}
		}
	})
}

func TestValuesThatStartTwoConsumersOfOneSlotAreRefused(t *testing.T) {
	twoSources := []string{"worker.sources[1].name=orders", "worker.sources[1].database=orders", "worker.sources[1].user=u", "worker.sources[1].password=p"}
	cases := map[string]struct {
		set       []string
		fragments []string
	}{
		"two replicas": {[]string{"worker.replicaCount=2"}, []string{"replicaCount 2 is not allowed"}},
		"an HPA":       {[]string{"worker.autoscaling.enabled=true"}, []string{"autoscaling.enabled is not allowed"}},
		"a source name used twice": {
			append(twoSources, "worker.sources[1].name=demo"), []string{`sources[1].name "demo" is used twice`}},
		// Philotes 0.1.x keys checkpoints and buffer rows by the database name, on any host.
		"two sources of one database name": {
			append(twoSources, "worker.sources[1].database=demo", "worker.sources[1].host=other-db"),
			[]string{`sources[1].database "demo" is also the database of sources[0]`, "postgres-<database>"}},
		"two sources listing one table": {
			append(twoSources, "worker.sources[0].tables[0]=public.items", "worker.sources[1].tables[0]=public.items"),
			[]string{"sources[1].tables lists public.items, as sources[0] does"}},
		"two sources on one slot": {
			append(twoSources, "worker.sources[1].database=demo", "worker.sources[1].slot=philotes_demo"),
			[]string{"sources[1] reads philotes-postgresql:5432 slot philotes_demo, as sources[0] does"}},
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		if objects := environment("dev").with(twoSources...).objects(t, helm); len(deploymentsOf(objects, "philotes-worker")) != 2 {
			t.Fatalf("two distinct sources should give two workers: %v", objects.IDs())
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				environment("dev").with(c.set...).expectRefusal(t, helm, c.fragments...)
			})
		}
	})
}

func TestWorkerEnvironmentFollowsTheRuntimeContract(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := environment(env).objects(t, helm)
		workers := deploymentsOf(objects, "philotes-worker")
		if len(workers) == 0 {
			t.Fatalf("%s runs no worker", env)
		}
		for _, d := range workers {
			config := manifests.StringMap(objects.Find("ConfigMap", d.GetName()), "data")
			// Its built-in default port is 5433, not PostgreSQL's.
			if config["PHILOTES_CDC_SOURCE_PORT"] == "" {
				t.Errorf("%s: PHILOTES_CDC_SOURCE_PORT is not set", d.GetName())
			}
			if config["PHILOTES_CDC_PUBLICATION"] == "" {
				t.Errorf("%s: PHILOTES_CDC_PUBLICATION is empty", d.GetName())
			}
			if endpoint := config["PHILOTES_STORAGE_ENDPOINT"]; endpoint == "" || strings.Contains(endpoint, "://") {
				t.Errorf("%s: PHILOTES_STORAGE_ENDPOINT = %q, want host:port", d.GetName(), endpoint)
			}
		}
	})
}

func TestWorkerStorageEndpointWithASchemeIsRefused(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		environment("dev").with("worker.storage.endpoint=https://s3.example.com:443").
			expectRefusal(t, helm, "storage.endpoint", "has a scheme")
	})
}

// The ScaledObject and TriggerAuthentication must match what the guardrail function
// builds from the scaling annotation.
func TestKedaObjectsFollowTheScalingAnnotation(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		objects := environment("production").objects(t, helm)
		for _, d := range deploymentsOf(objects, "philotes-worker") {
			var scaling struct {
				Host, Database, Slot string
				PasswordSecret       struct{ Name, Key string }
			}
			if err := json.Unmarshal([]byte(d.GetAnnotations()["guardrails.philotes.io/scaling"]), &scaling); err != nil {
				t.Fatalf("%s scaling annotation: %v", d.GetName(), err)
			}
			var scaler struct {
				Spec struct {
					MinReplicaCount *int `json:"minReplicaCount"`
					Triggers        []struct {
						Type     string            `json:"type"`
						Metadata map[string]string `json:"metadata"`
						AuthRef  struct {
							Name string `json:"name"`
						} `json:"authenticationRef"`
					} `json:"triggers"`
				} `json:"spec"`
			}
			if err := manifests.Decode(objects.Find("ScaledObject", d.GetName()), &scaler); err != nil {
				t.Fatal(err)
			}
			if scaler.Spec.MinReplicaCount == nil || *scaler.Spec.MinReplicaCount != 0 || len(scaler.Spec.Triggers) != 1 {
				t.Fatalf("ScaledObject %s: %+v", d.GetName(), scaler.Spec)
			}
			trigger := scaler.Spec.Triggers[0]
			if trigger.Type != "postgresql" || trigger.Metadata["host"] != scaling.Host || trigger.Metadata["dbName"] != scaling.Database ||
				!strings.Contains(trigger.Metadata["query"], "slot_name = '"+scaling.Slot+"'") || trigger.AuthRef.Name != d.GetName() {
				t.Errorf("ScaledObject %s trigger %+v does not follow the scaling annotation %+v", d.GetName(), trigger, scaling)
			}
			auth := objects.Find("TriggerAuthentication", d.GetName())
			var refs []struct {
				Parameter string `json:"parameter"`
				Name      string `json:"name"`
				Key       string `json:"key"`
			}
			if err := manifests.Decode(auth, &refs, "spec", "secretTargetRef"); err != nil {
				t.Fatal(err)
			}
			if len(refs) != 1 || refs[0].Parameter != "password" || refs[0].Name != scaling.PasswordSecret.Name || refs[0].Key != scaling.PasswordSecret.Key {
				t.Errorf("TriggerAuthentication %s = %+v, want the password %+v", d.GetName(), refs, scaling.PasswordSecret)
			}
		}
	})
}

// The warehouse id is the operator's only where the release's Lakekeeper does not publish it.
func TestAnotherCatalogNeedsTheWarehouseId(t *testing.T) {
	const id = "0190a6b8-1c2d-7e3f-8a4b-5c6d7e8f9a0b"
	forEachHelm(t, func(t *testing.T, helm string) {
		environment("dev").with("worker.iceberg.catalogUrl=http://catalog.example.com:8181").
			expectRefusal(t, helm, "philotes-worker: iceberg.warehouseId is required when iceberg.catalogUrl (http://catalog.example.com:8181) names another catalog")
		environment("dev").with("worker.iceberg.warehouseId=philotes").
			expectRefusal(t, helm, "/worker/iceberg/warehouseId")
		objects := environment("dev").with("worker.iceberg.catalogUrl=http://catalog.example.com:8181", "worker.iceberg.warehouseId="+id).objects(t, helm)
		worker := objects.Find("Deployment", "philotes-worker-demo")
		if got := manifests.StringMap(objects.Find("ConfigMap", "philotes-worker-demo"), "data")["PHILOTES_ICEBERG_WAREHOUSE"]; got != id {
			t.Errorf("PHILOTES_ICEBERG_WAREHOUSE = %q, want the given id %s", got, id)
		}
		if ref := manifests.Lookup(manifests.PodSpec(worker), "containers", "[name=worker]", "env", "[name=PHILOTES_ICEBERG_WAREHOUSE]"); ref != nil {
			t.Errorf("with a given id the worker still reads the warehouse from a ConfigMap")
		}
	})
}
