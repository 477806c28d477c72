package charts_test

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/command"
	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const (
	umbrella = "philotes"
	// release is the release name both doors use.
	release = "philotes"
	// namespace differs from "default" so that a template missing its namespace shows.
	namespace = "philotes-test"
	// kubeVersion is the oldest Kubernetes the charts support (kubeVersion in Chart.yaml):
	// rendering for it proves the templates need nothing newer.
	kubeVersion = "1.30.0"
	// devKubeVersion is the oldest Kubernetes of the dev PostgreSQL, whose wal2json is an image
	// volume: renderings that deploy it use this one.
	devKubeVersion = "1.35.0"
)

// chartKubeVersions are the kubeVersion constraints of the charts' Chart.yaml.
var chartKubeVersions = map[string]string{"postgresql": ">=" + devKubeVersion + "-0"}

func chartKubeVersion(chart string) string {
	if constraint, ok := chartKubeVersions[chart]; ok {
		return constraint
	}
	return ">=" + kubeVersion + "-0"
}

// serviceCharts are the installable charts of Philotes itself besides the umbrella.
var serviceCharts = []string{"philotes-api", "philotes-worker", "lakekeeper"}

// dataServiceCharts are the dev-only data services; they refuse every other environment.
var dataServiceCharts = []string{"postgresql", "object-store"}

// installableCharts are the charts `helm template` renders (the library chart renders nothing).
var installableCharts = slices.Concat(serviceCharts, dataServiceCharts, []string{umbrella})

// dataServiceDevValues makes a data service chart renderable on its own: dev, with credentials.
var dataServiceDevValues = map[string][]string{
	"postgresql":   {"global.environment=dev", "global.profile=development", "secrets.superuserPassword=postgres-password", "roles[0].name=philotes", "roles[0].password=buffer-password", "databases[0].name=philotes", "databases[0].owner=philotes"},
	"object-store": {"global.environment=dev", "global.profile=development", "secrets.accessKey=access-key", "secrets.secretKey=secret-key"},
}

// isDataService reports whether an object belongs to a dev data service (not to its Jobs).
func isDataService(o *yaml.RNode) bool {
	return slices.Contains(dataServiceCharts, manifests.String(o, "metadata", "labels", "app.kubernetes.io/name"))
}

// standalone is a chart installed on its own with its defaults (a data service in dev).
func standalone(chart string) rendering {
	r := rendering{chart: chart, set: dataServiceDevValues[chart]}
	if chart == "postgresql" {
		r.kubeVersion = devKubeVersion
	}
	return r
}

func chartsDir() string { return filepath.Join(testenv.RepoRoot(), "charts") }

var readCharts = sync.OnceValue(func() error {
	return filepath.WalkDir(chartsDir(), func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() || entry.Type()&fs.ModeSymlink != 0 {
			return err
		}
		_, err = os.ReadFile(path)
		return err
	})
})

// helmTool returns a pinned Helm CLI. It first reads every file under charts/ once: only
// Helm, a child process, reads the charts otherwise, and `go test` caches a result by the
// files the test binary itself opens, so an edited template would replay a cached pass.
func helmTool(t *testing.T, name string) string {
	t.Helper()
	if err := readCharts(); err != nil {
		t.Fatalf("reading the charts: %v", err)
	}
	return testenv.Tool(t, name)
}

// rendering is one `helm template` run.
type rendering struct {
	chart   string   // directory under charts/
	values  []string // values files, relative to charts/
	set     []string // --set arguments
	release string   // default: release
	// namespace is the release's namespace; default: namespace.
	namespace string
	// kubeVersion is the Kubernetes version Helm renders for; default: kubeVersion.
	kubeVersion string
}

// environment is the umbrella chart with one environment's values file.
func environment(env string) rendering {
	r := rendering{chart: umbrella, values: []string{filepath.Join(umbrella, "values-"+env+".yaml")}}
	// The environment's global.namespace; without it the render fails with the charts' own
	// message about the namespace, which then names the problem.
	r.namespace, _ = envgen.Namespace(testenv.RepoRoot(), env)
	if env == "dev" {
		r.kubeVersion = devKubeVersion
	}
	return r
}

// with returns a copy with more --set arguments.
func (r rendering) with(set ...string) rendering {
	r.set = append(slices.Clone(r.set), set...)
	return r
}

func (r rendering) String() string {
	parts := append([]string{r.chart}, r.values...)
	return strings.Join(append(parts, r.set...), " ")
}

func (r rendering) args() []string {
	name := r.release
	if name == "" {
		name = release
	}
	version := r.kubeVersion
	if version == "" {
		version = kubeVersion
	}
	releaseNamespace := cmp.Or(r.namespace, namespace)
	args := []string{"template", name, r.chart, "--namespace", releaseNamespace, "--kube-version", version}
	for _, file := range r.values {
		args = append(args, "--values", file)
	}
	for _, set := range r.set {
		args = append(args, "--set", set)
	}
	return args
}

// renderResult is one rendering's output, computed once however many tests ask.
type renderResult struct {
	once sync.Once
	out  []byte
	err  error
}

var renders sync.Map // helm path + args -> *renderResult

func (r rendering) run(helm string) ([]byte, error) {
	args := r.args()
	cached, _ := renders.LoadOrStore(helm+"\x00"+strings.Join(args, "\x00"), &renderResult{})
	result := cached.(*renderResult)
	result.once.Do(func() { result.out, result.err = testenv.RunErr(chartsDir(), helm, args...) })
	return result.out, result.err
}

// objects renders and parses, failing the test when Helm refuses the values.
func (r rendering) objects(t *testing.T, helm string) manifests.Objects {
	t.Helper()
	out, err := r.run(helm)
	if err != nil {
		t.Fatalf("helm template %s: %v", r, err)
	}
	objects, err := manifests.Parse(out)
	if err != nil {
		t.Fatalf("helm template %s: %v", r, err)
	}
	return objects
}

// refusal renders values that must be refused and returns Helm's error message.
func (r rendering) refusal(t *testing.T, helm string) string {
	t.Helper()
	out, err := r.run(helm)
	var toolErr *command.Error
	if err == nil {
		t.Fatalf("helm template %s was accepted, want it refused; it rendered %d bytes", r, len(out))
	} else if !errors.As(err, &toolErr) {
		t.Fatalf("helm template %s: %v", r, err)
	}
	return toolErr.Stderr
}

// expectRefusal checks that Helm refuses the values with a message holding every fragment.
func (r rendering) expectRefusal(t *testing.T, helm string, fragments ...string) {
	t.Helper()
	message := r.refusal(t, helm)
	for _, fragment := range fragments {
		if !strings.Contains(message, fragment) {
			t.Errorf("helm template %s refused with %q, want it to mention %q", r, message, fragment)
		}
	}
}

// forEachHelm runs a parallel subtest per Helm major in .bin/.
func forEachHelm(t *testing.T, test func(t *testing.T, helm string)) {
	t.Helper()
	for _, cli := range testenv.HelmCLIs {
		t.Run(cli, func(t *testing.T) {
			t.Parallel()
			test(t, helmTool(t, cli))
		})
	}
}

// forEachEnvironment runs a parallel subtest per Helm major and environment.
func forEachEnvironment(t *testing.T, test func(t *testing.T, helm, env string)) {
	t.Helper()
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, env := range testenv.Environments(t) {
			t.Run(env, func(t *testing.T) {
				t.Parallel()
				test(t, helm, env)
			})
		}
	})
}

// everyRendering is each installable chart with its defaults and the umbrella with each
// environment: the renderings whose every object the invariant tests check.
func everyRendering(t testing.TB) []rendering {
	var all []rendering
	for _, chart := range installableCharts {
		all = append(all, standalone(chart))
	}
	for _, env := range testenv.Environments(t) {
		all = append(all, environment(env))
	}
	return all
}

// forEachRendering runs a parallel subtest per Helm major and rendering with its objects.
func forEachRendering(t *testing.T, test func(t *testing.T, r rendering, objects manifests.Objects)) {
	t.Helper()
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, r := range everyRendering(t) {
			t.Run(r.String(), func(t *testing.T) {
				t.Parallel()
				test(t, r, r.objects(t, helm))
			})
		}
	})
}

// valuesFiles lists a chart's values files (values.yaml and values-*.yaml).
func valuesFiles(t *testing.T, chart string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartsDir(), chart, "values*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files in charts/%s: %v", chart, err)
	}
	for i, file := range files {
		files[i], _ = filepath.Rel(chartsDir(), file)
	}
	return files
}

// readYAML decodes a file under charts/ into v.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartsDir(), path))
	if err != nil {
		t.Fatal(err)
	}
	node, err := yaml.Parse(string(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := node.YNode().Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// environmentOf is the environment a rendering runs in: its umbrella values file's, else the
// environment it sets, else the default of global.environment.
func environmentOf(t testing.TB, r rendering) string {
	for _, env := range testenv.Environments(t) {
		if slices.Equal(r.values, environment(env).values) || slices.Contains(r.set, "global.environment="+env) {
			return env
		}
	}
	return "production"
}

// labelled returns the objects of a kind whose label has the given value.
func labelled(objects manifests.Objects, kind, label, value string) manifests.Objects {
	var matched manifests.Objects
	for _, o := range objects.OfKind(kind) {
		if manifests.String(o, "metadata", "labels", label) == value {
			matched = append(matched, o)
		}
	}
	return matched
}

// deploymentsOf returns the Deployments whose app.kubernetes.io/name is the given one.
func deploymentsOf(objects manifests.Objects, appName string) manifests.Objects {
	return labelled(objects, "Deployment", "app.kubernetes.io/name", appName)
}
