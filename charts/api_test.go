package charts_test

import (
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
)

// Sources hold database credentials behind the API: staging and production run it with
// authentication, named CORS origins, and an Ingress that routes the REST API only.
func TestStagingAndProductionExposeOnlyAnAuthenticatedAPI(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := environment(env).objects(t, helm)
		config := manifests.StringMap(objects.Find("ConfigMap", "philotes-api"), "data")
		var paths []struct{ Path, PathType string }
		ingress := objects.Find("Ingress", "philotes-api")
		if err := manifests.Decode(ingress, &paths, "spec", "rules", "0", "http", "paths"); err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if path.Path != "/api" || path.PathType != "Prefix" {
				t.Errorf("the Ingress routes %s (%s): only the REST API under /api is public, /metrics and /health are not", path.Path, path.PathType)
			}
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
		"no CORS origin behind the Ingress": {[]string{"api.config.corsOrigins=null"},
			"philotes-api: config.corsOrigins is empty, which Philotes reads as every origin"},
		"the whole server routed": {[]string{"api.ingress.hosts[0].host=philotes.example.com", "api.ingress.hosts[0].paths[0].path=/"},
			`philotes-api: ingress.hosts[0].paths[0].path "/" would make more than the API public in production`},
		"metrics routed": {[]string{"api.ingress.hosts[0].host=philotes.example.com", "api.ingress.hosts[0].paths[0].path=/metrics"},
			`ingress.hosts[0].paths[0].path "/metrics" would make more than the API public`},
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
