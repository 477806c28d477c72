package gitops_test

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	gotemplate "text/template"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/images"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

const argoGroup = "argoproj.io"

type applicationSet struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Generators []struct {
			List *struct {
				Elements []map[string]string `json:"elements"`
			} `json:"list"`
		} `json:"generators"`
		Template          json.RawMessage `json:"template"`
		GoTemplate        bool            `json:"goTemplate"`
		GoTemplateOptions []string        `json:"goTemplateOptions"`
	} `json:"spec"`
}

// application is one Application an ApplicationSet generates.
type application struct {
	Element  map[string]string `json:"-"`
	Name     string            `json:"-"`
	Metadata objectMeta        `json:"metadata"`
	Spec     struct {
		Project     string      `json:"project"`
		Source      source      `json:"source"`
		Destination destination `json:"destination"`
	} `json:"spec"`
}

type destination struct {
	Server    string `json:"server"`
	Namespace string `json:"namespace"`
}

type groupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	SubPath   string `json:"subPath"`
}

type source struct {
	RepoURL        string `json:"repoURL"`
	TargetRevision string `json:"targetRevision"`
	Path           string `json:"path"`
	Kustomize      *struct {
		Components []string `json:"components"`
	} `json:"kustomize"`
	Plugin *struct {
		Name string `json:"name"`
	} `json:"plugin"`
}

func (s source) components() []string {
	if s.Kustomize == nil {
		return nil
	}
	return s.Kustomize.Components
}

type appProject struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		SourceRepos              []string      `json:"sourceRepos"`
		Destinations             []destination `json:"destinations"`
		ClusterResourceWhitelist []groupKind   `json:"clusterResourceWhitelist"`
	} `json:"spec"`
}

// argoCDApplications expands the door's ApplicationSet list generator with
// the engine the ApplicationSet controller uses when goTemplate is set: Go's
// text/template, with the set's goTemplateOptions, applied to every string of
// the template (map keys included). The controller itself is not built here
// (see docs/gitops.md); its Sprig functions are left out, and a template that
// called one would fail to parse.
func argoCDApplications(t *testing.T, door string) []application {
	t.Helper()
	set := single[applicationSet](t, door, build(t, door), argoGroup, "ApplicationSet")
	if !set.Spec.GoTemplate {
		t.Fatalf("%s: ApplicationSet %s does not set goTemplate: its template would be read with the legacy fasttemplate syntax", door, set.Metadata.Name)
	}
	var template any
	if err := json.Unmarshal(set.Spec.Template, &template); err != nil {
		t.Fatal(err)
	}
	var apps []application
	for _, generator := range set.Spec.Generators {
		if generator.List == nil {
			t.Fatalf("%s: ApplicationSet %s has a generator other than list", door, set.Metadata.Name)
		}
		for _, element := range generator.List.Elements {
			rendered, err := renderGoTemplate(template, element, set.Spec.GoTemplateOptions)
			if err != nil {
				t.Fatalf("%s: ApplicationSet %s, element %v: %v", door, set.Metadata.Name, element, err)
			}
			data, err := json.Marshal(rendered)
			if err != nil {
				t.Fatal(err)
			}
			app := application{Element: element}
			if err := json.Unmarshal(data, &app); err != nil {
				t.Fatalf("%s: %v", door, err)
			}
			app.Name = app.Metadata.Name
			apps = append(apps, app)
		}
	}
	return apps
}

// renderGoTemplate renders every string of value, map keys included, as a Go
// template of params.
func renderGoTemplate(value any, params map[string]string, options []string) (any, error) {
	render := func(text string) (string, error) {
		parsed, err := gotemplate.New("").Option(options...).Parse(text)
		if err != nil {
			return "", err
		}
		var out strings.Builder
		err = parsed.Execute(&out, params)
		return out.String(), err
	}
	switch v := value.(type) {
	case string:
		return render(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			var err error
			if out[i], err = renderGoTemplate(item, params, options); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			renderedKey, err := render(key)
			if err != nil {
				return nil, err
			}
			if out[renderedKey], err = renderGoTemplate(item, params, options); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func argoCDProject(t *testing.T, door string) appProject {
	t.Helper()
	return single[appProject](t, door, build(t, door), argoGroup, "AppProject")
}

func TestArgoCDGeneratesOneApplicationPerEnvironmentIntoItsOverlayNamespace(t *testing.T) {
	namespaces := overlayNamespaces(t)
	for _, door := range argoCDDoors {
		project := argoCDProject(t, door)
		var envs []string
		for _, app := range argoCDApplications(t, door) {
			env := app.Element["env"]
			envs = append(envs, env)
			if app.Spec.Destination.Namespace != namespaces[env] {
				t.Errorf("%s: Application %s deploys into %q, but overlays/%s sets namespace %q", door, app.Name, app.Spec.Destination.Namespace, env, namespaces[env])
			}
			if app.Spec.Project != project.Metadata.Name {
				t.Errorf("%s: Application %s is in project %q, want %q", door, app.Name, app.Spec.Project, project.Metadata.Name)
			}
			if !slices.Contains(project.Spec.Destinations, app.Spec.Destination) {
				t.Errorf("%s: AppProject %s does not allow Application %s's destination %+v", door, project.Metadata.Name, app.Name, app.Spec.Destination)
			}
		}
		if !slices.Equal(envs, testenv.Environments(t)) {
			t.Errorf("%s generates Applications for %v, want %v", door, envs, testenv.Environments(t))
		}
	}
}

func TestArgoCDApplicationsReadOnlyPathsThatExist(t *testing.T) {
	for _, door := range argoCDDoors {
		for _, app := range argoCDApplications(t, door) {
			src := app.Spec.Source
			if !existsInRepository(t, filepath.Join(src.Path, "kustomization.yaml")) {
				t.Errorf("%s: Application %s syncs %s, which holds no kustomization.yaml", door, app.Name, src.Path)
			}
			for _, component := range src.components() {
				if !existsInRepository(t, filepath.Join(src.Path, component, "kustomization.yaml")) {
					t.Errorf("%s: Application %s adds component %s (relative to %s), which holds no kustomization.yaml", door, app.Name, component, src.Path)
				}
			}
			for _, p := range manifestGeneratePaths(app) {
				if !existsInRepository(t, p) {
					t.Errorf("%s: Application %s regenerates on changes to %s, which does not exist", door, app.Name, p)
				}
			}
		}
	}
}

// manifestGeneratePaths resolves the annotation's entries to repository
// paths: "/x" is from the repository root, anything else from source.path.
func manifestGeneratePaths(app application) []string {
	var paths []string
	for _, entry := range strings.Split(app.Metadata.Annotations["argocd.argoproj.io/manifest-generate-paths"], ";") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		if rooted, ok := strings.CutPrefix(entry, "/"); ok {
			paths = append(paths, filepath.Clean(rooted))
		} else {
			paths = append(paths, filepath.Join(app.Spec.Source.Path, entry))
		}
	}
	return paths
}

// TestArgoCDApplicationsRefreshOnEveryInputOfTheirBuild: with the annotation,
// Argo CD skips regenerating an Application when a commit touches none of its
// paths, so a missing input would leave an environment stale.
func TestArgoCDApplicationsRefreshOnEveryInputOfTheirBuild(t *testing.T) {
	inputs := map[string][]string{
		argoCDOverlays: {"base", "charts"},
		argoCDRendered: nil,
	}
	for _, door := range argoCDDoors {
		for _, app := range argoCDApplications(t, door) {
			src := app.Spec.Source
			want := []string{filepath.Clean(src.Path)}
			want = append(want, inputs[door]...)
			for _, component := range src.components() {
				want = append(want, filepath.Join(src.Path, component))
			}
			covered := manifestGeneratePaths(app)
			for _, input := range want {
				if !slices.Contains(covered, input) {
					t.Errorf("%s: Application %s reads %s but its manifest-generate-paths %v miss it", door, app.Name, input, covered)
				}
			}
		}
	}
	for _, app := range argoCDApplications(t, argoCDOverlays) {
		if want := filepath.Join("overlays", app.Element["env"]); filepath.Clean(app.Spec.Source.Path) != want {
			t.Errorf("%s: Application %s syncs %s, want %s", argoCDOverlays, app.Name, app.Spec.Source.Path, want)
		}
	}
}

type container struct {
	Name            string        `json:"name"`
	Image           string        `json:"image"`
	Command         []string      `json:"command"`
	VolumeMounts    []volumeMount `json:"volumeMounts"`
	SecurityContext struct {
		RunAsUser              *int64 `json:"runAsUser"`
		ReadOnlyRootFilesystem bool   `json:"readOnlyRootFilesystem"`
	} `json:"securityContext"`
}

type volume struct {
	Name     string    `json:"name"`
	EmptyDir *struct{} `json:"emptyDir"`
}

type deployment struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Template struct {
			Spec struct {
				InitContainers []container `json:"initContainers"`
				Containers     []container `json:"containers"`
				Volumes        []volume    `json:"volumes"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// pluginSidecar is the one container the repo-server component adds: the
// component patches the argocd-repo-server Deployment and nothing else
// (argocd-cm keeps Argo CD's defaults).
func pluginSidecar(t *testing.T) container {
	t.Helper()
	var patched []string
	var deploy []deployment
	for _, file := range kustomizationFiles(t, repoServerComponent) {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		for _, n := range readManifests(t, file) {
			patched = append(patched, n.GetKind()+"/"+n.GetName())
		}
		deploy = append(deploy, objectsOf[deployment](t, readManifests(t, file), "apps", "Deployment")...)
	}
	if !slices.Equal(patched, []string{"Deployment/argocd-repo-server"}) {
		t.Fatalf("%s patches %v, want only Deployment/argocd-repo-server", repoServerComponent, patched)
	}
	pod := deploy[0].Spec.Template.Spec
	if len(pod.InitContainers) != 0 || len(pod.Containers) != 1 {
		t.Fatalf("the repo-server patch adds %d init containers and %d containers, want the plugin sidecar alone", len(pod.InitContainers), len(pod.Containers))
	}
	sidecar := pod.Containers[0]
	// The sidecar's /tmp is its own emptyDir, never the repo-server's.
	tmp := mountedAt(t, sidecar, "/tmp")
	if !slices.ContainsFunc(pod.Volumes, func(v volume) bool { return v.Name == tmp.Name && v.EmptyDir != nil }) {
		t.Errorf("the sidecar's /tmp is volume %s, which the patch does not define as an emptyDir of its own", tmp.Name)
	}
	return sidecar
}

// TestArgoCDOverlaysApplicationsUseThePluginSidecarAlone: the Applications
// name the plugin, and the sidecar is what argocd-cmp-server needs: Argo CD's
// server binary and plugin socket volumes, its user, the pinned image.
func TestArgoCDOverlaysApplicationsUseThePluginSidecarAlone(t *testing.T) {
	sidecar := pluginSidecar(t)
	for _, app := range argoCDApplications(t, argoCDOverlays) {
		if app.Spec.Source.Plugin == nil || app.Spec.Source.Plugin.Name != images.PluginName {
			t.Errorf("Application %s does not name the plugin %s: Argo CD would build it with its own kustomize, without the function", app.Name, images.PluginName)
		}
		if app.Spec.Source.Kustomize != nil {
			t.Errorf("Application %s sets kustomize options, which a plugin source ignores", app.Name)
		}
	}
	if !slices.Equal(sidecar.Command, []string{"/var/run/argocd/argocd-cmp-server"}) {
		t.Errorf("the sidecar runs %v, want Argo CD's /var/run/argocd/argocd-cmp-server", sidecar.Command)
	}
	if mountedAt(t, sidecar, "/var/run/argocd").Name != "var-files" || mountedAt(t, sidecar, "/home/argocd/cmp-server/plugins").Name != "plugins" {
		t.Errorf("the sidecar mounts %+v; want the repo-server's var-files at /var/run/argocd and plugins at /home/argocd/cmp-server/plugins", sidecar.VolumeMounts)
	}
	if u := sidecar.SecurityContext.RunAsUser; u == nil || *u != 999 || !sidecar.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("the sidecar runs as user %v with readOnlyRootFilesystem %v, want Argo CD's 999 and true", u, sidecar.SecurityContext.ReadOnlyRootFilesystem)
	}
	if want := site(t).Registry + "/" + render.PluginRepository + "@sha256:"; !strings.HasPrefix(sidecar.Image, want) {
		t.Errorf("the sidecar runs %s, want the plugin image pinned by digest, %s<digest>", sidecar.Image, want)
	}
}

func mountedAt(t *testing.T, c container, mountPath string) volumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == mountPath {
			return m
		}
	}
	t.Fatalf("container %s mounts nothing at %s", c.Name, mountPath)
	return volumeMount{}
}

// TestArgoCDSyncWavesStartTheCatalogBeforeTheServicesThatUseIt builds what
// each ApplicationSet hands to Argo CD (the rendered manifests plus the
// Applications' components) and checks the order Argo CD will sync it in.
func TestArgoCDSyncWavesStartDataServicesAndSetupJobsBeforeTheWorkloads(t *testing.T) {
	for _, app := range argoCDApplications(t, argoCDRendered) {
		env := app.Element["env"]
		var components []string
		for _, component := range app.Spec.Source.components() {
			components = append(components, filepath.Join(app.Spec.Source.Path, component))
		}
		objects := buildComposition(t, composition{Resources: []string{app.Spec.Source.Path}, Components: components})
		checkSyncOrder(t, env, objects)
	}
}

func checkSyncOrder(t *testing.T, env string, objects []*yaml.RNode) {
	t.Helper()
	wave := func(n *yaml.RNode) int {
		value, ok := n.GetAnnotations()["argocd.argoproj.io/sync-wave"]
		if !ok {
			return 0
		}
		w, err := strconv.Atoi(value)
		if err != nil {
			t.Errorf("%s: %s %s has sync-wave %q, not an integer", env, n.GetKind(), n.GetName(), value)
		}
		return w
	}
	// Argo CD runs Helm pre-install/pre-upgrade hooks as PreSync hooks, before
	// any wave; its own hook annotation overrides that.
	isPreSyncHook := func(n *yaml.RNode) bool {
		annotations := n.GetAnnotations()
		if hook, ok := annotations["argocd.argoproj.io/hook"]; ok {
			return hook == "PreSync"
		}
		hooks := strings.Split(annotations["helm.sh/hook"], ",")
		return slices.Contains(hooks, "pre-install") && slices.Contains(hooks, "pre-upgrade")
	}
	waves := map[string][]int{}
	var lakekeeperWave *int
	for _, n := range objects {
		if isPreSyncHook(n) {
			continue
		}
		component := n.GetLabels()["app.kubernetes.io/component"]
		role := "other"
		switch {
		case n.GetKind() == "Namespace":
			role = "namespace"
		case n.GetKind() == "StatefulSet":
			role = "data service"
		case n.GetKind() == "Job" && component == "bootstrap":
			role = "catalog bootstrap"
		case n.GetKind() == "Job":
			role = "setup Job"
		case n.GetKind() == "Deployment":
			role = "service"
			if n.GetLabels()["app.kubernetes.io/name"] == "lakekeeper" {
				w := wave(n)
				lakekeeperWave = &w
			}
		}
		if n.GetKind() == "Job" && n.GetAnnotations()["helm.sh/hook"] != "" && n.GetAnnotations()["argocd.argoproj.io/hook"] == "" {
			t.Errorf("%s: Job %s is a Helm %s hook without an Argo CD hook: Argo CD would move it out of the sync waves", env, n.GetName(), n.GetAnnotations()["helm.sh/hook"])
		}
		waves[role] = append(waves[role], wave(n))
	}
	for _, role := range []string{"namespace", "setup Job", "service"} {
		if len(waves[role]) == 0 {
			t.Fatalf("%s: no %s object to order; roles found: %v", env, role, slices.Collect(maps.Keys(waves)))
		}
	}
	before := func(first, then string, everythingElse bool) {
		later := waves[then]
		if everythingElse {
			for role, w := range waves {
				if role != first {
					later = slices.Concat(later, w)
				}
			}
		}
		if len(waves[first]) == 0 || len(later) == 0 {
			return
		}
		if a, b := slices.Max(waves[first]), slices.Min(later); a >= b {
			t.Errorf("%s: the %s objects sync up to wave %d, not before the %s (from wave %d)", env, first, a, then, b)
		}
	}
	before("namespace", "others", true)
	before("data service", "setup Job", false)
	before("setup Job", "service", false)
	if lakekeeperWave != nil && len(waves["catalog bootstrap"]) > 0 && slices.Min(waves["catalog bootstrap"]) < *lakekeeperWave {
		t.Errorf("%s: the catalog bootstrap syncs in wave %d, before Lakekeeper itself (wave %d)", env, slices.Min(waves["catalog bootstrap"]), *lakekeeperWave)
	}
}

func TestArgoCDProjectAdmitsEveryClusterScopedObjectTheEnvironmentsRender(t *testing.T) {
	for _, door := range argoCDDoors {
		project := argoCDProject(t, door)
		for _, env := range testenv.Environments(t) {
			for _, n := range rendered(t, env) {
				if n.GetNamespace() != "" {
					continue
				}
				group, kind := apiGroup(n.GetApiVersion()), n.GetKind()
				if !slices.Contains(project.Spec.ClusterResourceWhitelist, groupKind{Group: group, Kind: kind}) {
					t.Errorf("%s: rendered/%s holds cluster-scoped %s %s (group %q), which AppProject %s does not admit", door, env, kind, n.GetName(), group, project.Metadata.Name)
				}
			}
		}
	}
}

// TestTheApplicationSetTemplateEngineRefusesAKeyNoElementFills: with the
// set's missingkey=error, a reference without a value fails the expansion
// instead of rendering "<no value>".
func TestTheApplicationSetTemplateEngineRefusesAKeyNoElementFills(t *testing.T) {
	template := map[string]any{"metadata": map[string]any{"name": "philotes-{{.env}}", "labels": map[string]any{"{{.team}}": "x"}}}
	if _, err := renderGoTemplate(template, map[string]string{"env": "dev"}, []string{"missingkey=error"}); err == nil || !strings.Contains(err.Error(), "team") {
		t.Errorf("err = %v, want the missing key named", err)
	}
	got, err := renderGoTemplate(template, map[string]string{"env": "dev", "team": "data"}, []string{"missingkey=error"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"metadata": map[string]any{"name": "philotes-dev", "labels": map[string]any{"data": "x"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rendered %v, want %v", got, want)
	}
}
