package charts_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// secretValue decodes one key of a rendered Secret.
func secretValue(t *testing.T, objects manifests.Objects, name, key string) string {
	t.Helper()
	secret := objects.Find("Secret", name)
	if secret == nil {
		t.Fatalf("no Secret %s in %v", name, objects.IDs())
	}
	value, err := base64.StdEncoding.DecodeString(manifests.String(secret, "data", key))
	if err != nil || len(value) == 0 {
		t.Fatalf("Secret %s has no %s (%v)", name, key, err)
	}
	return string(value)
}

// Dev brings its own PostgreSQL and S3 store, under the names the other charts default to;
// staging and production use external services only.
func TestDevDataServicesAreWhereThePhilotesChartsLookForThem(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		r := environment("dev")
		r.release = "cdc"
		objects := r.objects(t, helm)
		api := manifests.StringMap(objects.Find("ConfigMap", "cdc-api"), "data")
		worker := manifests.StringMap(objects.Find("ConfigMap", "cdc-worker-demo"), "data")
		for service, address := range map[string]string{
			"cdc-postgresql":   api["PHILOTES_DB_HOST"] + ":" + api["PHILOTES_DB_PORT"],
			"cdc-object-store": worker["PHILOTES_STORAGE_ENDPOINT"],
		} {
			s := objects.Find("Service", service)
			if s == nil {
				t.Errorf("no Service %s: the clients reach %s", service, address)
				continue
			}
			if want := service + ":" + manifests.String(s, "spec", "ports", "0", "port"); address != want {
				t.Errorf("the clients reach %s, the Service serves %s", address, want)
			}
			set := objects.Find("StatefulSet", service)
			if set == nil || !selects(manifests.StringMap(s, "spec", "selector"), manifests.StringMap(set, "spec", "template", "metadata", "labels")) {
				t.Errorf("the Service %s does not select the pods of a StatefulSet %s", service, service)
			}
		}
		for _, env := range []string{"staging", "production"} {
			if sets := environment(env).objects(t, helm).OfKind("StatefulSet"); len(sets) > 0 {
				t.Errorf("%s runs data services %v", env, sets.Names())
			}
		}
	})
}

// The dev data services are one pod each, without guardrails (dev has none), so they carry no
// guardrail annotation: the function leaves them alone in the Kustomize door, as the chart does.
func TestDevDataServicesAreUnguardedSingletonsOfTheFirstWave(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		objects := environment("dev").objects(t, helm)
		sets := objects.OfKind("StatefulSet")
		if len(sets) != len(dataServiceCharts) {
			t.Fatalf("dev runs the StatefulSets %v, want one per data service %v", sets.Names(), dataServiceCharts)
		}
		for _, set := range sets {
			if replicas := manifests.String(set, "spec", "replicas"); replicas != "1" {
				t.Errorf("%s replicas = %s, want 1", set.GetName(), replicas)
			}
			for key := range set.GetAnnotations() {
				if strings.HasPrefix(key, "guardrails.philotes.io/") {
					t.Errorf("%s carries %s", set.GetName(), key)
				}
			}
		}
	})
}

func TestDevPostgreSQLServesLogicalReplicationAndTheRolesTheChartsUse(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		objects := environment("dev").objects(t, helm)
		set := objects.Find("StatefulSet", "philotes-postgresql")
		var args []string
		testenv.Decode(t, set, &args, "spec", "template", "spec", "containers", "[name=postgresql]", "args")
		if !slices.Contains(args, "wal_level=logical") {
			t.Errorf("PostgreSQL runs with %v, without wal_level=logical", args)
		}
		initSQL := secretValue(t, objects, "philotes-postgresql", "init.sql")
		api := manifests.StringMap(objects.Find("ConfigMap", "philotes-api"), "data")
		worker := manifests.StringMap(objects.Find("ConfigMap", "philotes-worker-demo"), "data")
		catalog, err := url.Parse(secretValue(t, objects, "philotes-lakekeeper", "pg-database-url-write"))
		if err != nil {
			t.Fatal(err)
		}
		catalogPassword, _ := catalog.User.Password()
		logins := []struct{ role, password, database, extra string }{
			{api["PHILOTES_DB_USER"], secretValue(t, objects, "philotes-api", "database-password"), api["PHILOTES_DB_NAME"], ""},
			{catalog.User.Username(), catalogPassword, strings.TrimPrefix(catalog.Path, "/"), ""},
			{worker["PHILOTES_CDC_SOURCE_USER"], secretValue(t, objects, "philotes-worker-demo", "source-password"), worker["PHILOTES_CDC_SOURCE_DATABASE"], " REPLICATION"},
		}
		for _, login := range logins {
			for _, statement := range []string{
				`CREATE ROLE "` + login.role + `" LOGIN` + login.extra + ` PASSWORD '` + login.password + `';`,
				`CREATE DATABASE "` + login.database + `" OWNER "` + login.role + `";`,
			} {
				if !strings.Contains(initSQL, statement) {
					t.Errorf("the dev PostgreSQL does not run %s; its init.sql:\n%s", statement, initSQL)
				}
			}
		}
		if !strings.Contains(initSQL, `GRANT pg_monitor TO "`+worker["PHILOTES_CDC_SOURCE_USER"]+`";`) {
			t.Errorf("the source role cannot read the replication lag (pg_monitor):\n%s", initSQL)
		}
		if quoted := secretValue(t, environment("dev").with("postgresql.roles[0].password=it's").objects(t, helm), "philotes-postgresql", "init.sql"); !strings.Contains(quoted, "PASSWORD 'it''s'") {
			t.Errorf("a quote in a password is not escaped:\n%s", quoted)
		}
		environment("dev").with("postgresql.databases[0].owner=nobody").
			expectRefusal(t, helm, `philotes-postgresql: databases[0].owner "nobody" is not one of roles[].name`)
	})
}

func TestDevObjectStoreServesTheKeysTheClientsUse(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		objects := environment("dev").objects(t, helm)
		var config struct {
			Identities []struct {
				Credentials []struct{ AccessKey, SecretKey string }
				Actions     []string
			}
		}
		if err := json.Unmarshal([]byte(secretValue(t, objects, "philotes-object-store", "s3.json")), &config); err != nil {
			t.Fatal(err)
		}
		if len(config.Identities) != 1 || len(config.Identities[0].Credentials) != 1 || !slices.Contains(config.Identities[0].Actions, "Admin") {
			t.Fatalf("S3 identities %+v: want one admin identity", config.Identities)
		}
		served := config.Identities[0].Credentials[0]
		for _, client := range []struct{ secret, accessKey, secretKey string }{
			{"philotes-worker-demo", "storage-access-key", "storage-secret-key"},
			{"philotes-lakekeeper", "storage-access-key", "storage-secret-key"},
			{"philotes-object-store", "access-key", "secret-key"}, // the bucket Job's
		} {
			if secretValue(t, objects, client.secret, client.accessKey) != served.AccessKey || secretValue(t, objects, client.secret, client.secretKey) != served.SecretKey {
				t.Errorf("the keys in %s are not the ones the object store serves", client.secret)
			}
		}
		bucket := containerEnv(t, jobOf(t, objects, "bucket"))["BUCKET"]
		worker := manifests.StringMap(objects.Find("ConfigMap", "philotes-worker-demo"), "data")
		if bucket != worker["PHILOTES_STORAGE_BUCKET"] {
			t.Errorf("the bucket Job creates %q, the worker writes to %q", bucket, worker["PHILOTES_STORAGE_BUCKET"])
		}
	})
}

// The object store is deployed by objectStore.enabled, or by the plan's minio.enabled while
// objectStore.enabled is not set.
func TestTheObjectStoreFollowsObjectStoreEnabledThenMinioEnabled(t *testing.T) {
	devUmbrella := rendering{chart: umbrella, set: []string{"global.environment=dev", "global.profile=development", "objectStore.secrets.accessKey=a", "objectStore.secrets.secretKey=b"}}
	cases := map[string]struct {
		set  []string
		want bool
	}{
		"neither":                              {nil, false},
		"minio.enabled":                        {[]string{"minio.enabled=true"}, true},
		"objectStore.enabled":                  {[]string{"objectStore.enabled=true"}, true},
		"objectStore.enabled over minio":       {[]string{"objectStore.enabled=false", "minio.enabled=true"}, false},
		"objectStore.enabled over minio false": {[]string{"objectStore.enabled=true", "minio.enabled=false"}, true},
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				got := devUmbrella.with(c.set...).objects(t, helm).Find("StatefulSet", "philotes-object-store") != nil
				if got != c.want {
					t.Errorf("object store deployed: %v, want %v", got, c.want)
				}
			})
		}
	})
}

func TestDataServicesAreRefusedOutsideDev(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, env := range []string{"staging", "production"} {
			for set, name := range map[string]string{
				"postgresql.enabled=true":  "philotes-postgresql",
				"objectStore.enabled=true": "philotes-object-store",
				"minio.enabled=true":       "philotes-object-store",
			} {
				environment(env).with(set).expectRefusal(t, helm, name+" is a dev data service and is not allowed in "+env)
			}
		}
		rendering{chart: "postgresql", kubeVersion: devKubeVersion}.expectRefusal(t, helm, "set postgresql.enabled to false")
	})
}

// They have no NetworkPolicy: behind a default deny nothing could reach them.
func TestDataServicesAreRefusedWhereNetworkPoliciesAreOn(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, chart := range dataServiceCharts {
			standalone(chart).with("global.networkPolicy.enabled=true").expectRefusal(t, helm,
				"philotes-"+chart+" is a dev data service and has no NetworkPolicy: with global.networkPolicy.enabled the namespace's default deny would cut it off in dev")
		}
	})
}

func TestDataServicePersistenceIsAVolumeClaimInsteadOfAnEmptyDir(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, chart := range dataServiceCharts {
			for _, persistent := range []bool{false, true} {
				r := standalone(chart)
				if persistent {
					r = r.with("persistence.enabled=true")
				}
				set := r.objects(t, helm).OfKind("StatefulSet")[0]
				var volumes []map[string]any
				testenv.Decode(t, set, &volumes, "spec", "template", "spec", "volumes")
				emptyDirData := slices.ContainsFunc(volumes, func(v map[string]any) bool { return v["name"] == "data" && v["emptyDir"] != nil })
				claim := manifests.String(set, "spec", "volumeClaimTemplates", "0", "metadata", "name") == "data"
				if emptyDirData == persistent || claim != persistent {
					t.Errorf("%s with persistence %v: data emptyDir %v, volume claim %v", chart, persistent, emptyDirData, claim)
				}
			}
		}
	})
}
