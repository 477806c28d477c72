package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleRun is the output of a run in which the Kustomize door takes
// kustomizeMs against 300 ms of bare helm, in every environment.
// sampleEnvironments are the rows of the sample runs below.
var sampleEnvironments = []string{"dev", "staging", "production"}

func sampleRun(kustomizeMs int) string {
	var b strings.Builder
	b.WriteString("nproc: 2\ngoos: linux\npkg: github.com/janovincze/philotes-deploy/bench\n")
	line := func(name string, pairs ...any) {
		fmt.Fprintf(&b, "%s-2 \t       3\t", name)
		for i := 0; i < len(pairs); i += 2 {
			fmt.Fprintf(&b, " %v %s", pairs[i], pairs[i+1])
		}
		b.WriteString("\n")
	}
	for _, env := range sampleEnvironments {
		for _, ms := range []int{290, 300, 900} {
			line("BenchmarkBareHelm/"+env, ms*1e6, "ns/op", ms*1e6, "cpu-ns/op", 3, "charts/op", 1000, "B/op", 10, "allocs/op")
		}
		line("BenchmarkHelmDoor/"+env, 200e6, "ns/op", 200e6, "cpu-ns/op")
		line("BenchmarkKustomizeDoor/"+env, kustomizeMs*1e6, "ns/op", kustomizeMs*1e6, "cpu-ns/op")
		line("BenchmarkGuardrailsFunction/"+env, 20e6, "ns/op", 20e6, "cpu-ns/op")
		k := float64(kustomizeMs)
		line("BenchmarkDoorsSideBySide/"+env, (k+660)*1e6, "ns/op", 300e6, "bare-helm-ns/op", 200e6, "helm-door-ns/op",
			k*1e6, "kustomize-door-ns/op", (k-60)*1e6, "without-function-ns/op", 20e6, "function-ns/op", 80e6, "helm-version-ns/op",
			3, "charts/op", k/300, "kustomize/bare", 200.0/300, "helm/bare", 20/k, "function/kustomize", 60/k, "function-in-door/kustomize")
		// A benchmark's log line carries its name but no results.
		fmt.Fprintf(&b, "BenchmarkKustomizeDoor/%s\n    doors_bench_test.go:1: a log line\n", env)
	}
	line("BenchmarkGuardrails1k", 50e6, "ns/op", 12e6, "B/op", 140000, "allocs/op")
	line("BenchmarkGuardrails10k", 450e6, "ns/op", 120e6, "B/op", 1400000, "allocs/op")
	line("BenchmarkGuardrails100k", 4000e6, "ns/op", 1200e6, "B/op", 14000000, "allocs/op")
	for _, n := range []int{1, 10, 100} {
		line(fmt.Sprintf("BenchmarkFleetHelmDoor/sources=%d", n), (150+10*n)*1e6, "ns/op", 6*n+20, "objects/op")
		line(fmt.Sprintf("BenchmarkFleetKustomizeDoor/sources=%d", n), (800+70*n)*1e6, "ns/op", 6*n+21, "objects/op")
	}
	return b.String()
}

func parseSample(t *testing.T, run string) *Results {
	t.Helper()
	results, err := ParseResults(strings.NewReader(run), "sample")
	if err != nil {
		t.Fatal(err)
	}
	return results
}

func TestMedianOfThreeRunsIsTheMiddleOne(t *testing.T) {
	results := parseSample(t, sampleRun(600))
	got, err := results.Median("BenchmarkBareHelm/dev", "ns/op")
	if err != nil || got != 300e6 {
		t.Errorf("median = %v, %v; want 300e6", got, err)
	}
	if runs := results.Runs("BenchmarkBareHelm/dev"); runs != 3 {
		t.Errorf("runs = %d, want 3 (log lines are not runs)", runs)
	}
	if results.Config["nproc"] != "2" {
		t.Errorf("config nproc = %q, want 2", results.Config["nproc"])
	}
}

func TestMedianOfAnEvenNumberOfRunsIsTheMeanOfTheMiddleTwo(t *testing.T) {
	results := parseSample(t, "BenchmarkX-2 1 10 ns/op\nBenchmarkX-2 1 40 ns/op\nBenchmarkX-2 1 20 ns/op\nBenchmarkX-2 1 30 ns/op\n")
	if got, _ := results.Median("BenchmarkX", "ns/op"); got != 25 {
		t.Errorf("median = %v, want 25", got)
	}
}

func TestReportShowsTheRatioToBareHelmAndFlagsAMissedTarget(t *testing.T) {
	fast, err := Report(parseSample(t, sampleRun(420)), sampleEnvironments)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fast, "| dev | 300 ms | 200 ms | 0.67 | 420 ms | 1.40 | 1.40 | **1.40** | 20.0 ms | 4.8 % |") {
		t.Errorf("the door table lacks the dev row with ratio 1.40:\n%s", fast)
	}
	if !strings.Contains(fast, "| Kustomize door ≤ 1.5 × bare helm of the same environment | 1.40 × (worst environment) | yes |") {
		t.Errorf("a 1.40 ratio should meet the target:\n%s", fast)
	}
	slow, err := Report(parseSample(t, sampleRun(900)), sampleEnvironments)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(slow, "| Kustomize door ≤ 1.5 × bare helm of the same environment | 3.00 × (worst environment) | **no** |") {
		t.Errorf("a 3.00 ratio should miss the target:\n%s", slow)
	}
}

func TestReportSplitsTheKustomizeDoorIntoItsParts(t *testing.T) {
	report, err := Report(parseSample(t, sampleRun(900)), sampleEnvironments)
	if err != nil {
		t.Fatal(err)
	}
	// 900 = 300 helm template + 3 × 80 helm version + 20 function + (60 − 20) handling + (840 − 300 − 240) kustomize.
	want := "| production | 900 ms | 300 ms (33.3 %) | 240 ms (26.7 %) | 20.0 ms (2.2 %) | 40.0 ms (4.4 %) | 300 ms (33.3 %) |"
	if !strings.Contains(report, want) {
		t.Errorf("breakdown lacks %q:\n%s", want, report)
	}
}

func TestReportJudgesLinearityAndFleetGrowth(t *testing.T) {
	report, err := Report(parseSample(t, sampleRun(900)), sampleEnvironments)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| 10k objects through the function < 1 s | 450 ms | yes |",
		"| time and memory linear in objects (cost per object at 100k ≤ 1.5 × at 1k) | time 0.80 ×, memory 1.00 × | yes |",
		"| Helm door: 100 sources < 10 × the time of 10 | 4.60 × | yes |",
		"| 100 | 621 | 1.15 s | 7.80 s | 6.78 |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

func TestReportNamesTheMissingBenchmark(t *testing.T) {
	run := strings.ReplaceAll(sampleRun(900), " helm-version-ns/op", " renamed-ns/op")
	_, err := Report(parseSample(t, run), sampleEnvironments)
	if err == nil || !strings.Contains(err.Error(), "helm-version-ns/op") || !strings.Contains(err.Error(), "BenchmarkDoorsSideBySide/dev") {
		t.Errorf("error = %v, want one naming the benchmark and its missing unit", err)
	}
}

func TestParseRefusesANonNumericValue(t *testing.T) {
	_, err := ParseResults(strings.NewReader("goos: linux\nBenchmarkX-2 1 fast ns/op\n"), "sample")
	if err == nil || !strings.Contains(err.Error(), "sample:2: parsing measurement") {
		t.Errorf("error = %v, want one naming the file, line and measurement", err)
	}
}

func TestCheckFailsUntilThePageShowsTheResults(t *testing.T) {
	dir := t.TempDir()
	results, doc := filepath.Join(dir, "results.txt"), filepath.Join(dir, "benchmarks.md")
	if err := os.WriteFile(results, []byte(sampleRun(900)), 0o644); err != nil {
		t.Fatal(err)
	}
	page := "# Benchmarks\n\nProse.\n\n" + startMarker + "\nold tables\n" + endMarker + "\n\nMore prose.\n"
	if err := os.WriteFile(doc, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(results, doc, sampleEnvironments, true); err == nil {
		t.Fatal("check passed on a page with stale tables")
	}
	if err := run(results, doc, sampleEnvironments, false); err != nil {
		t.Fatal(err)
	}
	if err := run(results, doc, sampleEnvironments, true); err != nil {
		t.Fatalf("check after writing: %v", err)
	}
	written, _ := os.ReadFile(doc)
	if !strings.HasPrefix(string(written), "# Benchmarks\n\nProse.\n\n") || !strings.HasSuffix(string(written), endMarker+"\n\nMore prose.\n") || strings.Contains(string(written), "old tables") {
		t.Errorf("the prose around the section changed or the old tables stayed:\n%s", written)
	}
}

func TestAPageWithoutMarkersIsRefused(t *testing.T) {
	if _, err := replaceSection([]byte("# Benchmarks\n"), "tables"); err == nil || !strings.Contains(err.Error(), "results:start") {
		t.Errorf("error = %v, want one naming the marker", err)
	}
}
