package bench

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// fleetEnvironment is where a fleet grows: production enforces every
// guardrail, so each source adds the most objects there.
const fleetEnvironment = "production"

// fleetSizes are the numbers of worker sources rendered.
var fleetSizes = []int{1, 10, 100}

func BenchmarkFleetKustomizeDoor(b *testing.B) {
	tools := doorTools(b)
	forEachFleet(b, func(b *testing.B, root string, sources int) {
		benchmarkFleet(b, sources, func() ([]byte, error) { return tools.Overlay(root, fleetEnvironment) })
	})
}

func BenchmarkFleetHelmDoor(b *testing.B) {
	tools := doorTools(b)
	forEachFleet(b, func(b *testing.B, root string, sources int) {
		benchmarkFleet(b, sources, func() ([]byte, error) { return tools.Umbrella(root, fleetEnvironment) })
	})
}

// forEachFleet gives each fleet size a root in which the environment's umbrella
// values file lists that many sources, and its overlay is generated from it
// as `make generate` would.
func forEachFleet(b *testing.B, benchmark func(b *testing.B, root string, sources int)) {
	for _, sources := range fleetSizes {
		b.Run(fmt.Sprintf("sources=%d", sources), func(b *testing.B) {
			m := testenv.NewMirror(b, testenv.RepoRoot())
			valuesFile := "charts/philotes/values-" + fleetEnvironment + ".yaml"
			m.Replace(b, valuesFile, fleetValues(b, filepath.Join(m.Source, valuesFile), sources))
			files, err := envgen.Generate(m.Root)
			if err != nil {
				b.Fatal(err)
			}
			m.ReplaceAll(b, files, "overlays/"+fleetEnvironment+"/")
			benchmark(b, m.Root, sources)
		})
	}
}

// benchmarkFleet renders and then checks that the rendering holds one worker
// Deployment per source, so a fleet that did not grow fails the benchmark.
func benchmarkFleet(b *testing.B, sources int, run func() ([]byte, error)) {
	var out []byte
	benchmarkRender(b, func() (rendered []byte, err error) {
		out, err = run()
		return out, err
	})
	objects, err := kio.FromBytes(out)
	if err != nil {
		b.Fatal(err)
	}
	workers := 0
	for _, object := range objects {
		if object.GetKind() == "Deployment" && strings.HasPrefix(object.GetName(), render.ReleaseName+"-worker-") {
			workers++
		}
	}
	if workers != sources {
		b.Fatalf("rendered %d worker Deployments for %d sources", workers, sources)
	}
	b.ReportMetric(float64(len(objects)), "objects/op")
}

// fleetValues is the umbrella values file with its first worker source
// repeated under numbered names and databases, each with its own network endpoint (the
// charts give every source a NetworkPolicy endpoint source-<name>) and Secret.
func fleetValues(b *testing.B, path string, sources int) []byte {
	b.Helper()
	var values map[string]any
	readYAML(b, path, &values)
	worker, _ := values["worker"].(map[string]any)
	listed, _ := worker["sources"].([]any)
	if len(listed) == 0 {
		b.Fatalf("%s: worker.sources is empty; the fleet repeats its first source", path)
	}
	global, _ := values["global"].(map[string]any)
	networkPolicy, _ := global["networkPolicy"].(map[string]any)
	endpoints, _ := networkPolicy["endpoints"].(map[string]any)
	template, _ := listed[0].(map[string]any)
	name, _ := template["name"].(string)
	endpoint, ok := endpoints["source-"+name]
	if !ok {
		b.Fatalf("%s: global.networkPolicy.endpoints has no source-%s for worker source %q", path, name, name)
	}
	for _, source := range listed {
		listedName, _ := source.(map[string]any)["name"].(string)
		delete(endpoints, "source-"+listedName)
	}
	fleet := make([]any, sources)
	for i := range fleet {
		source := maps.Clone(template)
		source["name"] = fmt.Sprintf("%s-%03d", name, i)
		// Each its own database: the charts refuse two sources of one database name.
		source["database"] = fmt.Sprintf("%s_%03d", template["database"], i)
		if secret, ok := template["existingSecret"].(string); ok {
			source["existingSecret"] = strings.Replace(secret, name, source["name"].(string), 1)
		}
		endpoints["source-"+source["name"].(string)] = endpoint
		fleet[i] = source
	}
	worker["sources"] = fleet
	return marshalYAML(b, values)
}
