package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/publish"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
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
	digests, err := render.PinnedDigests(root)
	if err != nil {
		t.Fatal(err)
	}
	files, err := render.GitOpsFiles(root, site, digests, envs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := files.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fluxCluster starts a control plane of the test's own, with the CRDs of the
// custom kinds the environments render and the given Flux controllers, and
// returns it with site.yaml's settings for the test to point at its servers.
func fluxCluster(t *testing.T, controllers ...string) (*cluster.Cluster, render.Site) {
	t.Helper()
	// Its own control plane: the other tests install into the same namespaces.
	t.Parallel()
	c := cluster.Start(t)
	c.InstallCRDs(t, cluster.PlatformCRDs...)
	c.StartFlux(t, controllers...)
	site, err := render.LoadSite(testenv.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	return c, site
}

// TestFluxControllersSyncEveryEnvironmentFromGit runs Flux's own
// source-controller and kustomize-controller against the control plane, fed by
// a Git server: the Flux Git door as a user applies it reaches Ready in every
// environment, the workloads become available, and a second commit is rolled out.
func TestFluxControllersSyncEveryEnvironmentFromGit(t *testing.T) {
	c, site := fluxCluster(t, "source-controller", "kustomize-controller")
	git := servers.StartGitServer(t)
	site.Repository = git.URL + "/philotes-deploy.git"
	source := fluxSource(t, site)
	first := "main@sha1:" + git.Publish(t, "philotes-deploy", source, "first")

	door := testenv.Run(t, source, testenv.Tool(t, "kustomize"), "build", filepath.Join("gitops", "flux", "git"))
	c.ApplyManifest(t, string(door))

	envs := testenv.Environments(t)
	// Flux manages the door's own objects from then on.
	waitFluxReady(t, c, "kustomization/philotes-flux", first)
	for _, env := range envs {
		for _, kustomization := range []string{"philotes-" + env + "-namespace", "philotes-" + env} {
			waitFluxReady(t, c, "kustomization/"+kustomization, first)
		}
		c.WaitAvailable(t, testenv.Namespace(t, env))
		c.WaitJobsComplete(t, testenv.Namespace(t, env))
	}

	// A second commit changes a value of every environment's rendered manifests; Flux rolls it out.
	for _, env := range envs {
		annotateFirstDeployment(t, source, env)
	}
	// The same commit changes a setting of the door's own Flux objects, which nobody applies by hand.
	apps := filepath.Join(source, "gitops", "flux", "rendered", "kustomization.yaml")
	settings, err := os.ReadFile(apps)
	if err != nil {
		t.Fatal(err)
	}
	const interval = "      path: /spec/interval\n      value: 10m\n"
	if !strings.Contains(string(settings), interval) {
		t.Fatalf("%s sets no 10m interval to change", apps)
	}
	if err := os.WriteFile(apps, []byte(strings.Replace(string(settings), interval, "      path: /spec/interval\n      value: 11m\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	second := "main@sha1:" + git.Publish(t, "philotes-deploy", source, "second")
	c.Kubectl(t, "annotate", "--overwrite", "--namespace="+cluster.FluxNamespace, "gitrepository/philotes-deploy",
		"reconcile.fluxcd.io/requestedAt="+time.Now().Format(time.RFC3339Nano))
	waitFluxReady(t, c, "kustomization/philotes-flux", second)
	for _, env := range envs {
		waitFluxReady(t, c, "kustomization/philotes-"+env, second)
		if got := c.Kubectl(t, "get", "kustomization/philotes-"+env, "--namespace="+cluster.FluxNamespace, "--output=jsonpath={.spec.interval}"); string(got) != "11m" {
			t.Errorf("kustomization/philotes-%s has interval %q after the second commit, want 11m: Flux does not manage its own objects", env, got)
		}
		requireAnnotatedDeployment(t, c, env)
	}
}

// secondChange is the annotation the tests' second commit or artifact adds.
const secondChange = "philotes.io/second-commit"

// annotateFirstDeployment gives the first Deployment of an environment's
// rendered manifests in source the second change's annotation.
func annotateFirstDeployment(t *testing.T, source, env string) {
	t.Helper()
	manifests := filepath.Join(source, render.RenderedDir, env, render.ManifestsFile)
	data, err := os.ReadFile(manifests)
	if err != nil {
		t.Fatal(err)
	}
	const annotations = "kind: Deployment\nmetadata:\n  annotations:\n"
	changed := strings.Replace(string(data), annotations, annotations+"    "+secondChange+": rolled-out\n", 1)
	if changed == string(data) {
		t.Fatalf("%s: no Deployment with annotations to change", manifests)
	}
	if err := os.WriteFile(manifests, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
}

// requireAnnotatedDeployment fails unless a Deployment of the environment
// carries the second change's annotation.
func requireAnnotatedDeployment(t *testing.T, c *cluster.Cluster, env string) {
	t.Helper()
	annotated := c.Kubectl(t, "get", "deployments", "--namespace="+testenv.Namespace(t, env),
		`--output=jsonpath={range .items[*]}{.metadata.annotations.philotes\.io/second-commit}{"\n"}{end}`)
	if !strings.Contains(string(annotated), "rolled-out") {
		t.Errorf("the second change's annotation is on no Deployment of %s:\n%s", env, annotated)
	}
}

// waitFluxReady waits until a Flux object is Ready at the given revision of
// its source: main@sha1:<commit> from Git, main@sha256:<digest> from OCI.
func waitFluxReady(t *testing.T, c *cluster.Cluster, object, revision string) {
	t.Helper()
	if _, err := c.KubectlErr("wait", "--namespace="+cluster.FluxNamespace, "--timeout="+fluxWait,
		"--for=jsonpath={.status.lastAppliedRevision}="+revision, object); err != nil {
		status, _ := c.KubectlErr("get", "--namespace="+cluster.FluxNamespace, "gitrepositories,ocirepositories,kustomizations", "--output=yaml")
		t.Fatalf("%s did not apply revision %s: %v\n%s", object, revision, err, status)
	}
	if _, err := c.KubectlErr("wait", "--namespace="+cluster.FluxNamespace, "--timeout="+fluxWait, "--for=condition=Ready", object); err != nil {
		status, _ := c.KubectlErr("get", "--namespace="+cluster.FluxNamespace, object, "--output=yaml")
		t.Fatalf("%s is not Ready: %v\n%s", object, err, status)
	}
}

// TestFluxControllersInstallAndUpgradeTheHelmReleaseOfEveryEnvironment runs
// source-controller, kustomize-controller and helm-controller against the
// control plane: the Flux HelmRelease door installs the packaged umbrella chart,
// pushed to an OCI registry, in every environment with its Helm hooks (the
// catalog bootstrap the workers wait for is a post-install hook), and a second
// commit that changes a value of the HelmRelease upgrades every release.
func TestFluxControllersInstallAndUpgradeTheHelmReleaseOfEveryEnvironment(t *testing.T) {
	c, site := fluxCluster(t, "source-controller", "kustomize-controller", "helm-controller")
	git := servers.StartGitServer(t)
	registry := servers.StartRegistry(t)
	site.Repository = git.URL + "/philotes-deploy.git"
	// The tests' registry speaks plain HTTP.
	site.Registry, site.InsecureRegistry = registry+"/philotes", true
	source := fluxSource(t, site)
	first := "main@sha1:" + git.Publish(t, "philotes-deploy", source, "first")

	// What CI publishes: the packaged umbrella chart, under <registry>/charts.
	helm := testenv.Tool(t, "helm")
	if _, err := publish.PushChart(testenv.RepoRoot(), helm, "charts/philotes", site.Registry+"/"+render.ChartsRepository, site.InsecureRegistry); err != nil {
		t.Fatal(err)
	}

	door := testenv.Run(t, source, testenv.Tool(t, "kustomize"), "build", filepath.Join("gitops", "flux", "helm"))
	c.ApplyManifest(t, string(door))

	envs := testenv.Environments(t)
	waitFluxReady(t, c, "kustomization/philotes-flux", first)
	door3 := render.Tools{Helm: testenv.Tool(t, "helm3")}
	for _, env := range envs {
		namespace := testenv.Namespace(t, env)
		waitFluxReady(t, c, "kustomization/philotes-"+env+"-helm", first)
		c.WaitJobsComplete(t, namespace)
		// What helm-controller installed, hooks included, is the Helm door's rendering.
		installed := append(c.Helm(t, helm, "get", "manifest", render.ReleaseName, "--namespace="+namespace),
			c.Helm(t, helm, "get", "hooks", render.ReleaseName, "--namespace="+namespace)...)
		want, err := door3.Umbrella(testenv.RepoRoot(), env)
		if err != nil {
			t.Fatal(err)
		}
		requireSameObjects(t, env, installed, want)
	}

	// A second commit sets a value in the HelmRelease: every release is upgraded to it.
	release := filepath.Join(source, "gitops", "flux", "helm", "release", "helmrelease.yaml")
	data, err := os.ReadFile(release)
	if err != nil {
		t.Fatal(err)
	}
	const install = "  install:\n"
	if !strings.Contains(string(data), install) {
		t.Fatalf("%s has no install section to put values before", release)
	}
	upgraded := strings.Replace(string(data), install, "  values:\n    api:\n      podAnnotations:\n        philotes.io/second-commit: rolled-out\n"+install, 1)
	if err := os.WriteFile(release, []byte(upgraded), 0o644); err != nil {
		t.Fatal(err)
	}
	second := "main@sha1:" + git.Publish(t, "philotes-deploy", source, "second")
	c.Kubectl(t, "annotate", "--overwrite", "--namespace="+cluster.FluxNamespace, "gitrepository/philotes-deploy",
		"reconcile.fluxcd.io/requestedAt="+time.Now().Format(time.RFC3339Nano))
	for _, env := range envs {
		waitFluxReady(t, c, "kustomization/philotes-"+env+"-helm", second)
		annotation := c.Kubectl(t, "get", "deployment/philotes-api", "--namespace="+testenv.Namespace(t, env),
			`--output=jsonpath={.spec.template.metadata.annotations.philotes\.io/second-commit}`)
		if string(annotation) != "rolled-out" {
			t.Errorf("%s: the API's pods lack the second commit's annotation (%q)", env, annotation)
		}
		revision := c.Kubectl(t, "get", "helmrelease/philotes-"+env, "--namespace="+cluster.FluxNamespace,
			"--output=jsonpath={.status.history[0].version}")
		if string(revision) != "2" {
			t.Errorf("%s: the release is at revision %q after the second commit, want 2 (installed, then upgraded)", env, revision)
		}
	}
}

// helmControllerLabels are what helm-controller's post-renderer adds to every
// object it installs (hooks aside): its origin, which no chart takes part in.
var helmControllerLabels = []string{"helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"}

// requireSameObjects compares what helm-controller installed with the Helm
// door's rendering of the same environment, object by object.
func requireSameObjects(t *testing.T, env string, installed, helmDoor []byte) {
	t.Helper()
	normalized := func(data []byte) map[string]string {
		objects, err := manifests.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, o := range objects {
			for _, label := range helmControllerLabels {
				if err := o.PipeE(yaml.Lookup("metadata", "labels"), yaml.Clear(label)); err != nil {
					t.Fatal(err)
				}
			}
			var v any
			if err := o.YNode().Decode(&v); err != nil {
				t.Fatal(err)
			}
			text, err := yaml.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out[manifests.ID(o)] = string(text)
		}
		return out
	}
	got, want := normalized(installed), normalized(helmDoor)
	for id, object := range want {
		switch installedObject, ok := got[id]; {
		case !ok:
			t.Errorf("%s: helm-controller did not install %s, which the Helm door renders", env, id)
		case installedObject != object:
			t.Errorf("%s: %s differs:\n%s", env, id, testenv.FirstDifference("Helm door", object, "helm-controller", installedObject))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: helm-controller installed %s, which the Helm door does not render", env, id)
		}
	}
}

// TestFluxControllersSyncEveryEnvironmentFromAnOCIArtifact runs the Flux OCI
// door: the artifact `make publish` pushes (built by the same code) to an OCI
// registry on 127.0.0.1 is pulled by source-controller, every environment
// reaches Ready, and a second artifact under the same tag is rolled out.
func TestFluxControllersSyncEveryEnvironmentFromAnOCIArtifact(t *testing.T) {
	c, site := fluxCluster(t, "source-controller", "kustomize-controller")
	registry := servers.StartRegistry(t)
	// The tests' registry speaks plain HTTP.
	site.Registry, site.InsecureRegistry = registry+"/philotes", true
	source := fluxSource(t, site)
	push := func(revision string) string {
		t.Helper()
		artifact, err := publish.Artifact(source, publish.ManifestsPaths, site.Repository, revision)
		if err != nil {
			t.Fatal(err)
		}
		digest, err := publish.Push(artifact, site.Registry+"/"+render.ManifestsRepository, site.InsecureRegistry, "main")
		if err != nil {
			t.Fatal(err)
		}
		return "main@" + digest.String()
	}
	first := push("main@sha1:0000000000000000000000000000000000000001")

	door := testenv.Run(t, source, testenv.Tool(t, "kustomize"), "build", filepath.Join("gitops", "flux", "oci"))
	c.ApplyManifest(t, string(door))

	envs := testenv.Environments(t)
	for _, env := range envs {
		for _, kustomization := range []string{"philotes-" + env + "-namespace", "philotes-" + env} {
			waitFluxReady(t, c, "kustomization/"+kustomization, first)
		}
		c.WaitAvailable(t, testenv.Namespace(t, env))
	}

	for _, env := range envs {
		annotateFirstDeployment(t, source, env)
	}
	second := push("main@sha1:0000000000000000000000000000000000000002")
	if second == first {
		t.Fatal("the second artifact has the first one's digest")
	}
	c.Kubectl(t, "annotate", "--overwrite", "--namespace="+cluster.FluxNamespace, "ocirepository/philotes-deploy",
		"reconcile.fluxcd.io/requestedAt="+time.Now().Format(time.RFC3339Nano))
	for _, env := range envs {
		waitFluxReady(t, c, "kustomization/philotes-"+env, second)
		requireAnnotatedDeployment(t, c, env)
	}
}
