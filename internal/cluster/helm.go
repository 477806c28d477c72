package cluster

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testenv"
)

// Helm runs a Helm CLI against the cluster from the repository root. Its
// configuration, cache and data stay in the cluster's directory, so that a
// user's repositories and plugins can neither change the result nor be touched.
func (c *Cluster) Helm(tb testing.TB, helm string, args ...string) []byte {
	tb.Helper()
	home := filepath.Join(c.dir, "helm")
	cmd := exec.Command(helm, append(args, "--kubeconfig="+c.Kubeconfig)...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", filepath.Base(helm), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}
