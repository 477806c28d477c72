package charts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/manifests"
)

// updateSnapshotsEnv rewrites the snapshots instead of comparing (`make snapshots`).
const updateSnapshotsEnv = "UPDATE_SNAPSHOTS"

// Each installable chart's default rendering (a data service's in dev) is kept in
// charts/testdata/snapshots, so a review shows every change to the rendered objects. Snapshots hold the objects as kyaml
// writes them, so Helm 3 and Helm 4 (which differ in blank lines) compare to the same file.
func TestSnapshotOfEachChartsDefaultRendering(t *testing.T) {
	update := os.Getenv(updateSnapshotsEnv) == "1"
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, chart := range installableCharts {
			t.Run(chart, func(t *testing.T) {
				t.Parallel()
				rendered, err := manifests.Encode(standalone(chart).objects(t, helm))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(chartsDir(), "testdata", "snapshots", chart+".yaml")
				if update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, rendered, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				snapshot, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v: run `make snapshots` to create it", err)
				}
				if !bytes.Equal(snapshot, rendered) {
					t.Errorf("the default rendering of %s differs from %s; if the change is intended, run `make snapshots`\n--- rendered\n%s",
						chart, path, rendered)
				}
			})
		}
	})
}
