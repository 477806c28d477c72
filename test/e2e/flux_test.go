package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/servers"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// fluxWait bounds each wait for the Flux controllers: the first reconciliation
// of every environment takes seconds on the fake nodes.
const fluxWait = "180s"

// publishedPaths are what the Flux Git door reads from the repository: the
// GitRepository's ignore rules keep only these.
var publishedPaths = []string{render.RenderedDir, "base", "gitops"}

// fluxSource lays out the repository as Flux's Git door reads it, with the
// GitOps manifests written by `make render`'s code for a site that points at
// the tests' Git server.
func fluxSource(t *testing.T, site render.Site) string {
	t.Helper()
	root := testenv.RepoRoot()
	dir := t.TempDir()
	for _, path := range append(publishedPaths, render.SiteFile) {
		if strings.HasSuffix(path, ".yaml") {
			data, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, path), data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.CopyFS(filepath.Join(dir, path), os.DirFS(filepath.Join(root, path))); err != nil {
			t.Fatal(err)
		}
	}
	var envs []render.Environment
	for _, env := range testenv.Environments(t) {
		manifests, err := os.ReadFile(filepath.Join(root, render.RenderedDir, env, render.ManifestsFile))
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, render.Environment{Name: env, Namespace: testenv.Namespace(t, env), Manifests: manifests})
	}
	files, err := render.GitOpsFiles(root, site, envs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := files.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestFluxControllersSyncEveryEnvironmentFromGit runs Flux's own
// source-controller and kustomize-controller against the control plane, fed by
// a Git server: the Flux Git door as a user applies it reaches Ready in every
// environment, the workloads become available, and a second commit is rolled out.
func TestFluxControllersSyncEveryEnvironmentFromGit(t *testing.T) {
	c := cluster.Start(t)
	c.InstallCRDs(t, cluster.KEDACRDs, cluster.PrometheusOperatorCRDs)
	c.StartFlux(t, "source-controller", "kustomize-controller")
	git := servers.StartGitServer(t)

	site, err := render.LoadSite(testenv.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	site.Repository = git.URL + "/philotes-deploy.git"
	source := fluxSource(t, site)
	first := git.Publish(t, "philotes-deploy", source, "first")

	door := testenv.Run(t, source, testenv.Tool(t, "kustomize"), "build", filepath.Join("gitops", "flux", "git"))
	c.ApplyManifest(t, string(door))

	envs := testenv.Environments(t)
	for _, env := range envs {
		for _, kustomization := range []string{"philotes-" + env + "-namespace", "philotes-" + env} {
			waitFluxReady(t, c, "kustomization/"+kustomization, first)
		}
		c.WaitAvailable(t, testenv.Namespace(t, env))
		c.WaitJobsComplete(t, testenv.Namespace(t, env))
	}

	// A second commit changes a value of dev's rendered manifests; Flux rolls it out.
	manifests := filepath.Join(source, render.RenderedDir, envs[0], render.ManifestsFile)
	data, err := os.ReadFile(manifests)
	if err != nil {
		t.Fatal(err)
	}
	const annotations = "kind: Deployment\nmetadata:\n  annotations:\n"
	changed := strings.Replace(string(data), annotations, annotations+"    philotes.io/second-commit: rolled-out\n", 1)
	if changed == string(data) {
		t.Fatalf("%s: no Deployment with annotations to change", manifests)
	}
	if err := os.WriteFile(manifests, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	second := git.Publish(t, "philotes-deploy", source, "second")
	c.Kubectl(t, "annotate", "--overwrite", "--namespace="+cluster.FluxNamespace, "gitrepository/philotes-deploy",
		"reconcile.fluxcd.io/requestedAt="+time.Now().Format(time.RFC3339Nano))
	waitFluxReady(t, c, "kustomization/philotes-"+envs[0], second)
	annotated := c.Kubectl(t, "get", "deployments", "--namespace="+testenv.Namespace(t, envs[0]),
		`--output=jsonpath={range .items[*]}{.metadata.annotations.philotes\.io/second-commit}{"\n"}{end}`)
	if !strings.Contains(string(annotated), "rolled-out") {
		t.Errorf("the second commit's annotation is on no Deployment of %s:\n%s", envs[0], annotated)
	}
}

// waitFluxReady waits until a Flux object is Ready at the given commit.
func waitFluxReady(t *testing.T, c *cluster.Cluster, object, commit string) {
	t.Helper()
	if _, err := c.KubectlErr("wait", "--namespace="+cluster.FluxNamespace, "--timeout="+fluxWait,
		"--for=jsonpath={.status.lastAppliedRevision}=main@sha1:"+commit, object); err != nil {
		status, _ := c.KubectlErr("get", "--namespace="+cluster.FluxNamespace, "gitrepositories,kustomizations", "--output=yaml")
		t.Fatalf("%s did not apply commit %s: %v\n%s", object, commit, err, status)
	}
	if _, err := c.KubectlErr("wait", "--namespace="+cluster.FluxNamespace, "--timeout="+fluxWait, "--for=condition=Ready", object); err != nil {
		status, _ := c.KubectlErr("get", "--namespace="+cluster.FluxNamespace, object, "--output=yaml")
		t.Fatalf("%s is not Ready: %v\n%s", object, err, status)
	}
}
