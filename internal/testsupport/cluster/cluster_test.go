package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAModuleThatToolsDoesNotPinIsRefusedByName(t *testing.T) {
	_, err := moduleDir(operatorPins, "example.com/not-pinned")
	if err == nil {
		t.Fatal("a module missing from tools/crds/go.mod was located")
	}
	for _, want := range []string{"example.com/not-pinned", "tools/crds/go.mod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not name %s", err, want)
		}
	}
}

func TestTheOperatorCRDFoldersExistInThePinnedModules(t *testing.T) {
	for _, set := range []CRDs{KEDACRDs, PrometheusOperatorCRDs} {
		dir := ModuleDir(t, set.Module)
		if entries, err := os.ReadDir(filepath.Join(dir, set.Dir)); err != nil || len(entries) == 0 {
			t.Errorf("%s has no CRDs in %s: %v", set.Module, set.Dir, err)
		}
	}
}

// BenchmarkStartingAClusterWithFakeNodes measures a start up to schedulable
// nodes, and the memory the whole control plane then holds.
func BenchmarkStartingAClusterWithFakeNodes(b *testing.B) {
	binaries := requireBinaries(b)
	var started time.Duration
	var resident int64
	var memoryErr error
	for b.Loop() {
		c, err := start(binaries, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		started += c.StartDuration
		bytes, err := c.ResidentMemory()
		c.stop()
		resident += bytes
		memoryErr = err
	}
	b.ReportMetric(started.Seconds()/float64(b.N), "start-s/op")
	if memoryErr != nil {
		b.Logf("memory not reported: %v", memoryErr)
		return
	}
	b.ReportMetric(float64(resident)/float64(b.N)/(1<<20), "rss-MiB/op")
}
