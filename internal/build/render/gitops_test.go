package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/tree"
)

// handWrittenGitOps lays out the hand-written GitOps files the site and the
// environments are written into.
func handWrittenGitOps(t *testing.T) string {
	t.Helper()
	return tree.New(t, map[string]string{
		ArgoCDApplicationSet: "spec:\n  generators:\n  - list:\n      elements:\n      " + environmentsStart + "      - env: old\n" + environmentsEnd + "\n  template:\n    spec:\n      source:\n        repoURL: https://example.com/old.git\n        targetRevision: v0\n",
		ArgoCDProject:        "spec:\n  sourceRepos:\n  - https://example.com/old.git\n  destinations:\n  " + environmentsStart + "  - namespace: old\n" + destinationsEnd + "\n",
		ArgoCDRepoServer:     "      containers:\n      - name: plugin\n        image: example.com/old/argocd-plugin@sha256:0\n",
		ImagesGuide:          "# Images\n\n" + imagesStart + "an old table\n" + imagesEnd + "\n",
		FluxGitRepository:    "spec:\n  url: https://example.com/old.git\n",
		FluxOCIRepository:    "spec:\n  url: oci://example.com/old/manifests\n",
		FluxHelmRepository:   "spec:\n  type: oci\n  url: oci://example.com/old/charts\n",
		GitOpsGuide:          "# Guide\n\n" + prerequisitesStart + "an old table\n" + prerequisitesEnd + "\n\nMore.\n",
	})
}

var forkDigests = ImageDigests{Plugin: "sha256:" + strings.Repeat("1", 64), Function: "sha256:" + strings.Repeat("2", 64)}

var forkSite = Site{Repository: "git@git.example.org:team/philotes-deploy.git", Revision: "release/1.2", Registry: "registry.example.org:5000/team/philotes", GitSecret: "philotes-deploy-ssh"}

func TestEveryEnvironmentGetsItsEntryAndItsCustomKindsCRDs(t *testing.T) {
	files, err := GitOpsFiles(handWrittenGitOps(t), forkSite, forkDigests, []Environment{
		{Name: "dev", Namespace: "philotes-dev", Manifests: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n")},
		{Name: "qa", Namespace: "team-qa", Manifests: []byte(`apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: a}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: a}
`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	set := string(files[ArgoCDApplicationSet])
	if strings.Contains(set, "env: old") || !strings.Contains(set, "- env: qa\n        namespace: team-qa\n"+environmentsEnd) {
		t.Errorf("the ApplicationSet's list was not replaced between its markers:\n%s", set)
	}
	if project := string(files[ArgoCDProject]); strings.Contains(project, "namespace: old") || !strings.Contains(project, "namespace: team-qa\n"+destinationsEnd) {
		t.Errorf("the AppProject's destinations were not replaced between their markers:\n%s", project)
	}
	namespaces := string(files[FluxNamespaces])
	for _, want := range []string{"name: scaledobjects.keda.sh", "name: servicemonitors.monitoring.coreos.com", "name: httproutes.gateway.networking.k8s.io", "targetNamespace: team-qa"} {
		if !strings.Contains(namespaces, want) {
			t.Errorf("%s lacks %q:\n%s", FluxNamespaces, want, namespaces)
		}
	}
	if strings.Contains(namespaces, "networkpolicies") {
		t.Errorf("a Kubernetes API group was taken for a custom kind:\n%s", namespaces)
	}
	if guide := string(files[GitOpsGuide]); strings.Contains(guide, "an old table") || !strings.Contains(guide, "| qa (`team-qa`) | `httproutes.gateway.networking.k8s.io`, `scaledobjects.keda.sh`, `servicemonitors.monitoring.coreos.com` |") || !strings.HasSuffix(guide, "\n\nMore.\n") {
		t.Errorf("%s's table was not replaced between its markers:\n%s", GitOpsGuide, guide)
	}
	if !strings.Contains(string(files[FluxRenderedApps]), "path: ./rendered/qa") || !strings.Contains(string(files[FluxHelmReleaseInputs]), "PHILOTES_NAMESPACE: team-qa") {
		t.Error("the Flux Kustomizations do not list qa")
	}
}

func TestTheSiteIsWrittenWhereEachManifestNeedsIt(t *testing.T) {
	site := forkSite
	site.InsecureRegistry = true
	files, err := GitOpsFiles(handWrittenGitOps(t), site, forkDigests, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		ArgoCDApplicationSet: "        repoURL: git@git.example.org:team/philotes-deploy.git\n        targetRevision: release/1.2\n",
		ArgoCDProject:        "  sourceRepos:\n  - git@git.example.org:team/philotes-deploy.git\n",
		ArgoCDRepoServer:     "        image: registry.example.org:5000/team/philotes/argocd-plugin@" + forkDigests.Plugin + "\n",
		ImagesGuide:          "| `registry.example.org:5000/team/philotes/guardrails@" + forkDigests.Function + "` |",
		FluxGitRepository:    "  url: git@git.example.org:team/philotes-deploy.git\n  secretRef:\n    name: philotes-deploy-ssh\n",
		FluxOCIRepository:    "  url: oci://registry.example.org:5000/team/philotes/manifests\n  insecure: true\n",
		FluxHelmRepository:   "  url: oci://registry.example.org:5000/team/philotes/charts\n  insecure: true\n",
	} {
		if !strings.Contains(string(files[name]), want) || strings.Contains(string(files[name]), "old") {
			t.Errorf("%s:\n%s\nwant it to hold %q and nothing old", name, files[name], want)
		}
	}
}

func TestAManifestWithoutItsMarkersOrFieldIsRefused(t *testing.T) {
	for _, name := range []string{ArgoCDApplicationSet, FluxHelmRepository} {
		root := handWrittenGitOps(t)
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte("spec: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := GitOpsFiles(root, forkSite, forkDigests, nil); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s emptied: err = %v, want the file named", name, err)
		}
	}
}

func TestASiteAcceptsSSHAndRefusesWhatNoControllerClones(t *testing.T) {
	for _, ok := range []string{"https://github.com/a/b.git", "ssh://git@github.com/a/b.git", "ssh://git@example.com:2222/a/b", "git@github.com:a/b.git"} {
		if err := (Site{Repository: ok, Revision: "main", Registry: "ghcr.io/a/b", GitSecret: "git-key"}).Validate(); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	err := Site{Repository: "http://example.com/a.git", Revision: "a b", Registry: "oci://ghcr.io/a", RegistrySecret: "Bad_Name"}.Validate()
	for _, want := range []string{`repository "http://example.com/a.git" is not a Git URL`, `revision "a b"`, `registry "oci://ghcr.io/a" is not an OCI repository`, `registrySecret "Bad_Name" is not a Secret name`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}

func TestACloudRegistryProviderIsWrittenToTheRegistrySourcesAndExcludesASecret(t *testing.T) {
	site := forkSite
	site.RegistryProvider = "aws"
	files, err := GitOpsFiles(handWrittenGitOps(t), site, forkDigests, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FluxOCIRepository, FluxHelmRepository} {
		if !strings.Contains(string(files[name]), "\n  provider: aws\n") {
			t.Errorf("%s lacks provider: aws:\n%s", name, files[name])
		}
	}
	if strings.Contains(string(files[FluxGitRepository]), "provider") {
		t.Errorf("the GitRepository got the registry's provider:\n%s", files[FluxGitRepository])
	}
	for provider, want := range map[string]string{
		"ecr": `registryProvider "ecr" is not one Flux knows; allowed: generic, aws, azure, gcp`,
		"gcp": `registrySecret "pull" and registryProvider "gcp" both set`,
	} {
		err := Site{Repository: "https://github.com/a/b.git", Revision: "main", Registry: "ghcr.io/a/b", RegistrySecret: "pull", RegistryProvider: provider}.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("registryProvider %s: err = %v, want %s", provider, err, want)
		}
	}
}

func TestAnSSHRepositoryNeedsTheSecretFluxClonesWith(t *testing.T) {
	err := Site{Repository: "git@github.com:a/b.git", Revision: "main", Registry: "ghcr.io/a/b"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "gitSecret is empty, but Flux clones git@github.com:a/b.git over SSH only with a key") {
		t.Fatalf("err = %v, want the missing gitSecret named", err)
	}
}

func TestThePinnedDigestsAreReadBackFromTheImagesGuide(t *testing.T) {
	root := handWrittenGitOps(t)
	files, err := GitOpsFiles(root, forkSite, forkDigests, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := files.Write(root); err != nil {
		t.Fatal(err)
	}
	if pinned, err := PinnedDigests(root); err != nil || pinned != forkDigests {
		t.Errorf("PinnedDigests = %+v, %v; want %+v", pinned, err, forkDigests)
	}
	if err := os.WriteFile(filepath.Join(root, ImagesGuide), []byte("no table\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PinnedDigests(root); err == nil || !strings.Contains(err.Error(), "names 0 digests of argocd-plugin") {
		t.Errorf("a guide without the table: err = %v, want the missing digest named", err)
	}
}
