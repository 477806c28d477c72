package charts_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// series is one input series of a promtool rule test: selector and values in
// promtool's expanding notation (1m apart).
type series struct {
	Series string `json:"series"`
	Values string `json:"values"`
}

// alertCase is one rule unit test: series in, and at evalTime the alert out
// with these labels (besides severity), or no alert when fires is false.
type alertCase struct {
	name     string
	alert    string
	input    func(ns string) []series
	evalTime string
	fires    bool
	labels   func(ns string) map[string]string
	// onlyWith names the environments whose rendering holds the alert.
	onlyWith []string
}

func deploymentSeries(metric, ns, deployment, values string) series {
	return series{fmt.Sprintf(`%s{namespace=%q, deployment=%q}`, metric, ns, deployment), values}
}

func requests(metric, ns, service, status, values string) series {
	return series{fmt.Sprintf(`%s{namespace=%q, service=%q, status=%q}`, metric, ns, service, status), values}
}

var alertCases = []alertCase{
	{name: "no API pod available", alert: "PhilotesAPIUnavailable", evalTime: "10m", fires: true,
		input: func(ns string) []series {
			return []series{deploymentSeries("kube_deployment_status_replicas_available", ns, "philotes-api", "0x15")}
		},
		labels: func(ns string) map[string]string {
			return map[string]string{"namespace": ns, "deployment": "philotes-api"}
		}},
	{name: "API pods available", alert: "PhilotesAPIUnavailable", evalTime: "10m",
		input: func(ns string) []series {
			return []series{deploymentSeries("kube_deployment_status_replicas_available", ns, "philotes-api", "2x15")}
		}},
	{name: "API answers 9% with 5xx", alert: "PhilotesAPIErrors", evalTime: "20m", fires: true,
		input: func(ns string) []series {
			return []series{requests("philotes_api_requests_total", ns, "philotes-api", "200", "0+600x30"), requests("philotes_api_requests_total", ns, "philotes-api", "500", "0+60x30")}
		}},
	{name: "API answers 1% with 5xx", alert: "PhilotesAPIErrors", evalTime: "20m",
		input: func(ns string) []series {
			return []series{requests("philotes_api_requests_total", ns, "philotes-api", "200", "0+600x30"), requests("philotes_api_requests_total", ns, "philotes-api", "500", "0+6x30")}
		}},
	{name: "no Lakekeeper pod available", alert: "LakekeeperUnavailable", evalTime: "10m", fires: true,
		input: func(ns string) []series {
			return []series{deploymentSeries("kube_deployment_status_replicas_available", ns, "philotes-lakekeeper", "0x15")}
		},
		labels: func(ns string) map[string]string {
			return map[string]string{"namespace": ns, "deployment": "philotes-lakekeeper"}
		}},
	{name: "Lakekeeper answers 9% with 5xx", alert: "LakekeeperErrors", evalTime: "20m", fires: true,
		input: func(ns string) []series {
			return []series{requests("axum_http_requests_total", ns, "philotes-lakekeeper", "200", "0+600x30"), requests("axum_http_requests_total", ns, "philotes-lakekeeper", "503", "0+60x30")}
		}},
	{name: "a wanted worker without a ready pod", alert: "PhilotesWorkerNotRunning", evalTime: "15m", fires: true,
		input: func(ns string) []series {
			return []series{deploymentSeries("kube_deployment_spec_replicas", ns, "philotes-worker-orders", "1x20"), deploymentSeries("kube_deployment_status_replicas_available", ns, "philotes-worker-orders", "0x20")}
		},
		labels: func(ns string) map[string]string {
			return map[string]string{"namespace": ns, "deployment": "philotes-worker-orders"}
		}},
	{name: "a worker KEDA scaled to zero", alert: "PhilotesWorkerNotRunning", evalTime: "15m",
		input: func(ns string) []series {
			return []series{deploymentSeries("kube_deployment_spec_replicas", ns, "philotes-worker-orders", "0x20"), deploymentSeries("kube_deployment_status_replicas_available", ns, "philotes-worker-orders", "0x20")}
		}},
	{name: "a worker restarting every minute", alert: "PhilotesWorkerRestarting", evalTime: "25m", fires: true,
		input: func(ns string) []series {
			return []series{{fmt.Sprintf(`kube_pod_container_status_restarts_total{namespace=%q, pod="philotes-worker-orders-5d8f7-abcde", container="worker"}`, ns), "0+1x30"}}
		},
		labels: func(ns string) map[string]string {
			return map[string]string{"namespace": ns, "pod": "philotes-worker-orders-5d8f7-abcde", "container": "worker"}
		}},
	{name: "a worker that restarted once", alert: "PhilotesWorkerRestarting", evalTime: "25m",
		input: func(ns string) []series {
			return []series{{fmt.Sprintf(`kube_pod_container_status_restarts_total{namespace=%q, pod="philotes-worker-orders-5d8f7-abcde", container="worker"}`, ns), "0x10 1x20"}}
		}},
	{name: "a slot 2 GB behind for 20 minutes", alert: "PhilotesReplicationLagHigh", evalTime: "20m", fires: true, onlyWith: []string{"production"},
		input: func(ns string) []series {
			return []series{{fmt.Sprintf(`keda_scaler_metrics_value{exported_namespace=%q, namespace="keda", scaledObject="philotes-worker-orders", scaler="postgresqlScaler", metric="s0-postgresql"}`, ns), "2000000000x25"}}
		},
		// The namespace, for routing, whichever label KEDA's metric carries it in.
		labels: func(ns string) map[string]string {
			return map[string]string{"scaledObject": "philotes-worker-orders", "namespace": ns, "exported_namespace": ns}
		}},
	{name: "a slot 1 MB behind", alert: "PhilotesReplicationLagHigh", evalTime: "20m", onlyWith: []string{"production"},
		input: func(ns string) []series {
			return []series{{fmt.Sprintf(`keda_scaler_metrics_value{exported_namespace=%q, namespace="keda", scaledObject="philotes-worker-orders", scaler="postgresqlScaler", metric="s0-postgresql"}`, ns), "1000000x25"}}
		}},
}

// rule is one alerting rule of a rendered PrometheusRule.
type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type ruleGroup struct {
	Name  string `json:"name"`
	Rules []rule `json:"rules"`
}

// TestAlertsFireOnTheSeriesTheyAreAbout runs promtool's rule unit tests on the
// PrometheusRules staging and production render: each alert fires on the
// series it is about (with the labels that say where), and stays silent on
// healthy ones. Its summary and description are the rule's own.
func TestAlertsFireOnTheSeriesTheyAreAbout(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	helm := testenv.Tool(t, testenv.HelmCLIs[len(testenv.HelmCLIs)-1])
	for _, env := range []string{"staging", "production"} {
		t.Run(env, func(t *testing.T) {
			ns := testenv.Namespace(t, env)
			var groups []ruleGroup
			rules := map[string]rule{}
			for _, o := range environment(env).objects(t, helm).OfKind("PrometheusRule") {
				var spec struct{ Groups []ruleGroup }
				testenv.Decode(t, o, &spec, "spec")
				groups = append(groups, spec.Groups...)
				for _, g := range spec.Groups {
					for _, r := range g.Rules {
						rules[r.Alert] = r
					}
				}
			}
			dir := t.TempDir()
			writeYAML(t, filepath.Join(dir, "rules.yaml"), map[string]any{"groups": groups})
			var tests []map[string]any
			tested := map[string]bool{}
			for _, c := range alertCases {
				if c.onlyWith != nil && !slices.Contains(c.onlyWith, env) {
					if _, rendered := rules[c.alert]; rendered {
						t.Errorf("%s renders %s, which only %v should", env, c.alert, c.onlyWith)
					}
					continue
				}
				r, ok := rules[c.alert]
				if !ok {
					t.Errorf("%s renders no alert %s (it has %v)", env, c.alert, slices.Sorted(maps.Keys(rules)))
					continue
				}
				tested[c.alert] = true
				expected := []map[string]any{}
				if c.fires {
					labels := map[string]string{"severity": r.Labels["severity"]}
					if c.labels != nil {
						for k, v := range c.labels(ns) {
							labels[k] = v
						}
					}
					expected = append(expected, map[string]any{"exp_labels": labels, "exp_annotations": r.Annotations})
				}
				tests = append(tests, map[string]any{
					"name":            c.name,
					"interval":        "1m",
					"input_series":    c.input(ns),
					"alert_rule_test": []map[string]any{{"eval_time": c.evalTime, "alertname": c.alert, "exp_alerts": expected}},
				})
			}
			runbooks, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "runbooks.md"))
			if err != nil {
				t.Fatal(err)
			}
			for alert, r := range rules {
				if !tested[alert] {
					t.Errorf("%s renders alert %s, which no case tests", env, alert)
				}
				if !slices.Contains(strings.Split(string(runbooks), "\n"), "## "+alert) {
					t.Errorf("docs/runbooks.md has no section ## %s", alert)
				}
				if want := "docs/runbooks.md#" + strings.ToLower(alert); r.Annotations["runbook_url"] != want {
					t.Errorf("%s's runbook_url is %q, want %q", alert, r.Annotations["runbook_url"], want)
				}
			}
			testFile := filepath.Join(dir, "tests.yaml")
			writeYAML(t, testFile, map[string]any{"rule_files": []string{"rules.yaml"}, "evaluation_interval": "1m", "tests": tests})
			if out, err := testenv.RunErr(dir, promtool, "test", "rules", testFile); err != nil {
				t.Errorf("promtool test rules: %v\n%s", err, out)
			}
		})
	}
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTheDashboardsQueriesAreValidPromQL has promtool check every query of
// the dashboard, written as recording rules with the dashboard's variables
// filled in, and the ConfigMap carry the dashboard unchanged.
func TestTheDashboardsQueriesAreValidPromQL(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	data, err := os.ReadFile(filepath.Join(chartsDir(), "philotes-api", "files", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dashboard); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	var records []map[string]string
	ids := map[int]bool{}
	for _, panel := range dashboard.Panels {
		if ids[panel.ID] {
			t.Errorf("panel id %d is used twice", panel.ID)
		}
		ids[panel.ID] = true
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q queries nothing", panel.Title)
		}
		for i, target := range panel.Targets {
			expr := strings.ReplaceAll(target.Expr, "$namespace", "philotes-production")
			records = append(records, map[string]string{"record": fmt.Sprintf("dashboard:panel%d:query%d", panel.ID, i), "expr": expr})
		}
	}
	file := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	writeYAML(t, file, map[string]any{"groups": []map[string]any{{"name": "dashboard", "rules": records}}})
	if out, err := testenv.RunErr(t.TempDir(), promtool, "check", "rules", file); err != nil {
		t.Errorf("promtool check rules on the dashboard's queries: %v\n%s", err, out)
	}
	helm := testenv.Tool(t, testenv.HelmCLIs[len(testenv.HelmCLIs)-1])
	configMap := environment("production").objects(t, helm).Find("ConfigMap", "philotes-api-dashboard")
	if configMap == nil {
		t.Fatal("production renders no dashboard ConfigMap philotes-api-dashboard")
	}
	if got := manifests.String(configMap, "data", "philotes.json"); strings.TrimSpace(got) != strings.TrimSpace(string(data)) {
		t.Error("the ConfigMap's philotes.json is not files/dashboard.json")
	}
	if manifests.String(configMap, "metadata", "labels", "grafana_dashboard") != "1" {
		t.Error("the dashboard ConfigMap lacks the grafana_dashboard label the sidecar selects by")
	}
}
