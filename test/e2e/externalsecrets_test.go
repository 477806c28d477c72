package e2e

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// TestTheExternalSecretsOfEveryProtectedEnvironmentPassTheOperatorsSchema
// renders staging and production with global.externalSecrets on and applies
// every ExternalSecret to the API server, which validates it against the CRD of
// the pinned External Secrets Operator. No operator runs here to fill the
// Secrets: that the keys are the ones the pods read is the charts' test.
func TestTheExternalSecretsOfEveryProtectedEnvironmentPassTheOperatorsSchema(t *testing.T) {
	c := shared.Cluster(t)
	c.InstallCRDs(t, cluster.ExternalSecretsCRDs)
	const namespace = "external-secrets-check"
	c.CreateNamespace(t, namespace, nil)
	helm := testenv.Tool(t, "helm")
	for _, env := range []string{"staging", "production"} {
		out := testenv.Run(t, testenv.RepoRoot(), helm, "template", render.ReleaseName, "charts/philotes",
			"--namespace", testenv.Namespace(t, env), "--values", "charts/philotes/values-"+env+".yaml",
			"--set", "global.externalSecrets.enabled=true",
			"--set", "global.externalSecrets.storeRef.name=vault",
			"--set", "global.externalSecrets.remoteKeyPrefix=philotes/"+env+"/",
			"--set", "worker.sources[0].preparation.adminSecret=orders-admin")
		objects, err := kio.FromBytes(out)
		if err != nil {
			t.Fatal(err)
		}
		var externalSecrets []*yaml.RNode
		for _, o := range objects {
			if o.GetKind() == "ExternalSecret" {
				if err := o.SetNamespace(namespace); err != nil {
					t.Fatal(err)
				}
				externalSecrets = append(externalSecrets, o)
			}
		}
		if len(externalSecrets) == 0 {
			t.Fatalf("%s renders no ExternalSecret with global.externalSecrets on", env)
		}
		manifest, err := kio.StringAll(externalSecrets)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := c.ApplyManifestErr(t, manifest+"---\n"); err != nil {
			t.Errorf("%s: the API server refuses the ExternalSecrets: %v\n%s", env, err, out)
		}
	}
}
