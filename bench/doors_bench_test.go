package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// The door benchmarks of one environment run in one binary, so that the
// ratios in docs/benchmarks.md compare numbers taken in the same run.

func BenchmarkKustomizeDoor(b *testing.B) {
	tools := doorTools(b)
	forEachEnvironment(b, func(b *testing.B, env string) {
		benchmarkRender(b, kustomizeDoorRender(tools, testenv.RepoRoot(), env))
	})
}

func BenchmarkHelmDoor(b *testing.B) {
	tools := doorTools(b)
	forEachEnvironment(b, func(b *testing.B, env string) {
		benchmarkRender(b, helmDoorRender(tools, testenv.RepoRoot(), env))
	})
}

// BenchmarkBareHelm is the baseline: `helm template` of each chart the
// environment's overlay inflates, with the arguments kustomize gives helm, one
// after the other as kustomize runs them, and nothing else.
func BenchmarkBareHelm(b *testing.B) {
	tools := doorTools(b)
	forEachEnvironment(b, func(b *testing.B, env string) {
		run, charts := bareHelmRender(b, tools, testenv.RepoRoot(), env)
		benchmarkRender(b, run)
		b.ReportMetric(float64(charts), "charts/op")
	})
}

// BenchmarkGuardrailsFunction runs the function binary as kustomize runs it
// inside the Kustomize door: once, in the overlay's directory, with a
// ResourceList of the environment's inflated charts on stdin.
func BenchmarkGuardrailsFunction(b *testing.B) {
	tools := doorTools(b)
	forEachEnvironment(b, func(b *testing.B, env string) {
		benchmarkRender(b, functionRender(b, tools, testenv.RepoRoot(), env))
	})
}

// BenchmarkDoorsSideBySide runs every render of an environment in turn within
// each iteration and reports their times and ratios. The benchmarks above run
// one after another, so on a shared machine a change of load between them
// skews their ratios; here every render of an iteration sees the same load.
// Besides the doors it times the door without its function and validator
// (the difference is what the function costs a render, kustomize's handling
// of an exec function included) and the `helm version --short` kustomize
// runs before every chart it inflates.
func BenchmarkDoorsSideBySide(b *testing.B) {
	tools := doorTools(b)
	root := testenv.RepoRoot()
	forEachEnvironment(b, func(b *testing.B, env string) {
		bare, charts := bareHelmRender(b, tools, root, env)
		parts := []struct {
			name string
			run  func() ([]byte, error)
		}{
			{"bare-helm", bare},
			{"helm-door", helmDoorRender(tools, root, env)},
			{"kustomize-door", kustomizeDoorRender(tools, root, env)},
			{"without-function", withoutFunctionRender(b, tools, root, env)},
			{"function", functionRender(b, tools, root, env)},
			{"helm-version", helmVersionRender(tools, root)},
		}
		spent := map[string]time.Duration{}
		iterations := 0
		for b.Loop() {
			for _, part := range parts {
				start := time.Now()
				if _, err := part.run(); err != nil {
					b.Fatal(err)
				}
				spent[part.name] += time.Since(start)
			}
			iterations++
		}
		for _, part := range parts {
			b.ReportMetric(float64(spent[part.name].Nanoseconds())/float64(iterations), part.name+"-ns/op")
		}
		b.ReportMetric(float64(charts), "charts/op")
		kustomize := spent["kustomize-door"].Seconds()
		b.ReportMetric(kustomize/spent["bare-helm"].Seconds(), "kustomize/bare")
		b.ReportMetric(spent["helm-door"].Seconds()/spent["bare-helm"].Seconds(), "helm/bare")
		b.ReportMetric(spent["function"].Seconds()/kustomize, "function/kustomize")
		b.ReportMetric((kustomize-spent["without-function"].Seconds())/kustomize, "function-in-door/kustomize")
	})
}

func kustomizeDoorRender(tools render.Tools, root, env string) func() ([]byte, error) {
	return func() ([]byte, error) { return tools.Overlay(root, env) }
}

func helmDoorRender(tools render.Tools, root, env string) func() ([]byte, error) {
	return func() ([]byte, error) { return tools.Umbrella(root, env) }
}

func helmVersionRender(tools render.Tools, root string) func() ([]byte, error) {
	return func() ([]byte, error) { return testenv.RunErr(root, tools.Helm, "version", "--short") }
}

func bareHelmRender(b *testing.B, tools render.Tools, root, env string) (run func() ([]byte, error), charts int) {
	commands := overlayHelmTemplates(b, tools, root, env)
	return func() ([]byte, error) {
		var all bytes.Buffer
		for _, args := range commands {
			out, err := testenv.RunErr(root, tools.Helm, args...)
			if err != nil {
				return nil, err
			}
			all.Write(out)
		}
		return all.Bytes(), nil
	}, len(commands)
}

func withoutFunctionRender(b *testing.B, tools render.Tools, root, env string) func() ([]byte, error) {
	return kustomizeDoorRender(tools, unguardedRoot(b, root, env), env)
}

// functionRender runs the function once before returning, and fails unless
// the function marked the workloads it guarded, so a benchmark of a function
// that did nothing cannot pass.
func functionRender(b *testing.B, tools render.Tools, root, env string) func() ([]byte, error) {
	b.Helper()
	function := testenv.Tool(b, "philotes-guardrails")
	overlay := filepath.Join(root, "overlays", env)
	input := functionInput(b, tools, root, env)
	run := func() ([]byte, error) { return runFunction(overlay, input, function) }
	out, err := run()
	if err != nil {
		b.Fatal(err)
	}
	items, err := (&kio.ByteReader{Reader: bytes.NewReader(out)}).Read()
	if err != nil {
		b.Fatal(err)
	}
	for _, item := range items {
		if _, ok := item.GetAnnotations()["guardrails.philotes.io/enforced"]; ok {
			return run
		}
	}
	b.Fatalf("overlays/%s: no workload carries guardrails.philotes.io/enforced in the function's output of %d objects", env, len(items))
	return nil
}

// unguardedRoot is a mirror of root whose overlays/<env> has no transformers
// (the function) and no validators (they need the function's mark).
func unguardedRoot(b *testing.B, root, env string) string {
	b.Helper()
	var kustomization map[string]any
	readYAML(b, filepath.Join(root, "overlays", env, "kustomization.yaml"), &kustomization)
	delete(kustomization, "transformers")
	delete(kustomization, "validators")
	m := testenv.NewMirror(b, root)
	m.Replace(b, "overlays/"+env+"/kustomization.yaml", marshalYAML(b, kustomization))
	return m.Root
}

// functionInput is the ResourceList kustomize hands the function in
// overlays/<env>: what the overlay inflates before its transformers run, and
// guardrails.yaml as the function config.
func functionInput(b *testing.B, tools render.Tools, root, env string) []byte {
	b.Helper()
	built, err := tools.Overlay(unguardedRoot(b, root, env), env)
	if err != nil {
		b.Fatal(err)
	}
	items, err := kio.FromBytes(built)
	if err != nil {
		b.Fatal(err)
	}
	config, err := kyaml.ReadFile(filepath.Join(root, "overlays", env, envgen.GuardrailsFile))
	if err != nil {
		b.Fatal(err)
	}
	var input bytes.Buffer
	writer := kio.ByteWriter{Writer: &input, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion, FunctionConfig: config}
	if err := writer.Write(items); err != nil {
		b.Fatal(err)
	}
	return input.Bytes()
}

// overlayHelmTemplates are the helm arguments kustomize derives from the
// HelmChartInflationGenerator objects of overlays/<env>: building the
// overlay's charts/ kustomization yields those objects with the namespace
// patched in, and kustomize resolves their paths against the overlay.
func overlayHelmTemplates(b *testing.B, tools render.Tools, root, env string) [][]string {
	b.Helper()
	overlay := filepath.Join(root, "overlays", env)
	built, err := tools.Build(root, filepath.Join(overlay, "charts"))
	if err != nil {
		b.Fatal(err)
	}
	generators, err := kio.FromBytes(built)
	if err != nil {
		b.Fatal(err)
	}
	var commands [][]string
	for _, generator := range generators {
		if generator.GetKind() != "HelmChartInflationGenerator" {
			continue
		}
		text, err := generator.String()
		if err != nil {
			b.Fatal(err)
		}
		var chart struct {
			types.HelmGlobals
			types.HelmChart
		}
		if err := yaml.Unmarshal([]byte(text), &chart); err != nil {
			b.Fatalf("overlays/%s/charts: generator %s: %v", env, generator.GetName(), err)
		}
		chart.ValuesFile = filepath.Join(overlay, chart.ValuesFile)
		commands = append(commands, chart.AsHelmArgs(filepath.Join(overlay, chart.ChartHome)))
	}
	if len(commands) == 0 {
		b.Fatalf("overlays/%s/charts inflates no chart", env)
	}
	return commands
}

func doorTools(b *testing.B) render.Tools {
	b.Helper()
	testenv.Tool(b, "philotes-guardrails")
	return render.Tools{Kustomize: testenv.Tool(b, "kustomize"), Helm: testenv.Tool(b, "helm"), BinDir: testenv.BinDir()}
}

func forEachEnvironment(b *testing.B, benchmark func(b *testing.B, env string)) {
	for _, env := range testenv.Environments(b) {
		b.Run(env, func(b *testing.B) { benchmark(b, env) })
	}
}

// benchmarkRender times render and reports, next to the wall time, the CPU
// time of the processes it ran (kustomize's helm and function processes
// included): on a shared machine wall time also counts waiting for a core.
func benchmarkRender(b *testing.B, run func() ([]byte, error)) {
	b.Helper()
	b.ReportAllocs()
	before := childCPU(b)
	iterations := 0
	for b.Loop() {
		if _, err := run(); err != nil {
			b.Fatal(err)
		}
		iterations++
	}
	b.ReportMetric(float64((childCPU(b)-before).Nanoseconds())/float64(iterations), "cpu-ns/op")
}

// childCPU is the user and system time of every process this one has run and
// waited for, their own waited-for children included.
func childCPU(b *testing.B) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &usage); err != nil {
		b.Fatal(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// runFunction runs an exec KRM function the way kustomize does: in the
// directory of the kustomization that declares it, the ResourceList on stdin.
func runFunction(dir string, input []byte, function string) ([]byte, error) {
	cmd := exec.Command(function)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s in %s: %w\n%s", filepath.Base(function), dir, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func readYAML(tb testing.TB, path string, into any) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

func marshalYAML(tb testing.TB, value any) []byte {
	tb.Helper()
	data, err := yaml.Marshal(value)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
