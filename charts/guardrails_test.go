package charts_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The guardrail function parses these annotations strictly; the overlays' tests run it on
// every environment's rendering and compare its objects with the charts' own. Here the
// charts are checked for carrying them at all, on the right workloads.
func TestEveryDeploymentCarriesTheGuardrailAnnotations(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		wantEnvironment := environmentOf(t, r)
		for _, d := range objects.OfKind("Deployment") {
			annotations := d.GetAnnotations()
			if got := annotations["guardrails.philotes.io/environment"]; got != wantEnvironment {
				t.Errorf("%s environment annotation = %q, want %q", d.GetName(), got, wantEnvironment)
			}
			if got := annotations["guardrails.philotes.io/max-unavailable"]; got != "1" {
				t.Errorf("%s max-unavailable annotation = %q, want 1", d.GetName(), got)
			}
			if network := annotations["guardrails.philotes.io/network"]; !json.Valid([]byte(network)) || !strings.HasPrefix(network, "{") {
				t.Errorf("%s network annotation is not a JSON object: %q", d.GetName(), network)
			}
			isWorker := manifests.String(d, "metadata", "labels", "app.kubernetes.io/name") == "philotes-worker"
			scaling, hasScaling := annotations["guardrails.philotes.io/scaling"]
			switch {
			case isWorker != hasScaling:
				t.Errorf("%s: scaling annotation present=%v, but only workers scale", d.GetName(), hasScaling)
			case hasScaling && !json.Valid([]byte(scaling)):
				t.Errorf("%s scaling annotation is not JSON: %q", d.GetName(), scaling)
			}
		}
	})
}

// The PodDisruptionBudget and NetworkPolicy of a workload are the canonical objects the
// guardrail function builds from the same annotations.
func TestGuardrailObjectsFollowTheirWorkload(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		for _, d := range objects.OfKind("Deployment") {
			selector, labels := manifests.StringMap(d, "spec", "selector", "matchLabels"), d.GetLabels()
			if pdb := objects.Find("PodDisruptionBudget", d.GetName()); pdb != nil {
				checkSameMap(t, pdb, "selector", manifests.StringMap(pdb, "spec", "selector", "matchLabels"), selector)
				checkSameMap(t, pdb, "labels", pdb.GetLabels(), labels)
				if got := manifests.String(pdb, "spec", "unhealthyPodEvictionPolicy"); got != "AlwaysAllow" {
					t.Errorf("%s unhealthyPodEvictionPolicy = %q, want AlwaysAllow", manifests.ID(pdb), got)
				}
			}
			policy := objects.Find("NetworkPolicy", d.GetName())
			if policy == nil {
				continue
			}
			checkSameMap(t, policy, "podSelector", manifests.StringMap(policy, "spec", "podSelector", "matchLabels"), selector)
			checkSameMap(t, policy, "labels", policy.GetLabels(), labels)
			var spec struct {
				PolicyTypes []string `json:"policyTypes"`
				Ingress     []any    `json:"ingress"`
				Egress      []struct {
					Ports []struct {
						Protocol string `json:"protocol"`
						Port     int    `json:"port"`
					} `json:"ports"`
				} `json:"egress"`
			}
			if err := manifests.Decode(policy, &spec, "spec"); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(spec.PolicyTypes, []string{"Ingress", "Egress"}) {
				t.Errorf("%s policyTypes = %v", manifests.ID(policy), spec.PolicyTypes)
			}
			if len(spec.Egress) == 0 {
				t.Fatalf("%s has no egress rule, not even DNS", manifests.ID(policy))
			}
			if dns := spec.Egress[0].Ports; len(dns) != 2 || dns[0].Protocol != "UDP" || dns[1].Protocol != "TCP" || dns[0].Port != 53 {
				t.Errorf("%s first egress rule is not DNS on UDP and TCP 53: %+v", manifests.ID(policy), dns)
			}
		}
	})
}

func checkSameMap(t *testing.T, node *yaml.RNode, what string, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s %s = %v, want the workload's %v", manifests.ID(node), what, got, want)
	}
}

// minAvailable on a singleton worker would block every node drain.
func TestPodDisruptionBudgetsNeverUseMinAvailable(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		for _, pdb := range objects.OfKind("PodDisruptionBudget") {
			if manifests.Lookup(pdb, "spec", "minAvailable") != nil {
				t.Errorf("%s sets minAvailable", manifests.ID(pdb))
			}
			if manifests.String(pdb, "spec", "maxUnavailable") == "" {
				t.Errorf("%s has no maxUnavailable", manifests.ID(pdb))
			}
		}
	})
}

func TestEveryNamespacedObjectHasTheReleaseNamespace(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		want := cmp.Or(r.namespace, namespace)
		for _, o := range objects {
			if got := o.GetNamespace(); manifests.Namespaced(o.GetKind()) && got != want {
				t.Errorf("%s namespace = %q, want %q", manifests.ID(o), got, want)
			}
		}
	})
}

// imageUsers are the pods that run as the user their image ships (by app name); every other pod,
// Philotes' own and every Job, runs as the distroless nonroot user 65532.
var imageUsers = map[string]string{"postgresql": "999", "object-store": "1000"}

// The restricted Pod Security Standard, plus resources on every container.
func TestEveryPodTemplateIsRestricted(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		for _, kind := range manifests.Workloads {
			for _, workload := range objects.OfKind(kind) {
				id, pod := manifests.ID(workload), manifests.PodSpec(workload)
				uid := imageUsers[manifests.String(workload, "metadata", "labels", "app.kubernetes.io/name")]
				if uid == "" {
					uid = "65532"
				}
				for field, want := range map[string]string{
					"runAsNonRoot": "true", "runAsUser": uid, "runAsGroup": uid,
				} {
					if got := manifests.String(pod, "securityContext", field); got != want {
						t.Errorf("%s pod securityContext.%s = %q, want %s", id, field, got, want)
					}
				}
				if got := manifests.String(pod, "securityContext", "seccompProfile", "type"); got != "RuntimeDefault" {
					t.Errorf("%s pod seccompProfile = %q, want RuntimeDefault", id, got)
				}
				// Service links would put PHILOTES_API_PORT=tcp://... into the variables Philotes reads.
				if got := manifests.String(pod, "enableServiceLinks"); got != "false" {
					t.Errorf("%s enableServiceLinks = %q, want false", id, got)
				}
				// Only the Lakekeeper bootstrap Job talks to the API server (it publishes the
				// warehouse id); TestBootstrapJobMayWriteOnlyTheWarehouseConfigMap checks its rights.
				wantToken := strconv.FormatBool(manifests.String(workload, "metadata", "labels", "app.kubernetes.io/name") == "lakekeeper-bootstrap")
				if got := manifests.String(pod, "automountServiceAccountToken"); got != wantToken {
					t.Errorf("%s automountServiceAccountToken = %q, want %s", id, got, wantToken)
				}
				for _, field := range []string{"hostNetwork", "hostPID", "hostIPC"} {
					if manifests.String(pod, field) == "true" {
						t.Errorf("%s sets %s", id, field)
					}
				}
				for _, c := range manifests.Containers(pod) {
					name := id + "/" + manifests.String(c, "name")
					for field, want := range map[string]string{
						"allowPrivilegeEscalation": "false", "readOnlyRootFilesystem": "true", "runAsNonRoot": "true", "runAsUser": uid,
					} {
						if got := manifests.String(c, "securityContext", field); got != want {
							t.Errorf("%s securityContext.%s = %q, want %s", name, field, got, want)
						}
					}
					var drop []string
					if err := manifests.Decode(c, &drop, "securityContext", "capabilities", "drop"); err != nil || !slices.Equal(drop, []string{"ALL"}) {
						t.Errorf("%s drops capabilities %v, want [ALL] (%v)", name, drop, err)
					}
					for _, kind := range []string{"requests", "limits"} {
						resources := manifests.StringMap(c, "resources", kind)
						if resources["cpu"] == "" || resources["memory"] == "" {
							t.Errorf("%s resources.%s = %v, want cpu and memory", name, kind, resources)
						}
					}
				}
			}
		}
	})
}

// probe is what the runtime contract says a container answers.
type probe struct {
	container, liveness, readiness string
	port                           int
}

var contractProbes = map[string]probe{
	"philotes-api":    {"api", "/health/live", "/health/ready", 8080},
	"philotes-worker": {"worker", "/health/live", "/health/ready", 8081},
	// Lakekeeper's /health checks its database: liveness is a TCP connection instead.
	"lakekeeper": {"lakekeeper", "", "/health", 8181},
}

func TestProbesHitTheContractPathsAndPorts(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		for _, d := range objects.OfKind("Deployment") {
			app := manifests.String(d, "metadata", "labels", "app.kubernetes.io/name")
			want, ok := contractProbes[app]
			if !ok {
				t.Errorf("%s: no probe contract for app %q", d.GetName(), app)
				continue
			}
			checked := false
			for _, c := range manifests.Containers(manifests.PodSpec(d)) {
				if manifests.String(c, "name") != want.container {
					continue
				}
				checked = true
				ports := map[string]int{}
				var declared []struct {
					Name          string `json:"name"`
					ContainerPort int    `json:"containerPort"`
				}
				testenv.Decode(t, c, &declared, "ports")
				for _, p := range declared {
					ports[p.Name] = p.ContainerPort
				}
				for kind, path := range map[string]string{"livenessProbe": want.liveness, "readinessProbe": want.readiness} {
					if manifests.Lookup(c, kind, "exec") != nil {
						t.Errorf("%s %s uses exec: the image has no shell", d.GetName(), kind)
					}
					check := "httpGet"
					if path == "" {
						check = "tcpSocket"
					}
					if manifests.Lookup(c, kind, check) == nil {
						t.Errorf("%s %s is no %s probe", d.GetName(), kind, check)
					}
					if got := manifests.String(c, kind, "httpGet", "path"); got != path {
						t.Errorf("%s %s path = %q, want %q", d.GetName(), kind, got, path)
					}
					port := manifests.String(c, kind, check, "port")
					if number, err := strconv.Atoi(port); err == nil {
						ports[port] = number
					}
					if ports[port] != want.port {
						t.Errorf("%s %s port %q is %d, want %d", d.GetName(), kind, port, ports[port], want.port)
					}
				}
				if manifests.Lookup(c, "lifecycle", "preStop", "exec") != nil {
					t.Errorf("%s preStop uses exec: the image has no shell", d.GetName())
				}
			}
			// A renamed container must not leave the probes unchecked.
			if !checked {
				t.Errorf("%s has no container %q whose probes the contract describes", d.GetName(), want.container)
			}
		}
		if api := objects.Find("Deployment", "philotes-api"); api != nil {
			pause, _ := strconv.Atoi(manifests.String(api, "spec", "template", "spec", "containers", "[name=api]", "lifecycle", "preStop", "sleep", "seconds"))
			grace, _ := strconv.Atoi(manifests.String(api, "spec", "template", "spec", "terminationGracePeriodSeconds"))
			if pause == 0 || grace <= pause+30 {
				t.Errorf("API preStop sleep %d s and grace period %d s: want a sleep, and a grace period above sleep + 30 s", pause, grace)
			}
		}
	})
}

func TestEveryPodRestartsWhenItsConfigOrSecretChanges(t *testing.T) {
	checksum := func(t *testing.T, objects manifests.Objects, workload, kind string) string {
		t.Helper()
		d := objects.Find("Deployment", workload)
		if d == nil {
			t.Fatalf("no Deployment %s", workload)
		}
		value := manifests.String(d, "spec", "template", "metadata", "annotations", "checksum/"+kind)
		if value == "" {
			t.Fatalf("%s has no checksum/%s annotation", workload, kind)
		}
		return value
	}
	changes := []struct{ set, workload, kind string }{
		{"api.config.logLevel=info", "philotes-api", "config"},
		{"api.secrets.databasePassword=changed", "philotes-api", "secret"},
		{"worker.cdc.batchSize=5", "philotes-worker-demo", "config"},
		{"worker.sources[0].password=changed", "philotes-worker-demo", "secret"},
		{"lakekeeper.config.baseUri=https://catalog.example.com", "philotes-lakekeeper", "config"},
		{"lakekeeper.secrets.encryptionKey=changed", "philotes-lakekeeper", "secret"},
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, change := range changes {
			t.Run(change.set, func(t *testing.T) {
				t.Parallel()
				before := checksum(t, environment("dev").objects(t, helm), change.workload, change.kind)
				after := checksum(t, environment("dev").with(change.set).objects(t, helm), change.workload, change.kind)
				if before == after {
					t.Errorf("checksum/%s of %s did not change with %s", change.kind, change.workload, change.set)
				}
			})
		}
	})
}

func TestFloatingImageTagsAreRefusedInStagingAndProduction(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, env := range []string{"staging", "production"} {
			for _, chart := range []string{"api", "worker", "lakekeeper"} {
				t.Run(env+"/"+chart, func(t *testing.T) {
					t.Parallel()
					environment(env).with(chart+".image.tag=latest").expectRefusal(t, helm, `image.tag "latest" is a floating tag, not allowed in `+env)
					environment(env).with(chart+".image.tag=").expectRefusal(t, helm, "image.tag is empty: "+env+" needs a pinned tag")
				})
			}
		}
		t.Run("dev", func(t *testing.T) {
			t.Parallel()
			objects := environment("dev").with("api.image.tag=latest").objects(t, helm)
			image := manifests.String(objects.Find("Deployment", "philotes-api"), "spec", "template", "spec", "containers", "[name=api]", "image")
			if image != "ghcr.io/janovincze/philotes-api:latest" {
				t.Errorf("dev image = %q, want the latest tag it was given", image)
			}
		})
	})
}

func TestEgressToAnyAddressNeedsAnExplicitAllowance(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		open := environment("staging").with("global.networkPolicy.endpoints.object-store.cidrs={0.0.0.0/0}")
		open.expectRefusal(t, helm, `global.networkPolicy.endpoints.object-store.cidrs[0] "0.0.0.0/0" opens egress to any address`, "allowAnyDestination")
		allowed := open.with("global.networkPolicy.endpoints.object-store.allowAnyDestination=true").objects(t, helm)
		if allowed.Find("NetworkPolicy", "philotes-lakekeeper") == nil {
			t.Errorf("with allowAnyDestination the NetworkPolicies should render: %v", allowed.IDs())
		}
		rendering{chart: "philotes-api", set: []string{"global.networkPolicy.enabled=true"}}.
			expectRefusal(t, helm, "global.networkPolicy.endpoints.buffer-database is not defined")
	})
}

// TestEveryContainerLimitsItsEphemeralStorage: without a limit, a container
// that fills the node's disk gets every pod of that node evicted.
func TestEveryContainerLimitsItsEphemeralStorage(t *testing.T) {
	forEachRendering(t, func(t *testing.T, r rendering, objects manifests.Objects) {
		for _, o := range objects {
			spec := manifests.PodSpec(o)
			if spec == nil {
				continue
			}
			for _, c := range manifests.Containers(spec) {
				for _, field := range []string{"requests", "limits"} {
					if manifests.String(c, "resources", field, "ephemeral-storage") == "" {
						t.Errorf("%s %s, container %s: no resources.%s.ephemeral-storage", o.GetKind(), o.GetName(), manifests.String(c, "name"), field)
					}
				}
			}
		}
	})
	forEachHelm(t, func(t *testing.T, helm string) {
		// A source's own resources replace the default block, so they must carry it too.
		environment("staging").with("worker.sources[0].resources.requests.cpu=1", "worker.sources[0].resources.limits.cpu=2").
			expectRefusal(t, helm, "sources[0].resources needs ephemeral-storage in both requests and limits")
	})
}
