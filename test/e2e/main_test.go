package e2e

import (
	"os"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
)

// shared is started by the first test that needs a cluster; starting one per
// test would cost seconds each.
var shared cluster.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}
