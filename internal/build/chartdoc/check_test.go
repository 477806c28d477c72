package chartdoc

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// copyCase copies the charts of a testdata case without symlinks into a temporary directory.
func copyCase(t *testing.T, caseName string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", caseName, "charts"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckListsEveryStaleFileAndWriteRegeneratesThem(t *testing.T) {
	dir := copyCase(t, "applies-enum-type-and-schema-directives")
	readme := filepath.Join(dir, "demo", readmeFile)
	schemaPath := filepath.Join(dir, "demo", schemaFile)
	if err := os.Remove(schemaPath); err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(dir, "demo", valuesFile)
	original, err := os.ReadFile(values)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(original), "# -- Environment.", "# -- Environment the release runs in.", 1)
	if err := os.WriteFile(values, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{readme, schemaPath}

	stale, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stale, want) {
		t.Errorf("Check = %v, want %v", stale, want)
	}
	if after, _ := os.ReadFile(readme); string(after) != string(before) {
		t.Error("Check wrote the README")
	}

	written, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(written, want) {
		t.Errorf("Write = %v, want %v", written, want)
	}
	if after, _ := os.ReadFile(readme); !strings.Contains(string(after), "Environment the release runs in.") {
		t.Errorf("Write left the README without the new description:\n%s", after)
	}
	if stale, err := Check(dir); err != nil || len(stale) != 0 {
		t.Errorf("Check after Write = %v, %v; want nothing stale", stale, err)
	}
}

func TestProblemsNameTheFileUnderTheChartsDirectoryGiven(t *testing.T) {
	dir := copyCase(t, "rejects-undocumented-key")
	_, err := Check(dir)
	want := filepath.Join(dir, "demo", valuesFile) + ":5: chart demo: key image.tag:"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Check error = %v, want it to start with %q", err, want)
	}
}

// The committed schemas and README tables of the real charts must match their
// values.yaml, so that CI catches a values change without `make docs`.
func TestRealChartsSchemasAndReadmeTablesAreUpToDate(t *testing.T) {
	charts := filepath.Join(testenv.RepoRoot(), "charts")
	if found, _ := filepath.Glob(filepath.Join(charts, "*", chartFile)); len(found) == 0 {
		t.Fatalf("%s holds no chart: the real charts are what this test checks", charts)
	}
	stale, err := Check(charts)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("stale generated files (run `make docs`):\n%s", strings.Join(stale, "\n"))
	}
}
