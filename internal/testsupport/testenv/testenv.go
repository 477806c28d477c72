// Package testenv locates the repository and the pinned tools that `make tools`
// builds into .bin/, so that tests run the same binaries as the Makefile.
package testenv

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/command"
	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// RequireToolsEnv is set by `make test` (and so by CI). With it, a missing tool
// fails the test instead of skipping it, so a CI run can never pass by skipping.
const RequireToolsEnv = "PHILOTES_REQUIRE_TOOLS"

// HelmCLIs are the Helm majors every door is checked with, as named in .bin/.
var HelmCLIs = []string{"helm3", "helm4"}

// RepoRoot is the directory that holds the repository's go.mod.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Environments is the repository's one list of environments, in promotion order.
func Environments(t testing.TB) []string {
	t.Helper()
	envs, err := envgen.Environments(RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	return envs
}

// Namespace is the namespace an environment deploys into.
func Namespace(t testing.TB, env string) string {
	t.Helper()
	namespace, err := envgen.Namespace(RepoRoot(), env)
	if err != nil {
		t.Fatal(err)
	}
	return namespace
}

// BinDir is where `make tools` puts the pinned binaries.
func BinDir() string {
	return filepath.Join(RepoRoot(), ".bin")
}

// makeTargets names the Makefile target that builds each pinned binary.
var makeTargets = map[string]string{
	"philotes-guardrails":       "guardrails",
	"kube-apiserver":            "cluster-tools",
	"source-controller":         "flux-controllers",
	"kustomize-controller":      "flux-controllers",
	"helm-controller":           "flux-controllers",
	"kube-controller-manager":   "cluster-tools",
	"kube-scheduler":            "cluster-tools",
	"kubectl":                   "cluster-tools",
	"etcd":                      "cluster-tools",
	"kwok":                      "cluster-tools",
	"weed":                      "runtime-deps",
	"kube-score":                "kube-score",
	"promtool":                  "promtool",
	"image/kustomize":           "image-binaries",
	"image/helm":                "image-binaries",
	"image/philotes-guardrails": "image-binaries",
}

// Tool returns the path of a pinned binary in .bin/. When it has not been built,
// the test is skipped with the command that builds it, or fails under `make test`.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	path := filepath.Join(BinDir(), name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	target := makeTargets[name]
	if target == "" {
		target = "tools"
	}
	Missing(tb, fmt.Sprintf("%s in %s", name, BinDir()), target)
	return ""
}

// Missing skips the test for a missing prerequisite, naming the make target that provides
// it, or fails it under `make test` (RequireToolsEnv), where nothing may be skipped.
func Missing(tb testing.TB, what, target string) {
	tb.Helper()
	SkipUnlessRequired(tb, "%s is missing: `make %s` provides it (as does `make test`)", what, target)
}

// SkipUnlessRequired skips the test with the reason, or fails it with the same reason under
// `make test` (RequireToolsEnv), so that a CI run can never pass by skipping.
func SkipUnlessRequired(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv(RequireToolsEnv) != "" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// Run executes a tool and returns its stdout, failing the test with stderr on error.
func Run(tb testing.TB, dir, tool string, args ...string) []byte {
	tb.Helper()
	out, err := RunErr(dir, tool, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// RunErr executes a tool and returns its stdout; the error is a *command.Error with stderr.
func RunErr(dir, tool string, args ...string) ([]byte, error) {
	return command.Run(dir, nil, tool, args...)
}

// FirstDifference shows where two texts part: the first differing line of each, named, with
// the lines before it for context.
func FirstDifference(aName, a, bName, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			from := max(0, i-3)
			return fmt.Sprintf("line %d: %s %q, %s %q; before it:\n%s", i+1, aName, x, bName, y, strings.Join(al[from:min(i, len(al))], "\n"))
		}
	}
	return "(no difference)"
}

// MilliValue reads a Kubernetes quantity as the resources in the values files write it
// ("250m", "1", "0.5", "512Mi", "2Gi") in thousandths of its unit: millicores for CPU,
// milli-bytes for memory, so that quantities of one resource compare.
func MilliValue(quantity string) (int64, error) {
	units := []struct {
		suffix string
		factor float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"m", 1e-3}}
	number, factor := quantity, 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(quantity, u.suffix); ok {
			number, factor = n, u.factor
			break
		}
	}
	value, err := strconv.ParseFloat(number, 64)
	if err != nil || value < 0 {
		return 0, fmt.Errorf("quantity %q: want a non-negative number with an optional unit (m, k, M, G, Ki, Mi, Gi, Ti)", quantity)
	}
	return int64(math.Round(value * factor * 1000)), nil
}

// Decode is manifests.Decode that fails the test on error: a missing field or a value of
// another type must fail the check that reads it, not pass as an empty value.
func Decode(tb testing.TB, node *yaml.RNode, v any, fields ...string) {
	tb.Helper()
	if err := manifests.Decode(node, v, fields...); err != nil {
		tb.Fatal(err)
	}
}
