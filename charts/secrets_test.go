package charts_test

import (
	"encoding/base64"
	"slices"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// secretRefs lists the Secrets a pod spec reads through env and envFrom.
func secretRefs(t *testing.T, podSpec *yaml.RNode) []string {
	t.Helper()
	var names []string
	for _, c := range manifests.Containers(podSpec) {
		var container struct {
			Env []struct {
				ValueFrom struct {
					SecretKeyRef struct {
						Name string `json:"name"`
					} `json:"secretKeyRef"`
				} `json:"valueFrom"`
			} `json:"env"`
			EnvFrom []struct {
				SecretRef struct {
					Name string `json:"name"`
				} `json:"secretRef"`
			} `json:"envFrom"`
		}
		testenv.Decode(t, c, &container)
		for _, e := range container.Env {
			if name := e.ValueFrom.SecretKeyRef.Name; name != "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		for _, e := range container.EnvFrom {
			if name := e.SecretRef.Name; name != "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}

func TestExistingSecretsReplaceTheChartSecrets(t *testing.T) {
	existing := map[string]string{ // workload -> the existing Secret it must read instead
		"philotes-api":         "api-from-vault",
		"philotes-lakekeeper":  "lakekeeper-from-vault",
		"philotes-worker-demo": "demo-from-vault",
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		own := environment("dev").objects(t, helm)
		for workload := range existing {
			if own.Find("Secret", workload) == nil {
				t.Fatalf("dev without existing Secrets renders no Secret %s: %v", workload, own.IDs())
			}
		}
		objects := environment("dev").with(
			"api.secrets.existingSecret=api-from-vault",
			"lakekeeper.secrets.existingSecret=lakekeeper-from-vault",
			"worker.sources[0].existingSecret=demo-from-vault",
		).objects(t, helm)
		for _, secret := range objects.OfKind("Secret") {
			if !isDataService(secret) { // the dev data services take no existing Secret
				t.Errorf("with existing Secrets the charts still render %s", manifests.ID(secret))
			}
		}
		for workload, secret := range existing {
			deployment := objects.Find("Deployment", workload)
			if deployment == nil {
				t.Fatalf("no Deployment %s", workload)
			}
			if refs := secretRefs(t, manifests.PodSpec(deployment)); !slices.Equal(refs, []string{secret}) {
				t.Errorf("%s reads the Secrets %v, want only %s", workload, refs, secret)
			}
		}
		jobSecrets := map[string]string{ // Job component -> the one Secret it reads
			"schema": "api-from-vault", "migrate": "lakekeeper-from-vault", "bootstrap": "lakekeeper-from-vault", "bucket": "philotes-object-store",
			"prepare": "philotes-postgresql", // the dev server's superuser, a data service's Secret
		}
		for _, job := range objects.OfKind("Job") {
			want := jobSecrets[manifests.String(job, "metadata", "labels", "app.kubernetes.io/component")]
			if refs := secretRefs(t, manifests.PodSpec(job)); !slices.Equal(refs, []string{want}) {
				t.Errorf("%s reads the Secrets %v, want only %q", job.GetName(), refs, want)
			}
		}
	})
}

// Philotes reads an empty variable as unset and falls back to default credentials.
func TestNoSecretHasAnEmptyValue(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		for _, secret := range objects.OfKind("Secret") {
			for key, value := range manifests.StringMap(secret, "data") {
				decoded, err := base64.StdEncoding.DecodeString(value)
				if err != nil {
					t.Errorf("%s data.%s is not base64: %v", secret.GetName(), key, err)
				}
				if len(decoded) == 0 {
					t.Errorf("%s data.%s is empty", secret.GetName(), key)
				}
			}
			for key, value := range manifests.StringMap(secret, "stringData") {
				if value == "" {
					t.Errorf("%s stringData.%s is empty", secret.GetName(), key)
				}
			}
		}
	})
}

func TestEmptyCredentialsAreRefused(t *testing.T) {
	cases := map[string][]string{
		"api.secrets.databasePassword=":         {"philotes-api", "secrets.databasePassword is empty"},
		"worker.sources[0].password=":           {"philotes-worker", "sources[0].password is empty"},
		"worker.secrets.storageSecretKey=":      {"philotes-worker", "secrets.storageSecretKey is empty"},
		"lakekeeper.secrets.encryptionKey=":     {"philotes-lakekeeper", "secrets.encryptionKey is empty"},
		"lakekeeper.secrets.databasePassword=":  {"philotes-lakekeeper", "secrets.databasePassword is empty"},
		"lakekeeper.secrets.storageAccessKey=":  {"philotes-lakekeeper", "secrets.storageAccessKey is empty"},
		"postgresql.secrets.superuserPassword=": {"philotes-postgresql", "secrets.superuserPassword is empty"},
		"objectStore.secrets.secretKey=":        {"philotes-object-store", "secrets.secretKey is empty"},
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		for set, fragments := range cases {
			t.Run(set, func(t *testing.T) {
				t.Parallel()
				environment("dev").with(set).expectRefusal(t, helm, fragments...)
			})
		}
	})
}

// Passwords go unescaped into a DSN or URL, where these characters break them.
func TestPasswordsThatBreakAConnectionStringAreRefused(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, set := range []string{"api.secrets.databasePassword=a@b", "worker.sources[0].password=a/b", "lakekeeper.secrets.databasePassword=a:b"} {
			t.Run(set, func(t *testing.T) {
				t.Parallel()
				environment("dev").with(set).expectRefusal(t, helm, "passes unescaped into a connection string")
			})
		}
	})
}

func TestStagingAndProductionRenderNoCredentials(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, env := range []string{"staging", "production"} {
			t.Run(env, func(t *testing.T) {
				t.Parallel()
				if secrets := environment(env).objects(t, helm).OfKind("Secret"); len(secrets) > 0 {
					t.Errorf("%s renders Secrets %v: credentials must come from existing Secrets", env, secrets.IDs())
				}
				cases := map[string]string{
					"api.secrets.existingSecret=":        "secrets.existingSecret is required in " + env,
					"lakekeeper.secrets.existingSecret=": "secrets.existingSecret is required in " + env,
					"worker.sources[0].existingSecret=":  "sources[0].existingSecret is required in " + env,
				}
				for set, fragment := range cases {
					environment(env).with(set, "api.secrets.databasePassword=set", "lakekeeper.secrets.databasePassword=set",
						"lakekeeper.secrets.encryptionKey=set", "worker.sources[0].password=set").expectRefusal(t, helm, fragment)
				}
			})
		}
	})
}
