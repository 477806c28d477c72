package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/testsupport/process"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// FluxNamespace is where Flux runs and keeps its objects.
const FluxNamespace = "flux-system"

// FluxCRDs are the CRDs of the Flux controllers the tests run, from the
// releases tools/crds pins (the controllers' modules pin the same ones).
var FluxCRDs = []CRDs{
	{Module: "github.com/fluxcd/source-controller", Dir: "config/crd/bases"},
	{Module: "github.com/fluxcd/kustomize-controller", Dir: "config/crd/bases"},
	{Module: "github.com/fluxcd/helm-controller", Dir: "config/crd/bases"},
}

// StartFlux runs the named Flux controllers (source-controller,
// kustomize-controller, helm-controller) as local processes against the
// cluster, in the flux-system namespace, until the test ends. They run
// exactly as released (built from their pinned modules), outside a cluster:
// the kubeconfig is the tests', every address is on 127.0.0.1, and
// source-controller serves its artifacts from a temporary directory.
func (c *Cluster) StartFlux(tb testing.TB, controllers ...string) {
	tb.Helper()
	c.InstallCRDs(tb, FluxCRDs...)
	if _, err := c.KubectlErr("get", "namespace", FluxNamespace); err != nil {
		c.CreateNamespace(tb, FluxNamespace, nil)
	}
	ports, err := process.FreePorts(3 * len(controllers))
	if err != nil {
		tb.Fatal(err)
	}
	// The storage address is source-controller's; the others download from it.
	storage := "127.0.0.1:" + strconv.Itoa(ports[2])
	dir := tb.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "storage"), 0o755); err != nil {
		tb.Fatal(err)
	}
	env := []string{"KUBECONFIG=" + c.Kubeconfig, "RUNTIME_NAMESPACE=" + FluxNamespace}
	var started []*process.Process
	for i, name := range controllers {
		binary := testenv.Tool(tb, name)
		args := []string{
			"--enable-leader-election=false",
			"--watch-all-namespaces=true",
			"--log-level=info",
			"--metrics-addr=127.0.0.1:" + strconv.Itoa(ports[3*i]),
			"--health-addr=127.0.0.1:" + strconv.Itoa(ports[3*i+1]),
		}
		if name == "kustomize-controller" || name == "helm-controller" {
			// A dependency that is not ready yet is looked at again after this, 30s by
			// default: the environments' apps wait for their namespaces.
			args = append(args, "--requeue-dependency=2s")
		}
		if name == "source-controller" {
			args = append(args, "--storage-path="+filepath.Join(dir, "storage"), "--storage-addr="+storage, "--storage-adv-addr="+storage)
		}
		p, err := process.StartWithEnv(filepath.Join(dir, name+".log"), nil, env, binary, args...)
		if err != nil {
			tb.Fatal(err)
		}
		started = append(started, p)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			for _, p := range started {
				tb.Log(p.LogTail())
			}
		}
		for _, p := range started {
			p.Stop(syscall.SIGTERM, 10*time.Second)
		}
	})
	// A controller that cannot start exits at once; give it the time it takes to fail.
	time.Sleep(2 * time.Second)
	for _, p := range started {
		select {
		case <-p.Exited():
			tb.Fatal(fmt.Errorf("%s: %w", p.Name, p.Failure()))
		default:
		}
	}
}
