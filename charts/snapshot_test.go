package charts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// updateSnapshotsEnv rewrites the snapshots instead of comparing (`make snapshots`).
const updateSnapshotsEnv = "UPDATE_SNAPSHOTS"

// snapshotValues make a chart's snapshot show what it is for: the worker chart renders
// nothing without a source.
var snapshotValues = map[string][]string{
	"philotes-worker": {
		"sources[0].name=orders", "sources[0].host=orders-db.example.com", "sources[0].database=orders",
		"sources[0].user=philotes_replication", "sources[0].existingSecret=philotes-worker-orders-credentials",
		"sources[0].tables[0]=public.orders", "sources[0].preparation.adminSecret=orders-db-admin",
	},
}

// Each installable chart's default rendering (a data service's in dev; the worker's with one
// source) is kept in charts/testdata/snapshots, so a review shows every change to the rendered
// objects. Snapshots hold the objects as kyaml writes them, so that Helm 3 and Helm 4 (which
// differ in blank lines) compare to the same file. Both majors render in one subtest: a
// difference between them fails, in update mode too, rather than one overwriting the other.
func TestSnapshotOfEachChartsDefaultRendering(t *testing.T) {
	update := os.Getenv(updateSnapshotsEnv) == "1"
	for _, chart := range installableCharts {
		t.Run(chart, func(t *testing.T) {
			t.Parallel()
			r := standalone(chart).with(snapshotValues[chart]...)
			var rendered []byte
			for _, cli := range testenv.HelmCLIs {
				out, err := manifests.Encode(r.objects(t, helmTool(t, cli)))
				if err != nil {
					t.Fatal(err)
				}
				if rendered != nil && !bytes.Equal(out, rendered) {
					t.Fatalf("%s renders %s differently from %s:\n%s", cli, chart, testenv.HelmCLIs[0],
						testenv.FirstDifference(testenv.HelmCLIs[0], string(rendered), cli, string(out)))
				}
				rendered = out
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
				t.Errorf("the default rendering of %s differs from %s; if the change is intended, run `make snapshots`:\n%s",
					chart, path, testenv.FirstDifference("snapshot", string(snapshot), "rendered", string(rendered)))
			}
			if len(bytes.TrimSpace(rendered)) == 0 {
				t.Errorf("%s renders nothing: a snapshot must show objects", chart)
			}
		})
	}
}
