package cluster

import (
	"path/filepath"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/command"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// Helm runs a Helm CLI against the cluster from the repository root. Its
// configuration, cache and data stay in the cluster's directory, so that a
// user's repositories and plugins can neither change the result nor be touched.
func (c *Cluster) Helm(tb testing.TB, helm string, args ...string) []byte {
	tb.Helper()
	home := filepath.Join(c.dir, "helm")
	out, err := command.Run(testenv.RepoRoot(), []string{
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
		"HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
		"HELM_DATA_HOME=" + filepath.Join(home, "data"),
	}, helm, append(args, "--kubeconfig="+c.Kubeconfig)...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
