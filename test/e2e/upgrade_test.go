package e2e

import (
	"errors"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

func TestUpgradingFromThePreviousRenderedVersionAppliesWithoutImmutableFieldErrors(t *testing.T) {
	c := shared.Cluster(t)
	c.InstallCRDs(t, cluster.PlatformCRDs...)
	for _, env := range testenv.Environments(t) {
		t.Run(env, func(t *testing.T) {
			dir := path.Join(render.RenderedDir, env)
			previous, err := previousRenderedVersion(testenv.RepoRoot(), dir)
			if errors.Is(err, errNoPreviousVersion) {
				testenv.SkipUnlessRequired(t, "no upgrade to check (a shallow clone? the test reads the history of %s): %v", dir, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("upgrading %s from %s", dir, previous.revision)
			previousDir := t.TempDir()
			if err := previous.write(previousDir); err != nil {
				t.Fatal(err)
			}
			namespace := testenv.Namespace(t, env)
			previousManifests := c.Kubectl(t, "kustomize", previousDir)
			if namespaces := namespacesOf(t, previousManifests); !slices.Equal(namespaces, []string{namespace}) {
				t.Fatalf("the previous version %s installs into the namespaces %v and the current one into %s: "+
					"an upgrade would leave the previous installation running beside the new one", previous.revision, namespaces, namespace)
			}
			before := installed(t, env, namespace, previousManifests)
			after := installed(t, env, namespace, c.Kubectl(t, "kustomize", dir))

			c.UseNamespace(t, namespace)
			if out, err := c.ApplyErr("--kustomize=" + previousDir); err != nil {
				t.Fatalf("the previous version %s of %s does not install: %v\n%s", previous.revision, dir, err, out)
			}
			if !t.Run("the previous version is available", func(t *testing.T) {
				checkAdmittedAndAvailable(t, c, before)
			}) {
				return
			}
			out, err := c.ApplyErr("--kustomize=" + dir)
			if err != nil && strings.Contains(err.Error(), "field is immutable") {
				t.Fatalf("upgrading %s from %s changes immutable fields (a selector, or the template of a Job that kept its name): %v\n%s",
					dir, previous.revision, err, out)
			}
			if err != nil {
				t.Fatalf("upgrading %s from %s was refused: %v\n%s", dir, previous.revision, err, out)
			}
			t.Run("the upgrade is available and its Jobs complete", func(t *testing.T) {
				// An apply without pruning leaves what only the previous
				// version had, so the namespace holds both versions' objects.
				upgraded := after
				upgraded.jobs = sortedUnion(before.jobs, after.jobs)
				upgraded.workloads = sortedUnion(before.workloads, after.workloads)
				checkAdmittedAndAvailable(t, c, upgraded)
			})
		})
	}
}

// namespacesOf lists the namespaces that manifests put objects into or create.
func namespacesOf(t *testing.T, manifests []byte) []string {
	t.Helper()
	objects, err := kio.FromBytes(manifests)
	if err != nil {
		t.Fatal(err)
	}
	namespaces := map[string]bool{}
	for _, o := range objects {
		if o.GetKind() == "Namespace" {
			namespaces[o.GetName()] = true
		} else if namespace := o.GetNamespace(); namespace != "" {
			namespaces[namespace] = true
		}
	}
	return slices.Sorted(maps.Keys(namespaces))
}

func sortedUnion(a, b []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a), b...))))
}
