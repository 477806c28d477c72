package charts_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// policy is one column of the environment table in charts/philotes/README.md.
type policy struct {
	apiReplicas   int // the Deployment's replicas, or the HPA's minimum when it owns them
	hpa           bool
	keda          bool
	networkPolicy bool
	pdb           bool
	// exposedBy is the kind that routes to the API: an Ingress without TLS in dev, an
	// HTTPRoute attached to a Gateway (whose listener holds the TLS) elsewhere.
	exposedBy    string
	dataServices bool // the dev PostgreSQL and S3 store run in the release
}

var environmentTable = map[string]policy{
	"dev":        {apiReplicas: 1, exposedBy: "Ingress", dataServices: true},
	"staging":    {apiReplicas: 2, hpa: true, networkPolicy: true, pdb: true, exposedBy: "HTTPRoute"},
	"production": {apiReplicas: 3, hpa: true, keda: true, networkPolicy: true, pdb: true, exposedBy: "HTTPRoute"},
}

func TestEnvironmentsFollowTheEnvironmentTable(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		want, documented := environmentTable[env]
		if !documented {
			t.Skipf("charts/philotes/README.md's environment table has no %s column", env)
		}
		objects := environment(env).objects(t, helm)
		deployment := objects.Find("Deployment", "philotes-api")
		if deployment == nil {
			t.Fatalf("no Deployment philotes-api in %v", objects.IDs())
		}
		hpa := objects.Find("HorizontalPodAutoscaler", "philotes-api")
		if (hpa != nil) != want.hpa {
			t.Errorf("API HPA rendered: %v, want %v", hpa != nil, want.hpa)
		}
		replicas := manifests.String(deployment, "spec", "replicas")
		if want.hpa {
			if replicas != "" {
				t.Errorf("the HPA owns the API's replicas, but the Deployment sets %s", replicas)
			}
			replicas = manifests.String(hpa, "spec", "minReplicas")
		}
		if replicas != strconv.Itoa(want.apiReplicas) {
			t.Errorf("API replicas = %q, want %d", replicas, want.apiReplicas)
		}
		if got := len(objects.OfKind("ScaledObject")) > 0; got != want.keda {
			t.Errorf("KEDA ScaledObjects rendered: %v, want %v", got, want.keda)
		}
		for _, d := range objects.OfKind("Deployment") {
			if got := objects.Find("PodDisruptionBudget", d.GetName()) != nil; got != want.pdb {
				t.Errorf("PodDisruptionBudget of %s rendered: %v, want %v", d.GetName(), got, want.pdb)
			}
			if got := objects.Find("NetworkPolicy", d.GetName()) != nil; got != want.networkPolicy {
				t.Errorf("NetworkPolicy of %s rendered: %v, want %v", d.GetName(), got, want.networkPolicy)
			}
		}
		if got := len(objects.OfKind("StatefulSet")) > 0; got != want.dataServices {
			t.Errorf("data services rendered: %v, want %v", got, want.dataServices)
		}
		if got := objects.Find("NetworkPolicy", "philotes-default-deny") != nil; got != want.networkPolicy {
			t.Errorf("default-deny NetworkPolicy rendered: %v, want %v", got, want.networkPolicy)
		}
		for _, kind := range []string{"Ingress", "HTTPRoute"} {
			if exposes := objects.Find(kind, "philotes-api") != nil; exposes != (kind == want.exposedBy) {
				t.Errorf("%s philotes-api rendered: %v; the API is to be exposed by an %s", kind, exposes, want.exposedBy)
			}
		}
		if ingress := objects.Find("Ingress", "philotes-api"); ingress != nil && manifests.Lookup(ingress, "spec", "tls") != nil {
			t.Errorf("dev's Ingress has TLS, which the table says it has not")
		}
	})
}

// Resources grow from dev (low) over staging (medium) to production (high), for every
// container's requests and limits.
func TestResourcesGrowFromDevToProduction(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		// The environments the table documents, in promotion order.
		environments := slices.DeleteFunc(testenv.Environments(t), func(env string) bool { _, documented := environmentTable[env]; return !documented })
		sizes := map[string][]map[string]int64{} // app/container -> per environment -> resource -> amount
		for _, env := range environments {
			for _, d := range environment(env).objects(t, helm).OfKind("Deployment") {
				for _, c := range manifests.Containers(manifests.PodSpec(d)) {
					// Workers are named after their sources, which differ between environments.
					id := manifests.String(d, "metadata", "labels", "app.kubernetes.io/name") + "/" + manifests.String(c, "name")
					if len(sizes[id]) > slices.Index(environments, env) {
						continue
					}
					amounts := map[string]int64{}
					for _, kind := range []string{"requests", "limits"} {
						for resource, quantity := range manifests.StringMap(c, "resources", kind) {
							amount, err := testenv.MilliValue(quantity)
							if err != nil {
								t.Fatalf("%s in %s: %v", id, env, err)
							}
							amounts[kind+"."+resource] = amount
						}
					}
					sizes[id] = append(sizes[id], amounts)
				}
			}
		}
		for id, perEnvironment := range sizes {
			if len(perEnvironment) != len(environments) {
				t.Errorf("%s is not in every environment", id)
				continue
			}
			for resource := range perEnvironment[0] {
				// Ephemeral storage is sized from what a container writes (its logs), not
				// from its load: the same in every environment.
				if strings.HasSuffix(resource, ".ephemeral-storage") {
					continue
				}
				for i := 1; i < len(environments); i++ {
					if perEnvironment[i][resource] <= perEnvironment[i-1][resource] {
						t.Errorf("%s %s: %s has %d, not more than %s's %d", id, resource,
							environments[i], perEnvironment[i][resource], environments[i-1], perEnvironment[i-1][resource])
					}
				}
			}
		}
	})
}
