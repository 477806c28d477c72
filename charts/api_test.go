package charts_test

import (
	"slices"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
)

// Sources hold database credentials behind the API: staging and production run it with
// authentication, named CORS origins, and a route (HTTPRoute or Ingress) to the REST API only.
func TestStagingAndProductionExposeOnlyAnAuthenticatedAPI(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := environment(env).objects(t, helm)
		config := manifests.StringMap(objects.Find("ConfigMap", "philotes-api"), "data")
		var routed []string
		if ingress := objects.Find("Ingress", "philotes-api"); ingress != nil {
			var paths []struct{ Path, PathType string }
			if err := manifests.Decode(ingress, &paths, "spec", "rules", "0", "http", "paths"); err != nil {
				t.Fatal(err)
			}
			for _, path := range paths {
				routed = append(routed, "Ingress "+path.PathType+" "+path.Path)
			}
		}
		if route := objects.Find("HTTPRoute", "philotes-api"); route != nil {
			var rules []struct {
				Matches []struct{ Path struct{ Type, Value string } }
			}
			if err := manifests.Decode(route, &rules, "spec", "rules"); err != nil {
				t.Fatal(err)
			}
			for _, rule := range rules {
				for _, match := range rule.Matches {
					routed = append(routed, "HTTPRoute "+match.Path.Type+" "+match.Path.Value)
				}
			}
		}
		if len(routed) != 1 || (routed[0] != "Ingress Prefix /api" && routed[0] != "HTTPRoute PathPrefix /api") {
			t.Errorf("%s routes %v: want the REST API under /api alone, by one Ingress or HTTPRoute (/metrics and /health are not public)", env, routed)
		}
		if env == "dev" {
			return // dev stays open, and its values file says so
		}
		if config["PHILOTES_AUTH_ENABLED"] != "true" || config["PHILOTES_API_CORS_ORIGINS"] == "" {
			t.Errorf("%s: PHILOTES_AUTH_ENABLED=%q PHILOTES_API_CORS_ORIGINS=%q: want authentication and named origins", env,
				config["PHILOTES_AUTH_ENABLED"], config["PHILOTES_API_CORS_ORIGINS"])
		}
		vars := containerEnv(t, objects.Find("Deployment", "philotes-api"))
		for _, variable := range []string{"PHILOTES_AUTH_JWT_SECRET", "PHILOTES_AUTH_ADMIN_PASSWORD"} {
			if _, ok := vars[variable]; !ok {
				t.Errorf("the API reads no %s from its Secret", variable)
			}
		}
	})
}

func TestAnOpenAPIIsRefusedOutsideDev(t *testing.T) {
	cases := map[string]struct {
		set      []string
		fragment string
	}{
		"authentication off": {[]string{"api.config.auth.enabled=false"},
			"philotes-api: config.auth.enabled must be true in production"},
		"every CORS origin": {[]string{"api.config.corsOrigins[0]=*"},
			`philotes-api: config.corsOrigins[0] "*" is not allowed in production`},
		"no CORS origin behind the HTTPRoute": {[]string{"api.config.corsOrigins=null"},
			"philotes-api: config.corsOrigins is empty, which Philotes reads as every origin"},
		"no CORS origin behind the Ingress": {[]string{"api.config.corsOrigins=null", "api.httpRoute.enabled=false", "api.ingress.enabled=true", "api.ingress.hosts[0].host=philotes.example.com"},
			"philotes-api: config.corsOrigins is empty, which Philotes reads as every origin"},
		"the whole server routed": {[]string{"api.ingress.enabled=true", "api.ingress.hosts[0].host=philotes.example.com", "api.ingress.hosts[0].paths[0].path=/"},
			`philotes-api: ingress.hosts[0].paths[0].path "/" would make more than the API public in production`},
		"metrics routed": {[]string{"api.ingress.enabled=true", "api.ingress.hosts[0].host=philotes.example.com", "api.ingress.hosts[0].paths[0].path=/metrics"},
			`ingress.hosts[0].paths[0].path "/metrics" would make more than the API public`},
		"the whole server routed by the HTTPRoute": {[]string{"api.httpRoute.paths[0].path=/"},
			`philotes-api: httpRoute.paths[0].path "/" would make more than the API public in production`},
		"an HTTPRoute attached to nothing": {[]string{"api.httpRoute.parentRefs=null"},
			"philotes-api: httpRoute.parentRefs is empty: name the Gateway"},
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				environment("production").with(c.set...).expectRefusal(t, helm, c.fragment)
			})
		}
		// Dev may run the API open, whatever it routes.
		environment("dev").with("api.ingress.hosts[0].host=philotes.localtest.me", "api.ingress.hosts[0].paths[0].path=/").objects(t, helm)
	})
}

// The API admits traffic from what routes to it: the Gateway's namespace with the
// HTTPRoute, the ingress controller's with the Ingress, and monitoring always.
func TestTheAPIAdmitsTrafficFromWhatExposesIt(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for name, c := range map[string]struct {
			set  []string
			want []string
		}{
			"HTTPRoute": {nil, []string{"gateway-system", "monitoring"}},
			"Ingress": {[]string{"api.httpRoute.enabled=false", "api.ingress.enabled=true", "api.ingress.hosts[0].host=philotes.example.com", "global.networkPolicy.namespaces.ingress-controller=ingress-system"},
				[]string{"ingress-system", "monitoring"}},
			"neither": {[]string{"api.httpRoute.enabled=false"}, []string{"monitoring"}},
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				objects := environment("production").with(c.set...).objects(t, helm)
				var rules []struct {
					From []struct {
						NamespaceSelector struct {
							MatchLabels map[string]string `json:"matchLabels"`
						} `json:"namespaceSelector"`
					} `json:"from"`
				}
				if err := manifests.Decode(objects.Find("NetworkPolicy", "philotes-api"), &rules, "spec", "ingress"); err != nil {
					t.Fatal(err)
				}
				var from []string
				for _, rule := range rules {
					for _, peer := range rule.From {
						from = append(from, peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
					}
				}
				if !slices.Equal(from, c.want) {
					t.Errorf("the API admits traffic from namespaces %v, want %v", from, c.want)
				}
			})
		}
	})
}
