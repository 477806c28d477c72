package guardrails

import (
	"bytes"
	"flag"
	"github.com/spf13/cobra"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework/frameworktestutil"
)

// -update rewrites expected.yaml of the success cases and the README examples
// from the actual output; errors.txt holds hand-written regexes and is never rewritten.
var update = flag.Bool("update", false, "rewrite golden files from the actual output")

func TestEveryTestdataCaseProducesItsExpectedOutputOrErrors(t *testing.T) {
	if *update {
		writeExpectedOutputs(t)
	}
	checker := frameworktestutil.CommandResultsChecker{Command: func() *cobra.Command { return withoutNotices(newTestCommand(t)) }}
	checker.Assert(t)
}

// withoutNotices drops what a successful run prints on stderr (the checker
// would take it for an error); TestNoticesAreWhatEachCaseExpects checks it.
func withoutNotices(cmd *cobra.Command) *cobra.Command {
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		stderr := c.ErrOrStderr()
		var notices bytes.Buffer
		c.SetErr(&notices)
		err := run(c, args)
		c.SetErr(stderr)
		if err != nil {
			_, _ = notices.WriteTo(stderr)
		}
		return err
	}
	return cmd
}

// noticesFile holds, in a success case, the exact stderr: one line per object
// the function adopted or removed. Without it, a case must print nothing.
const noticesFile = "notices.txt"

func TestNoticesAreWhatEachCaseExpects(t *testing.T) {
	for _, dir := range testCases(t, "expected.yaml") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, stderr, err := runCommand(t, filepath.Join(dir, "config.yaml"), filepath.Join(dir, "input.yaml"))
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			want, err := os.ReadFile(filepath.Join(dir, noticesFile))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if stderr != string(want) {
				t.Errorf("stderr:\n%s\nwant (%s):\n%s", stderr, noticesFile, want)
			}
		})
	}
}

func writeExpectedOutputs(t *testing.T) {
	for _, dir := range testCases(t, "config.yaml") {
		if _, err := os.Stat(filepath.Join(dir, "errors.txt")); err == nil {
			continue
		}
		stdout, stderr, err := runCommand(t, filepath.Join(dir, "config.yaml"), filepath.Join(dir, "input.yaml"))
		if err != nil {
			t.Fatalf("%s: %v\n%s", dir, err, stderr)
		}
		if err := os.WriteFile(filepath.Join(dir, "expected.yaml"), []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		notices := filepath.Join(dir, noticesFile)
		if stderr == "" {
			if err := os.Remove(notices); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(notices, []byte(stderr), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testCases lists the testdata directories with the given expectation file.
func testCases(t *testing.T, expectation string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", expectation))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatalf("no testdata case has %s", expectation)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

// runCommand runs the function as its command line does, in standalone mode.
func runCommand(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newTestCommand(t)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestRefusedInputWritesNoResourceAndFails(t *testing.T) {
	for _, dir := range testCases(t, "errors.txt") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			stdout, stderr, err := runCommand(t, filepath.Join(dir, "config.yaml"), filepath.Join(dir, "input.yaml"))
			if err == nil {
				t.Fatalf("the command succeeded; stderr:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("a refused input must write nothing, got:\n%s", stdout)
			}
			if !strings.Contains(stderr, "[error]") {
				t.Errorf("stderr does not carry the error results:\n%s", stderr)
			}
			// One problem per line: every line is a result, none blank.
			for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
				if !strings.HasPrefix(line, "[error] ") {
					t.Errorf("stderr line %q is not one error result; stderr:\n%s", line, stderr)
				}
			}
		})
	}
}

func TestRunningOnItsOwnOutputChangesNoByte(t *testing.T) {
	for _, dir := range testCases(t, "expected.yaml") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			first, stderr, err := runCommand(t, filepath.Join(dir, "config.yaml"), filepath.Join(dir, "input.yaml"))
			if err != nil {
				t.Fatalf("first run: %v\n%s", err, stderr)
			}
			again := filepath.Join(t.TempDir(), "first-output.yaml")
			if err := os.WriteFile(again, []byte(first), 0o600); err != nil {
				t.Fatal(err)
			}
			second, stderr, err := runCommand(t, filepath.Join(dir, "config.yaml"), again)
			if err != nil {
				t.Fatalf("second run: %v\n%s", err, stderr)
			}
			if second != first {
				t.Errorf("the second run changed the output:\n--- first\n%s\n--- second\n%s", first, second)
			}
		})
	}
}

// readmeFile is the README's absolute path, taken before the checker changes directory.
var readmeFile, _ = filepath.Abs(readmePath)

// newTestCommand is the command as main builds it, from the README beside the package.
func newTestCommand(t *testing.T) *cobra.Command {
	t.Helper()
	readme, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := NewCommand(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}
