package chartdoc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/command"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// The generated schemas are only worth what Helm makes of them, so these tests
// run the pinned Helm 3 and Helm 4 CLIs over the testdata charts.

// helmTemplate renders a chart of a testdata case; the error carries Helm's stderr.
func helmTemplate(t *testing.T, helm, caseName, chartName string, set ...string) error {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", caseName, "charts"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"template", "philotes", chartName}
	for _, value := range set {
		args = append(args, "--set", value)
	}
	_, err = testenv.RunErr(dir, helm, args...)
	return err
}

func TestGeneratedSchemasAcceptEveryChartsOwnDefaultsInHelm3AndHelm4(t *testing.T) {
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range testenv.HelmCLIs {
		helm := testenv.Tool(t, name)
		for _, c := range cases {
			if _, err := os.Stat(filepath.Join("testdata", c.Name(), "error.txt")); err == nil {
				continue
			}
			schemas, err := filepath.Glob(filepath.Join("testdata", c.Name(), "charts", "*", schemaFile))
			if err != nil {
				t.Fatal(err)
			}
			if len(schemas) == 0 {
				t.Fatalf("case %s generates no schema to try", c.Name())
			}
			for _, schema := range schemas {
				chartName := filepath.Base(filepath.Dir(schema))
				if err := helmTemplate(t, helm, c.Name(), chartName); err != nil {
					t.Errorf("%s template of %s/%s with its defaults: %v", name, c.Name(), chartName, err)
				}
			}
		}
	}
}

func TestHelmRejectsMisspelledAndMistypedValuesNamingTheKeyInUmbrellaAndSubchart(t *testing.T) {
	const caseName = "embeds-subchart-schemas-in-umbrella"
	tests := []struct {
		name, chart, set string
		wantErr          []string // each must appear in Helm's error; none means the values are valid
	}{
		{"misspelled subchart key set through the umbrella", "umbrella", "api.replicaz=3",
			[]string{"at '/api': additional properties 'replicaz' not allowed"}},
		{"mistyped subchart key set through the umbrella", "umbrella", "api.replicas=many",
			[]string{"at '/api/replicas': got string, want integer"}},
		{"misspelled key of the subchart rendered alone", "service", "replicaz=3",
			[]string{"additional properties 'replicaz' not allowed"}},
		{"mistyped key of the subchart rendered alone", "service", "replicas=many",
			[]string{"at '/replicas': got string, want integer"}},
		{"misspelled global key", "umbrella", "global.environmnt=dev",
			[]string{"at '/global': additional properties 'environmnt' not allowed"}},
		{"global value outside its enum", "service", "global.environment=qa",
			[]string{"at '/global/environment': value must be one of 'dev', 'staging', 'production'"}},
		{"subchart turned off by its condition", "umbrella", "api.enabled=false", nil},
		{"global value of the library chart, through the umbrella", "umbrella", "global.environment=staging", nil},
		{"free-form map entry", "service", "podAnnotations.team=data", nil},
	}
	for _, name := range testenv.HelmCLIs {
		helm := testenv.Tool(t, name)
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				err := helmTemplate(t, helm, caseName, tt.chart, tt.set)
				if tt.wantErr == nil {
					if err != nil {
						t.Fatalf("--set %s: %v", tt.set, err)
					}
					return
				}
				var failed *command.Error
				if !errors.As(err, &failed) {
					t.Fatalf("--set %s: want Helm to fail naming the key, got %v", tt.set, err)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(failed.Stderr, want) {
						t.Errorf("--set %s: Helm's error lacks %q:\n%s", tt.set, want, failed.Stderr)
					}
				}
			})
		}
	}
}
