package charts_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// withExternalSecrets turns the ExternalSecrets on against a Vault-backed
// store, with a source that the chart prepares (its admin Secret is needed too).
func withExternalSecrets(env string) rendering {
	return withPrepared(env).with(
		"global.externalSecrets.enabled=true",
		"global.externalSecrets.storeRef.name=vault",
		"global.externalSecrets.remoteKeyPrefix=philotes/"+env+"/",
	)
}

// TestExternalSecretsProduceEverySecretThePodsRead: with them on, nothing is
// left to create by hand in staging and production; off, the Secrets are the
// prerequisites docs/gitops.md lists and no ExternalSecret is rendered.
func TestExternalSecretsProduceEverySecretThePodsRead(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, env := range []string{"staging", "production"} {
			t.Run(env, func(t *testing.T) {
				out, err := withExternalSecrets(env).run(helm)
				if err != nil {
					t.Fatal(err)
				}
				unmet, err := render.UnmetSecrets(out)
				if err != nil {
					t.Fatal(err)
				}
				if len(unmet) != 0 {
					t.Errorf("with ExternalSecrets on, the pods still read Secrets nothing produces: %v", unmet)
				}
				objects := withExternalSecrets(env).objects(t, helm)
				for _, es := range objects.OfKind("ExternalSecret") {
					var spec struct {
						SecretStoreRef struct{ Name, Kind string }
						Target         struct{ Name, CreationPolicy string }
						Data           []struct {
							SecretKey string
							RemoteRef struct{ Key, Property string }
						}
					}
					testenv.Decode(t, es, &spec, "spec")
					if spec.SecretStoreRef.Name != "vault" || spec.Target.Name != es.GetName() || spec.Target.CreationPolicy != "Orphan" {
						t.Errorf("ExternalSecret %s: store %+v, target %+v", es.GetName(), spec.SecretStoreRef, spec.Target)
					}
					for _, d := range spec.Data {
						if d.RemoteRef.Key != "philotes/"+env+"/"+es.GetName() || d.RemoteRef.Property != d.SecretKey {
							t.Errorf("ExternalSecret %s reads key %s from %+v, want property %s of philotes/%s/%s", es.GetName(), d.SecretKey, d.RemoteRef, d.SecretKey, env, es.GetName())
						}
					}
				}
				off, err := withPrepared(env).run(helm)
				if err != nil {
					t.Fatal(err)
				}
				byHand, err := render.UnmetSecrets(off)
				if err != nil {
					t.Fatal(err)
				}
				var produced []string
				for _, es := range objects.OfKind("ExternalSecret") {
					produced = append(produced, es.GetName())
				}
				var needed []string
				for name := range byHand {
					needed = append(needed, name)
				}
				if !sameSet(produced, needed) {
					t.Errorf("the ExternalSecrets produce %v, but off, the Secrets to create by hand are %v", produced, needed)
				}
				if offObjects := withPrepared(env).objects(t, helm); len(offObjects.OfKind("ExternalSecret")) != 0 {
					t.Error("ExternalSecrets are rendered while global.externalSecrets.enabled is off")
				}
			})
		}
		// Sources that share their Secrets share their ExternalSecrets, with the keys of both.
		shared := withExternalSecrets("production").with(
			"worker.sources[1].name=billing", "worker.sources[1].host=billing.example.com", "worker.sources[1].database=billing",
			"worker.sources[1].user=philotes", "worker.sources[1].existingSecret=philotes-worker-orders-credentials",
			"worker.sources[1].preparation.adminSecret=orders-admin",
			"global.networkPolicy.endpoints.source-billing.cidrs[0]=203.0.113.5/32", "global.networkPolicy.endpoints.source-billing.port=5432",
		).objects(t, helm)
		var names []string
		for _, es := range shared.OfKind("ExternalSecret") {
			names = append(names, es.GetName())
		}
		if want := []string{"orders-admin", "philotes-api-credentials", "philotes-lakekeeper-credentials", "philotes-worker-orders-credentials"}; !reflect.DeepEqual(sorted(names), want) {
			t.Errorf("two sources sharing their Secrets render ExternalSecrets %v, want each once: %v", names, want)
		}
		// The release's own PostgreSQL Secret, which dev's preparation reads, is rendered, never an ExternalSecret's.
		ownServer := environment("dev").with("worker.sources[0].preparation.adminSecret=",
			"global.externalSecrets.enabled=true", "global.externalSecrets.storeRef.name=vault")
		for _, es := range ownServer.objects(t, helm).OfKind("ExternalSecret") {
			t.Errorf("dev renders ExternalSecret %s for a Secret the release renders itself", es.GetName())
		}
		withPrepared("production").with("global.externalSecrets.enabled=true").
			expectRefusal(t, helm, "global.externalSecrets.storeRef.name is empty: name the SecretStore or ClusterSecretStore the ExternalSecret of", "or turn global.externalSecrets.enabled off")
	})
}

func sorted(items []string) []string {
	out := slices.Clone(items)
	slices.Sort(out)
	return out
}

func sameSet(a, b []string) bool {
	set := func(items []string) map[string]bool {
		m := map[string]bool{}
		for _, item := range items {
			m[item] = true
		}
		return m
	}
	return reflect.DeepEqual(set(a), set(b))
}
