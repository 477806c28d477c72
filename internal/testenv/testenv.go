// Package testenv locates the repository and the pinned tools that `make tools`
// builds into .bin/, so that tests run the same binaries as the Makefile.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireToolsEnv is set by `make test` (and so by CI). With it, a missing tool
// fails the test instead of skipping it, so a CI run can never pass by skipping.
const RequireToolsEnv = "PHILOTES_REQUIRE_TOOLS"

// HelmCLIs are the Helm majors every door is checked with, as named in .bin/.
var HelmCLIs = []string{"helm3", "helm4"}

// RepoRoot is the directory that holds the repository's go.mod.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BinDir is where `make tools` puts the pinned binaries.
func BinDir() string {
	return filepath.Join(RepoRoot(), ".bin")
}

// makeTargets names the Makefile target that builds each pinned binary.
var makeTargets = map[string]string{
	"philotes-guardrails":     "guardrails",
	"kube-apiserver":          "cluster-tools",
	"kube-controller-manager": "cluster-tools",
	"kube-scheduler":          "cluster-tools",
	"kubectl":                 "cluster-tools",
	"etcd":                    "cluster-tools",
	"kwok":                    "cluster-tools",
	"weed":                    "runtime-deps",
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
	if os.Getenv(RequireToolsEnv) != "" {
		tb.Fatalf("%s is missing: `make %s` provides it", what, target)
	}
	tb.Skipf("%s is missing: run `make %s` (or `make test`, which provides everything)", what, target)
}

// Run executes a tool and returns its stdout, failing the test with stderr on error.
func Run(tb testing.TB, dir, tool string, args ...string) []byte {
	tb.Helper()
	out, err := RunErr(dir, tool, args...)
	if err != nil {
		tb.Fatalf("%s %v: %v", filepath.Base(tool), args, err)
	}
	return out
}

// RunErr executes a tool and returns its stdout; the error carries stderr.
func RunErr(dir, tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return out, &ToolError{Err: ee, Stderr: string(ee.Stderr)}
	}
	return out, err
}

// ToolError is a failed tool run with what it printed on stderr.
type ToolError struct {
	Err    error
	Stderr string
}

func (e *ToolError) Error() string { return e.Err.Error() + ": " + e.Stderr }
func (e *ToolError) Unwrap() error { return e.Err }
