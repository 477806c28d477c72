package render

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
)

// Environment is one rendered environment, as the GitOps lists need it.
type Environment struct {
	Name      string
	Namespace string
	Manifests []byte
}

// The GitOps files that hold one entry per environment. `make render` writes
// them from the environments and their rendered manifests, so that adding an
// environment changes no hand-written file.
const (
	ArgoCDApplicationSet  = "gitops/argocd/overlays/applicationset.yaml"
	ArgoCDProject         = "gitops/argocd/project/appproject.yaml"
	ArgoCDRepoServer      = "gitops/argocd/repo-server/argocd-repo-server.yaml"
	FluxNamespaces        = "gitops/flux/namespaces/namespaces.yaml"
	FluxRenderedApps      = "gitops/flux/rendered/kustomizations.yaml"
	FluxHelmReleaseInputs = "gitops/flux/helm/kustomizations.yaml"
	FluxGitRepository     = "gitops/flux/git-source/gitrepository.yaml"
	FluxOCIRepository     = "gitops/flux/oci-source/ocirepository.yaml"
	FluxHelmRepository    = "gitops/flux/helm/helmrepository.yaml"
	// GitOpsGuide holds the table of what each environment needs before its first sync.
	GitOpsGuide = "docs/gitops.md"
	// ImagesGuide holds the table of the published images, pinned by digest.
	ImagesGuide = "docs/images.md"
)

// The guide's generated table stands between these lines.
const (
	prerequisitesStart = "<!-- prerequisites:start: written by `make render` from rendered/, do not edit -->\n"
	prerequisitesEnd   = "<!-- prerequisites:end -->"
)

// The OCI repositories under the site's registry.
const (
	ChartsRepository    = "charts"
	ManifestsRepository = "manifests"
	// The Argo CD plugin sidecar image and the container KRM function image.
	PluginRepository   = "argocd-plugin"
	FunctionRepository = "guardrails"
)

// ImageDigests are the digests of the images `make images` builds: the same
// pins give the same digests, so the manifests reference the images by them.
type ImageDigests struct {
	Plugin   string
	Function string
}

// The guide's table of the published images stands between these lines.
const (
	imagesStart = "<!-- images:start: written by `make render` from the images it builds, do not edit -->\n"
	imagesEnd   = "<!-- images:end -->"
)

// The ApplicationSet's list of environments and the AppProject's destinations
// stand between these lines; the rest of those files is written by hand.
const (
	environmentsStart = "# environments:start: written by `make render` from charts/philotes/values-<env>.yaml, do not edit\n"
	environmentsEnd   = "      # environments:end"
	destinationsEnd   = "  # environments:end"
)

// siteFields are the lines of hand-written manifests that `make render` sets
// from the site file: the prefix before the value, per file.
var siteFields = []struct {
	file  string
	line  *regexp.Regexp
	value func(Site, ImageDigests) string
}{
	{ArgoCDApplicationSet, regexp.MustCompile(`(?m)^( +repoURL: ).*$`), func(s Site, _ ImageDigests) string { return s.Repository }},
	{ArgoCDApplicationSet, regexp.MustCompile(`(?m)^( +targetRevision: ).*$`), func(s Site, _ ImageDigests) string { return s.Revision }},
	{ArgoCDProject, regexp.MustCompile(`(?m)^(  sourceRepos:\n  - ).*$`), func(s Site, _ ImageDigests) string { return s.Repository }},
	// The repo-server's sidecar runs the plugin image `make images` builds.
	{ArgoCDRepoServer, regexp.MustCompile(`(?m)^( +image: ).*$`), func(s Site, d ImageDigests) string { return s.Registry + "/" + PluginRepository + "@" + d.Plugin }},
	{FluxGitRepository, regexp.MustCompile(`(?m)^(  url: ).*$`), func(s Site, _ ImageDigests) string { return s.Repository }},
	{FluxOCIRepository, regexp.MustCompile(`(?m)^(  url: ).*$`), func(s Site, _ ImageDigests) string { return "oci://" + s.Registry + "/" + ManifestsRepository }},
	{FluxHelmRepository, regexp.MustCompile(`(?m)^(  url: ).*$`), func(s Site, _ ImageDigests) string { return "oci://" + s.Registry + "/" + ChartsRepository }},
}

const generatedHeader = "# Written by `make render`, one entry per charts/philotes/values-<env>.yaml: do not edit.\n"

// GitOpsFiles returns the GitOps files that list the environments or carry the
// site's repository, revision and registry.
func GitOpsFiles(root string, site Site, digests ImageDigests, envs []Environment) (generated.Files, error) {
	handWritten := map[string][]byte{}
	for _, field := range siteFields {
		if _, read := handWritten[field.file]; read {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(field.file)))
		if err != nil {
			return nil, err
		}
		handWritten[field.file] = data
	}
	var elements, destinations, namespaces, renderedApps, helmInputs []string
	var tables []prerequisites
	for _, env := range envs {
		// One reading of the rendered objects serves every list below.
		p, err := readPrerequisites(env)
		if err != nil {
			return nil, err
		}
		tables = append(tables, p)
		elements = append(elements, fmt.Sprintf("      - env: %s\n        namespace: %s\n", env.Name, env.Namespace))
		destinations = append(destinations, fmt.Sprintf("  - server: https://kubernetes.default.svc\n    namespace: %s\n", env.Namespace))
		namespaces = append(namespaces, namespaceKustomization(env, p.crds))
		renderedApps = append(renderedApps, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: philotes-%[1]s
  namespace: flux-system
spec:
  dependsOn:
  - name: philotes-%[1]s-namespace
  path: ./%[2]s/%[1]s
`, env.Name, RenderedDir))
		var workloads strings.Builder
		for _, w := range p.workloads {
			fmt.Fprintf(&workloads, "  - apiVersion: apps/v1\n    kind: %s\n    name: %s\n    namespace: %s\n", w.kind, w.name, env.Namespace)
		}
		helmInputs = append(helmInputs, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: philotes-%[1]s-helm
  namespace: flux-system
spec:
  dependsOn:
  - name: philotes-%[1]s-namespace
  postBuild:
    substitute:
      PHILOTES_ENVIRONMENT: %[1]s
      PHILOTES_NAMESPACE: %[2]s
  healthChecks:
  - apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    name: philotes-%[1]s
    namespace: flux-system
%[3]s`, env.Name, env.Namespace, workloads.String()))
	}
	imagesGuide, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ImagesGuide)))
	if err != nil {
		return nil, err
	}
	if handWritten[ImagesGuide], err = generated.Splice(imagesGuide, imagesStart, imagesEnd, "\n"+imagesTable(site, digests)+"\n"); err != nil {
		return nil, fmt.Errorf("%s: %w", ImagesGuide, err)
	}
	guide, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(GitOpsGuide)))
	if err != nil {
		return nil, err
	}
	table := prerequisitesTable(envs, tables)
	if handWritten[GitOpsGuide], err = generated.Splice(guide, prerequisitesStart, prerequisitesEnd, "\n"+table+"\n"); err != nil {
		return nil, fmt.Errorf("%s: %w", GitOpsGuide, err)
	}
	if handWritten[ArgoCDApplicationSet], err = generated.Splice(handWritten[ArgoCDApplicationSet], environmentsStart, environmentsEnd, strings.Join(elements, "")); err != nil {
		return nil, fmt.Errorf("%s: %w", ArgoCDApplicationSet, err)
	}
	if handWritten[ArgoCDProject], err = generated.Splice(handWritten[ArgoCDProject], environmentsStart, destinationsEnd, strings.Join(destinations, "")); err != nil {
		return nil, fmt.Errorf("%s: %w", ArgoCDProject, err)
	}
	for file, options := range map[string]sourceOptions{
		FluxGitRepository:  {secret: site.GitSecret},
		FluxOCIRepository:  {secret: site.RegistrySecret, insecure: site.InsecureRegistry, provider: site.RegistryProvider},
		FluxHelmRepository: {secret: site.RegistrySecret, insecure: site.InsecureRegistry, provider: site.RegistryProvider},
	} {
		handWritten[file] = options.apply(handWritten[file])
	}
	for _, field := range siteFields {
		text := handWritten[field.file]
		if n := len(field.line.FindAllIndex(text, -1)); n != 1 {
			return nil, fmt.Errorf("%s: %d lines match %s, want one: the site's value goes there", field.file, n, field.line)
		}
		handWritten[field.file] = field.line.ReplaceAllFunc(text, func(line []byte) []byte {
			prefix := field.line.FindSubmatch(line)[1]
			return append(append([]byte{}, prefix...), field.value(site, digests)...)
		})
	}
	files := generated.Files{
		FluxNamespaces: []byte(generatedHeader + `# One Kustomization per environment owns its Namespace: the base the overlays
# use, renamed to the environment's namespace. Its health checks are the
# Namespace and the CRDs of every custom kind in the environment's rendered
# manifests, which the cluster's platform installs; the app Kustomizations
# depend on these, so they are applied only into a ready namespace on a
# cluster that serves every kind they contain.
` + strings.Join(namespaces, "---\n")),
		FluxRenderedApps: []byte(generatedHeader + `# Flux's kustomize-controller runs neither helm nor KRM functions, so it
# applies rendered/<env>, the overlays' output that ` + "`make render`" + ` committed.
# The manifests carry their namespace: no targetNamespace.
` + strings.Join(renderedApps, "---\n")),
		FluxHelmReleaseInputs: []byte(generatedHeader + `# One HelmRelease per environment from a single template (release/), filled in
# by postBuild substitution, and applied only once the namespace is ready (a
# HelmRelease can depend on other HelmReleases only, hence the Kustomization
# around it). Ready when the HelmRelease is (installed, every hook Job done)
# and every workload the environment renders is: the HelmRelease does not wait
# for them (see release/helmrelease.yaml), so the health checks do.
` + strings.Join(helmInputs, "---\n")),
	}
	for name, content := range handWritten {
		files[name] = content
	}
	return files, nil
}

// sourceOptionLines are what sourceOptions writes after a Flux source's url line.
var sourceOptionLines = regexp.MustCompile(`(?m)^  (secretRef:\n    name: .*|insecure: true|provider: .*)\n`)

// sourceOptions are the site's settings of one Flux source.
type sourceOptions struct {
	secret   string
	insecure bool
	// provider is the cloud whose workload identity logs in; generic (the
	// default, written as nothing) uses the secret or none.
	provider string
}

// apply gives a Flux source the secretRef and insecure flag the site asks for, or none.
func (o sourceOptions) apply(manifest []byte) []byte {
	manifest = sourceOptionLines.ReplaceAll(manifest, nil)
	var lines string
	if o.secret != "" {
		lines += "  secretRef:\n    name: " + o.secret + "\n"
	}
	if o.insecure {
		lines += "  insecure: true\n"
	}
	if o.provider != "" && o.provider != GenericProvider {
		lines += "  provider: " + o.provider + "\n"
	}
	url := regexp.MustCompile(`(?m)^  url: .*\n`)
	return url.ReplaceAllFunc(manifest, func(line []byte) []byte {
		return append(append([]byte{}, line...), lines...)
	})
}

func namespaceKustomization(env Environment, crds []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: philotes-%[1]s-namespace
  namespace: flux-system
spec:
  targetNamespace: %[2]s
  healthChecks:
  - apiVersion: v1
    kind: Namespace
    name: %[2]s
`, env.Name, env.Namespace)
	for _, crd := range crds {
		fmt.Fprintf(&b, "  - apiVersion: apiextensions.k8s.io/v1\n    kind: CustomResourceDefinition\n    name: %s\n", crd)
	}
	return b.String()
}

// imagesTable lists each published image by the reference that pins it.
func imagesTable(site Site, digests ImageDigests) string {
	row := func(repository, digest, holds string) string {
		return fmt.Sprintf("| `%s/%s@%s` | %s |\n", site.Registry, repository, digest, holds)
	}
	return "| Image | Contents |\n|---|---|\n" +
		row(PluginRepository, digests.Plugin, "the Argo CD plugin sidecar: kustomize, Helm 4, philotes-guardrails and the plugin definition") +
		row(FunctionRepository, digests.Function, "philotes-guardrails as a container KRM function (its entrypoint)")
}

// PinnedDigests reads the image digests `make render` last wrote into the
// images guide: what the committed manifests pin.
func PinnedDigests(root string) (ImageDigests, error) {
	guide, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ImagesGuide)))
	if err != nil {
		return ImageDigests{}, err
	}
	pinned := func(repository string) (string, error) {
		matches := regexp.MustCompile(`/`+regexp.QuoteMeta(repository)+`@(sha256:[0-9a-f]{64})`+"`").FindAllSubmatch(guide, -1)
		if len(matches) != 1 {
			return "", fmt.Errorf("%s names %d digests of %s, want one: run make render", ImagesGuide, len(matches), repository)
		}
		return string(matches[0][1]), nil
	}
	var digests ImageDigests
	if digests.Plugin, err = pinned(PluginRepository); err != nil {
		return digests, err
	}
	digests.Function, err = pinned(FunctionRepository)
	return digests, err
}
