package gitops_test

import (
	"encoding/json"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
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
		Template json.RawMessage `json:"template"`
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
		Version    string   `json:"version"`
		Components []string `json:"components"`
	} `json:"kustomize"`
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

// argoCDApplications expands the door's ApplicationSet list generator the way
// the ApplicationSet controller does for {{.key}} references.
func argoCDApplications(t *testing.T, door string) []application {
	t.Helper()
	set := single[applicationSet](t, door, build(t, door), argoGroup, "ApplicationSet")
	var apps []application
	for _, generator := range set.Spec.Generators {
		if generator.List == nil {
			t.Fatalf("%s: ApplicationSet %s has a generator other than list", door, set.Metadata.Name)
		}
		for _, element := range generator.List.Elements {
			template := string(set.Spec.Template)
			for key, value := range element {
				template = strings.ReplaceAll(template, "{{."+key+"}}", value)
			}
			if strings.Contains(template, "{{") {
				t.Fatalf("%s: the template of ApplicationSet %s keeps a reference no element %v fills: %s", door, set.Metadata.Name, element, template)
			}
			app := application{Element: element}
			if err := json.Unmarshal([]byte(template), &app); err != nil {
				t.Fatalf("%s: %v", door, err)
			}
			app.Name = app.Metadata.Name
			apps = append(apps, app)
		}
	}
	return apps
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
		argoCDOverlays: {"base", "charts", "functions"},
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

type configMap struct {
	Data map[string]string `json:"data"`
}

type container struct {
	Name         string   `json:"name"`
	Image        string   `json:"image"`
	Args         []string `json:"args"`
	Env          []struct{ Name, Value string }
	VolumeMounts []volumeMount `json:"volumeMounts"`
}

type deployment struct {
	Spec struct {
		Template struct {
			Spec struct {
				InitContainers []container `json:"initContainers"`
				Containers     []container `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func (c container) env(t *testing.T, name string) string {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	t.Fatalf("container %s sets no %s", c.Name, name)
	return ""
}

// repoServerPatches reads the component's patches of argocd-cm and of the
// repo-server Deployment.
func repoServerPatches(t *testing.T) (configMap, deployment) {
	t.Helper()
	var cm []configMap
	var deploy []deployment
	for _, file := range kustomizationFiles(t, repoServerComponent) {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		nodes := readManifests(t, file)
		cm = append(cm, objectsOf[configMap](t, nodes, "", "ConfigMap")...)
		deploy = append(deploy, objectsOf[deployment](t, nodes, "apps", "Deployment")...)
	}
	if len(cm) != 1 || len(deploy) != 1 {
		t.Fatalf("%s patches %d ConfigMaps and %d Deployments, want argocd-cm and argocd-repo-server", repoServerComponent, len(cm), len(deploy))
	}
	return cm[0], deploy[0]
}

// TestArgoCDRepoServerBuildsTheOverlaysWithTheFlagsAndToolsOfMakeRender: the
// Argo CD door must give what `make render` gives, so the repo-server runs the
// same kustomize with the same flags and the function of the synced release.
func TestArgoCDRepoServerBuildsTheOverlaysWithTheFlagsAndToolsOfMakeRender(t *testing.T) {
	cm, repoServer := repoServerPatches(t)
	options := strings.Fields(cm.Data["kustomize.buildOptions"])
	for _, flag := range render.KustomizeFlags {
		if !slices.Contains(options, flag) {
			t.Errorf("argocd-cm kustomize.buildOptions %q lack %s, which `make render` passes", cm.Data["kustomize.buildOptions"], flag)
		}
	}

	kustomizePin := pinnedVersion(t, "kustomize", "sigs.k8s.io/kustomize/kustomize/v5")
	var registered []string
	for key := range cm.Data {
		if version, ok := strings.CutPrefix(key, "kustomize.path."); ok {
			registered = append(registered, version)
		}
	}
	if !slices.Equal(registered, []string{kustomizePin}) {
		t.Fatalf("argocd-cm registers kustomize versions %v, want only the pin of tools/kustomize, %s", registered, kustomizePin)
	}
	kustomizePath := cm.Data["kustomize.path."+kustomizePin]

	apps := argoCDApplications(t, argoCDOverlays)
	for _, app := range apps {
		if app.Spec.Source.Kustomize == nil || app.Spec.Source.Kustomize.Version != kustomizePin {
			t.Errorf("Application %s does not select kustomize %s, the version argocd-cm registers", app.Name, kustomizePin)
		}
	}

	pod := repoServer.Spec.Template.Spec
	if len(pod.InitContainers) != 1 || len(pod.Containers) != 1 {
		t.Fatalf("the repo-server patch adds %d init containers and patches %d containers, want one each", len(pod.InitContainers), len(pod.Containers))
	}
	installer, server := pod.InitContainers[0], pod.Containers[0]
	release := installer.env(t, "PHILOTES_DEPLOY_VERSION")
	for _, app := range apps {
		if app.Spec.Source.TargetRevision != release {
			t.Errorf("Application %s syncs %s but the repo-server installs philotes-guardrails %s: both must name the same release", app.Name, app.Spec.Source.TargetRevision, release)
		}
	}
	if got := installer.env(t, "KUSTOMIZE_VERSION"); got != kustomizePin {
		t.Errorf("the repo-server installs kustomize %s, want the pin of tools/kustomize, %s", got, kustomizePin)
	}
	functionPackage := goModDirective(t, "go.mod", "module") + "/functions/guardrails"
	if !existsInRepository(t, "functions/guardrails/main.go") {
		t.Errorf("functions/guardrails/main.go is missing: the repo-server installs %s", functionPackage)
	}
	script := strings.Join(installer.Args, "\n")
	for _, install := range []string{
		functionPackage + "@${PHILOTES_DEPLOY_VERSION}",
		"sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}",
	} {
		if !strings.Contains(script, "go install \""+install+"\"") {
			t.Errorf("the repo-server's init container does not run `go install %s`:\n%s", install, script)
		}
	}
	checkGoImage(t, installer.Image)

	// go install names the binary after the package directory, into GOBIN.
	gobin := installer.env(t, "GOBIN")
	toolsVolume := mountedAt(t, installer, gobin)
	if filepath.Dir(kustomizePath) != gobin {
		t.Errorf("argocd-cm runs kustomize from %s, but it is installed into %s", kustomizePath, gobin)
	}
	if mountedAt(t, server, gobin).Name != toolsVolume.Name {
		t.Errorf("the repo-server does not mount volume %s at %s", toolsVolume.Name, gobin)
	}
	function := "/usr/local/bin/" + overlayFunctionName(t)
	mount := mountedAt(t, server, function)
	if mount.Name != toolsVolume.Name || mount.SubPath != path.Base(functionPackage) {
		t.Errorf("the repo-server mounts %+v at %s, want volume %s, subPath %s", mount, function, toolsVolume.Name, path.Base(functionPackage))
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

// checkGoImage: the init container's Go must build the module (its go directive).
func checkGoImage(t *testing.T, image string) {
	t.Helper()
	name, tag, _ := strings.Cut(path.Base(image), ":")
	required := goModDirective(t, "go.mod", "go")
	if name != "golang" || compareVersions(tag, required) < 0 {
		t.Errorf("the repo-server builds with %s, want a golang image of Go %s or newer (go.mod)", image, required)
	}
}

// compareVersions compares dotted numeric versions such as 1.26.8 and 1.26.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// overlayFunctionName is the executable the overlays' guardrail function
// declares: kustomize looks a bare name up on PATH.
func overlayFunctionName(t *testing.T) string {
	t.Helper()
	var names []string
	for _, env := range testenv.Environments(t) {
		for _, n := range readManifests(t, filepath.Join("overlays", env, envgen.GuardrailsFile)) {
			var function struct {
				Exec struct {
					Path string `json:"path"`
				} `json:"exec"`
			}
			if err := yaml.Unmarshal([]byte(n.GetAnnotations()["config.kubernetes.io/function"]), &function); err != nil {
				t.Fatalf("overlays/%s/%s: %v", env, envgen.GuardrailsFile, err)
			}
			names = append(names, function.Exec.Path)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) != 1 || strings.Contains(names[0], "/") {
		t.Fatalf("the overlays run exec functions %v, want one bare name looked up on PATH", names)
	}
	return names[0]
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
