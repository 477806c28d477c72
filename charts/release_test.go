package charts_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
)

// Dev talks to the release's own data services, so their addresses come from the release
// name, never from a name written into a values file.
func TestServiceAddressesDeriveFromTheReleaseName(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		r := environment("dev")
		r.release = "cdc"
		objects := r.objects(t, helm)
		for _, name := range []string{"cdc-api", "cdc-worker-demo", "cdc-lakekeeper"} {
			if objects.Find("Deployment", name) == nil {
				t.Errorf("no Deployment %s in %v", name, objects.IDs())
			}
		}
		api := manifests.StringMap(objects.Find("ConfigMap", "cdc-api"), "data")
		worker := manifests.StringMap(objects.Find("ConfigMap", "cdc-worker-demo"), "data")
		for name, c := range map[string]struct{ got, want string }{
			"api PHILOTES_DB_HOST":                {api["PHILOTES_DB_HOST"], "cdc-postgresql"},
			"worker PHILOTES_DB_HOST":             {worker["PHILOTES_DB_HOST"], "cdc-postgresql"},
			"worker PHILOTES_CDC_SOURCE_HOST":     {worker["PHILOTES_CDC_SOURCE_HOST"], "cdc-postgresql"},
			"worker PHILOTES_STORAGE_ENDPOINT":    {worker["PHILOTES_STORAGE_ENDPOINT"], "cdc-object-store:8333"},
			"worker PHILOTES_ICEBERG_CATALOG_URL": {worker["PHILOTES_ICEBERG_CATALOG_URL"], "http://cdc-lakekeeper:8181"},
		} {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", name, c.got, c.want)
			}
		}
		url, err := base64.StdEncoding.DecodeString(manifests.String(objects.Find("Secret", "cdc-lakekeeper"), "data", "pg-database-url-write"))
		if err != nil || !strings.Contains(string(url), "@cdc-postgresql:5432/") {
			t.Errorf("Lakekeeper database URL %q does not point at cdc-postgresql (%v)", url, err)
		}
		// The catalog the workers reach is the one this release runs.
		var n struct {
			Egress []struct {
				Pods map[string]string `json:"pods"`
				Port int               `json:"port"`
			} `json:"egress"`
		}
		if err := json.Unmarshal([]byte(objects.Find("Deployment", "cdc-worker-demo").GetAnnotations()["guardrails.philotes.io/network"]), &n); err != nil {
			t.Fatal(err)
		}
		lakekeeperPods := manifests.StringMap(objects.Find("Deployment", "cdc-lakekeeper"), "spec", "selector", "matchLabels")
		reached := false
		for _, rule := range n.Egress {
			if rule.Port == 8181 && rule.Pods["app.kubernetes.io/instance"] == "cdc" && rule.Pods["app.kubernetes.io/name"] == lakekeeperPods["app.kubernetes.io/name"] {
				reached = true
			}
		}
		if !reached {
			t.Errorf("the worker's egress %+v does not reach the release's Lakekeeper pods %v on 8181", n.Egress, lakekeeperPods)
		}
	})
}
