package main

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// The benchmarks the report reads, as named in bench/ and
// functions/guardrails/guardrails/bench_test.go.
const (
	bareHelm           = "BenchmarkBareHelm/"
	helmDoor           = "BenchmarkHelmDoor/"
	kustomizeDoor      = "BenchmarkKustomizeDoor/"
	guardrailsFunction = "BenchmarkGuardrailsFunction/"
	sideBySide         = "BenchmarkDoorsSideBySide/"
)

var (
	guardrailsLists = regexp.MustCompile(`^BenchmarkGuardrails(\d+)k$`)
	fleetKustomize  = regexp.MustCompile(`^BenchmarkFleetKustomizeDoor/sources=(\d+)$`)
	fleetHelm       = regexp.MustCompile(`^BenchmarkFleetHelmDoor/sources=(\d+)$`)
)

// The targets of the benchmarks (docs/benchmarks.md explains them).
const (
	maxKustomizeToBareHelm = 1.5
	maxFunctionShare       = 0.10
	maxTenThousandObjects  = 1e9 // ns
	// A linear cost keeps its cost per object as the list grows; this much
	// growth between the smallest and the largest list is allowed for noise.
	maxPerObjectGrowth = 1.5
	maxHundredToTen    = 10.0
)

// machineKeys are the configuration lines `make bench` records, in the order shown.
var machineKeys = []struct{ key, label string }{
	{"date", "measured"},
	{"cpu", "CPU"},
	{"nproc", "cores (nproc)"},
	{"memory", "memory"},
	{"go", "Go"},
	{"kustomize", "kustomize"},
	{"helm", "helm"},
	{"load-before", "load average before the run (1, 5, 15 min)"},
	{"load-after", "load average after the run"},
	{"count", "runs per benchmark (-count)"},
}

// report reads medians and remembers the first missing one, so the tables
// below read as plain arithmetic.
type report struct {
	results      *Results
	environments []string
	err          error
	out          strings.Builder
}

func (r *report) median(benchmark, unit string) float64 {
	value, err := r.results.Median(benchmark, unit)
	if err != nil && r.err == nil {
		r.err = err
	}
	return value
}

func (r *report) matching(pattern *regexp.Regexp) ([]string, []int) {
	names, keys, err := r.results.Matching(pattern)
	if err != nil && r.err == nil {
		r.err = err
	}
	return names, keys
}

func (r *report) printf(format string, args ...any) {
	fmt.Fprintf(&r.out, format, args...)
}

type target struct {
	name, measured string
	met            bool
}

// Report is the generated part of docs/benchmarks.md, with a row per
// environment in the given order.
func Report(results *Results, environments []string) (string, error) {
	r := &report{results: results, environments: environments}
	r.machine()
	var targets []target
	targets = append(targets, r.doors()...)
	r.breakdown()
	targets = append(targets, r.functionLists()...)
	targets = append(targets, r.fleet()...)
	r.targets(targets)
	if r.err != nil {
		return "", r.err
	}
	return r.out.String(), nil
}

func (r *report) machine() {
	r.printf("| machine and run | |\n|---|---|\n")
	for _, k := range machineKeys {
		if value, ok := r.results.Config[k.key]; ok {
			r.printf("| %s | %s |\n", k.label, value)
		}
	}
}

func (r *report) doors() []target {
	r.printf("\n### Doors, per environment\n\n")
	r.printf("Median wall time per render. `× bare` is the ratio to bare helm of the same environment: of the medians above, of the CPU time of every process the render ran, and of the renders run side by side in each iteration of BenchmarkDoorsSideBySide (median of the runs), which a change of load during the run cannot skew; the targets are judged on the last.\n\n")
	r.printf("| environment | bare helm | Helm door | × bare | Kustomize door | × bare | × bare, CPU | × bare, side by side | function process | × Kustomize door, side by side |\n")
	r.printf("|---|---|---|---|---|---|---|---|---|---|\n")
	var worstRatio, worstShare, worstInDoorShare float64
	for _, env := range r.environments {
		bare, bareCPU := r.median(bareHelm+env, "ns/op"), r.median(bareHelm+env, "cpu-ns/op")
		helm := r.median(helmDoor+env, "ns/op")
		kustomize, kustomizeCPU := r.median(kustomizeDoor+env, "ns/op"), r.median(kustomizeDoor+env, "cpu-ns/op")
		function := r.median(guardrailsFunction+env, "ns/op")
		ratio := r.median(sideBySide+env, "kustomize/bare")
		share := r.median(sideBySide+env, "function/kustomize")
		r.printf("| %s | %s | %s | %.2f | %s | %.2f | %.2f | **%.2f** | %s | %s |\n", env,
			duration(bare), duration(helm), safeDiv(helm, bare), duration(kustomize), safeDiv(kustomize, bare),
			safeDiv(kustomizeCPU, bareCPU), ratio, duration(function), percent(share))
		worstRatio = max(worstRatio, ratio)
		worstShare = max(worstShare, share)
		worstInDoorShare = max(worstInDoorShare, r.median(sideBySide+env, "function-in-door/kustomize"))
	}
	return []target{
		{fmt.Sprintf("Kustomize door ≤ %.1f × bare helm of the same environment", maxKustomizeToBareHelm), fmt.Sprintf("%.2f × (worst environment)", worstRatio), worstRatio <= maxKustomizeToBareHelm},
		{fmt.Sprintf("function < %s of a render: the function process", percent(maxFunctionShare)), percent(worstShare) + " (worst environment)", worstShare < maxFunctionShare},
		{fmt.Sprintf("function < %s of a render: everything it adds to the Kustomize door", percent(maxFunctionShare)), percent(worstInDoorShare) + " (worst environment)", worstInDoorShare < maxFunctionShare},
	}
}

// breakdown splits the Kustomize door into what bare helm does, what
// kustomize adds around each chart, the function, and kustomize itself, from
// the renders BenchmarkDoorsSideBySide times in the same iterations.
func (r *report) breakdown() {
	r.printf("\n### Where the Kustomize door's time goes\n\n")
	r.printf("Medians of BenchmarkDoorsSideBySide: `helm template` is bare helm; kustomize runs `helm version` before each chart; the function process runs as in the door; kustomize's handling of the function is the door minus the door without function and validator, minus the process; the rest is kustomize itself.\n\n")
	r.printf("| environment | Kustomize door | helm template | helm version × charts | function process | kustomize handling the function | kustomize itself |\n")
	r.printf("|---|---|---|---|---|---|---|\n")
	for _, env := range r.environments {
		part := func(name string) float64 { return r.median(sideBySide+env, name+"-ns/op") }
		door, bare, unguarded, function := part("kustomize-door"), part("bare-helm"), part("without-function"), part("function")
		versions := r.median(sideBySide+env, "charts/op") * part("helm-version")
		parts := []float64{bare, versions, function, door - unguarded - function, unguarded - bare - versions}
		r.printf("| %s | %s |", env, duration(door))
		for _, p := range parts {
			r.printf(" %s (%s) |", duration(p), percent(safeDiv(p, door)))
		}
		r.printf("\n")
	}
}

func (r *report) functionLists() []target {
	r.printf("\n### The function on resource lists\n\n")
	r.printf("In-process Processor on generated lists (BenchmarkGuardrails in functions/guardrails/guardrails).\n\n")
	r.printf("| objects | time | per object | memory | per object | allocations |\n|---|---|---|---|---|---|\n")
	names, thousands := r.matching(guardrailsLists)
	var perObjectTime, perObjectBytes []float64
	tenThousand := -1.0
	for i, name := range names {
		objects := float64(thousands[i] * 1000)
		ns, bytes, allocs := r.median(name, "ns/op"), r.median(name, "B/op"), r.median(name, "allocs/op")
		perObjectTime = append(perObjectTime, ns/objects)
		perObjectBytes = append(perObjectBytes, bytes/objects)
		if thousands[i] == 10 {
			tenThousand = ns
		}
		r.printf("| %d | %s | %s | %s | %s | %.0f |\n", int(objects), duration(ns), duration(ns/objects), size(bytes), size(bytes/objects), allocs)
	}
	if len(names) < 2 || tenThousand < 0 {
		if r.err == nil {
			r.err = fmt.Errorf("the function's benchmarks need at least two list sizes, 10k among them; found %v", names)
		}
		return nil
	}
	timeGrowth := safeDiv(perObjectTime[len(names)-1], perObjectTime[0])
	bytesGrowth := safeDiv(perObjectBytes[len(names)-1], perObjectBytes[0])
	return []target{
		{"10k objects through the function < 1 s", duration(tenThousand), tenThousand < maxTenThousandObjects},
		{fmt.Sprintf("time and memory linear in objects (cost per object at %dk ≤ %.1f × at %dk)", thousands[len(names)-1], maxPerObjectGrowth, thousands[0]),
			fmt.Sprintf("time %.2f ×, memory %.2f ×", timeGrowth, bytesGrowth), timeGrowth <= maxPerObjectGrowth && bytesGrowth <= maxPerObjectGrowth},
	}
}

func (r *report) fleet() []target {
	r.printf("\n### A growing fleet\n\n")
	r.printf("Production with its worker source repeated; each source adds a worker Deployment with its guardrails.\n\n")
	r.printf("| sources | objects | Helm door | Kustomize door | Kustomize ÷ Helm |\n|---|---|---|---|---|\n")
	kustomizeNames, sources := r.matching(fleetKustomize)
	helmNames, helmSources := r.matching(fleetHelm)
	if r.err != nil {
		return nil
	}
	if fmt.Sprint(sources) != fmt.Sprint(helmSources) {
		r.err = fmt.Errorf("fleet sizes differ between the doors: Kustomize %v, Helm %v", sources, helmSources)
		return nil
	}
	helmTimes := map[int]float64{}
	kustomizeTimes := map[int]float64{}
	for i, n := range sources {
		helmTimes[n], kustomizeTimes[n] = r.median(helmNames[i], "ns/op"), r.median(kustomizeNames[i], "ns/op")
		r.printf("| %d | %.0f | %s | %s | %.2f |\n", n, r.median(kustomizeNames[i], "objects/op"), duration(helmTimes[n]), duration(kustomizeTimes[n]), safeDiv(kustomizeTimes[n], helmTimes[n]))
	}
	var targets []target
	for _, door := range []struct {
		name  string
		times map[int]float64
	}{{"Helm door", helmTimes}, {"Kustomize door", kustomizeTimes}} {
		ten, okTen := door.times[10]
		hundred, okHundred := door.times[100]
		if !okTen || !okHundred {
			r.err = fmt.Errorf("the fleet benchmarks need 10 and 100 sources; found %v", sources)
			return nil
		}
		ratio := safeDiv(hundred, ten)
		targets = append(targets, target{fmt.Sprintf("%s: 100 sources < %.0f × the time of 10", door.name, maxHundredToTen), fmt.Sprintf("%.2f ×", ratio), ratio < maxHundredToTen})
	}
	return targets
}

func (r *report) targets(targets []target) {
	r.printf("\n### Targets\n\n| target | measured | met |\n|---|---|---|\n")
	for _, t := range targets {
		verdict := "**no**"
		if t.met {
			verdict = "yes"
		}
		r.printf("| %s | %s | %s |\n", t.name, t.measured, verdict)
	}
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func duration(ns float64) string {
	switch magnitude := math.Abs(ns); {
	case magnitude >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case magnitude >= 1e8:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	case magnitude >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
}

func size(bytes float64) string {
	switch {
	case bytes >= 1<<30:
		return fmt.Sprintf("%.2f GiB", bytes/(1<<30))
	case bytes >= 1<<20:
		return fmt.Sprintf("%.1f MiB", bytes/(1<<20))
	case bytes >= 1<<10:
		return fmt.Sprintf("%.1f KiB", bytes/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", bytes)
	}
}

func percent(share float64) string {
	return fmt.Sprintf("%.1f %%", share*100)
}
