// Package cluster runs a real Kubernetes control plane for the tests: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler built from the pins
// in tools/ (`make cluster-tools`), with kwok fake nodes whose pods turn Running
// and Ready without containers. Everything listens on 127.0.0.1 only and is
// torn down by the test's cleanup, also when the test fails.
package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/testsupport/process"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// binaryNames are the pinned binaries a cluster needs in .bin/.
var binaryNames = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl"}

// zones get one fake node each, so topology spread and drains have somewhere to go.
var zones = []string{"zone-a", "zone-b", "zone-c"}

const (
	startTimeout = 90 * time.Second
	pollInterval = 100 * time.Millisecond
	// serviceCIDR and podCIDR are private ranges that no component routes to:
	// nothing runs in the pods, the addresses only have to be valid.
	serviceCIDR = "10.96.0.0/16"
	podCIDR     = "10.244.0.0/16"
	// kwok renews node leases at a quarter of this, well inside the node
	// controller's grace period, so nodes never turn NotReady mid-test.
	nodeLeaseSeconds = "40"
	// fakeNodeAnnotation selects the nodes kwok plays the kubelet for.
	fakeNodeAnnotation = "kwok.x-k8s.io/node"
)

// Cluster is a running control plane with fake nodes.
type Cluster struct {
	// Kubeconfig is an admin (system:masters) kubeconfig for the cluster.
	Kubeconfig string
	// Nodes are the fake node names, each in its own zone
	// (topology.kubernetes.io/zone), sorted.
	Nodes []string
	// StartDuration is how long the cluster took from the first process to
	// ready nodes.
	StartDuration time.Duration

	dir       string
	kubectl   string
	processes []*process.Process
	// apiserverURL and caPEM are what a pod's ServiceAccount mount gives it.
	apiserverURL string
	caPEM        []byte

	crdMutex      sync.Mutex
	installedCRDs map[string][]string // by CRDs set, so shared clusters install each once
}

// Start runs a cluster for one test and stops it when the test ends. The
// binaries come from .bin/: without them the test skips, or fails under
// `make test`.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	binaries := requireBinaries(tb)
	c, err := start(binaries, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.stop)
	c.logOnFailure(tb)
	return c
}

// Shared is one cluster for a whole test package, started by the first test
// that asks for it. The package's TestMain calls Stop after m.Run.
type Shared struct {
	once    sync.Once
	cluster *Cluster
	dir     string
	err     error
}

// Cluster returns the package's cluster, starting it on first use.
func (s *Shared) Cluster(tb testing.TB) *Cluster {
	tb.Helper()
	binaries := requireBinaries(tb)
	s.once.Do(func() {
		s.dir, s.err = os.MkdirTemp("", "philotes-cluster-")
		if s.err == nil {
			s.cluster, s.err = start(binaries, s.dir)
		}
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	s.cluster.logOnFailure(tb)
	return s.cluster
}

// Stop ends every process of the shared cluster and removes its files.
func (s *Shared) Stop() {
	if s.cluster != nil {
		s.cluster.stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

func requireBinaries(tb testing.TB) map[string]string {
	tb.Helper()
	binaries := make(map[string]string, len(binaryNames))
	for _, name := range binaryNames {
		binaries[name] = testenv.Tool(tb, name)
	}
	return binaries
}

// start brings the cluster up in dir. On error nothing is left running and the
// error carries the end of the failing component's log.
func start(binaries map[string]string, dir string) (c *Cluster, err error) {
	began := time.Now()
	c = &Cluster{dir: dir, kubectl: binaries["kubectl"], Kubeconfig: filepath.Join(dir, "kubeconfig")}
	defer func() {
		if err != nil {
			c.stop()
			err = fmt.Errorf("starting the test cluster in %s: %w", dir, err)
		}
	}()

	ports, err := process.FreePorts(3)
	if err != nil {
		return c, err
	}
	etcdClientPort, etcdPeerPort, apiserverPort := strconv.Itoa(ports[0]), strconv.Itoa(ports[1]), strconv.Itoa(ports[2])
	creds, err := writeCredentials(dir)
	if err != nil {
		return c, err
	}

	etcdClientURL := "http://127.0.0.1:" + etcdClientPort
	etcdPeerURL := "http://127.0.0.1:" + etcdPeerPort
	if err := c.run(binaries, "etcd",
		"--name=e2e",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdClientURL,
		"--advertise-client-urls="+etcdClientURL,
		"--listen-peer-urls="+etcdPeerURL,
		"--initial-advertise-peer-urls="+etcdPeerURL,
		"--initial-cluster=e2e="+etcdPeerURL,
		// The data is thrown away after the run: durability only costs time.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	); err != nil {
		return c, err
	}
	if err := c.waitFor("etcd to be healthy", httpReady(http.DefaultClient, etcdClientURL+"/health", "")); err != nil {
		return c, err
	}

	apiserverURL := "https://127.0.0.1:" + apiserverPort
	if err := c.run(binaries, "kube-apiserver",
		"--etcd-servers="+etcdClientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+apiserverPort,
		"--tls-cert-file="+creds.servingCert,
		"--tls-private-key-file="+creds.servingKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+creds.serviceAccountPublic,
		"--service-account-signing-key-file="+creds.serviceAccountPrivate,
		"--token-auth-file="+creds.tokenFile,
		"--authorization-mode=RBAC",
		// As on real clusters, where Pod Security admission, not this switch,
		// decides which namespaces may run privileged pods.
		"--allow-privileged=true",
		"--service-cluster-ip-range="+serviceCIDR,
		// Its address is 127.0.0.1, which must not become the endpoint of the
		// kubernetes Service that pods would use.
		"--endpoint-reconciler-type=none",
	); err != nil {
		return c, err
	}
	if err := c.writeKubeconfig(apiserverURL, creds); err != nil {
		return c, err
	}
	c.apiserverURL, c.caPEM = apiserverURL, creds.servingCertPEM
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(creds.servingCertPEM)
	apiserverClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	if err := c.waitFor("kube-apiserver to be ready", httpReady(apiserverClient, apiserverURL+"/readyz", creds.adminToken)); err != nil {
		return c, err
	}

	stages, err := c.kwokStages()
	if err != nil {
		return c, err
	}
	kubeconfig := "--kubeconfig=" + c.Kubeconfig
	// Serving ports are switched off: nothing in the tests scrapes them.
	if err := c.run(binaries, "kube-controller-manager", kubeconfig, "--leader-elect=false", "--secure-port=0",
		"--root-ca-file="+creds.servingCert,
		// An autoscaler raises a new workload to its minReplicas only when it
		// syncs, every 15 s by default.
		"--horizontal-pod-autoscaler-sync-period=1s"); err != nil {
		return c, err
	}
	if err := c.run(binaries, "kube-scheduler", kubeconfig, "--leader-elect=false", "--secure-port=0"); err != nil {
		return c, err
	}
	if err := c.run(binaries, "kwok", kubeconfig, "--config="+stages, "--cidr="+podCIDR,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector="+fakeNodeAnnotation+"=fake",
		"--node-lease-duration-seconds="+nodeLeaseSeconds); err != nil {
		return c, err
	}
	if err := c.addFakeNodes(); err != nil {
		return c, err
	}
	if err := c.waitFor("fake nodes to be Ready and untainted", c.nodesSchedulable); err != nil {
		return c, err
	}
	// Pods are refused until their namespace has its default ServiceAccount.
	if err := c.waitFor("the controller manager to create service accounts", func() error {
		_, err := c.KubectlErr("get", "serviceaccount", "default", "--namespace=default")
		return err
	}); err != nil {
		return c, err
	}
	c.StartDuration = time.Since(began)
	return c, nil
}

func (c *Cluster) run(binaries map[string]string, name string, args ...string) error {
	p, err := process.Start(filepath.Join(c.dir, name+".log"), nil, binaries[name], args...)
	if err != nil {
		return err
	}
	c.processes = append(c.processes, p)
	return nil
}

// stop ends every process, newest first so that clients go before the servers.
func (c *Cluster) stop() {
	for i := len(c.processes) - 1; i >= 0; i-- {
		// etcd, the API server and kwok stop within seconds of SIGTERM.
		c.processes[i].Stop(syscall.SIGTERM, 5*time.Second)
	}
	c.processes = nil
}

// logOnFailure prints the end of every component's log when the test fails.
func (c *Cluster) logOnFailure(tb testing.TB) {
	tb.Cleanup(func() {
		if !tb.Failed() {
			return
		}
		for _, p := range c.processes {
			tb.Log(p.LogTail())
		}
	})
}

// waitFor polls ready until it returns nil, failing early with the log of any
// component that exits meanwhile.
func (c *Cluster) waitFor(what string, ready func() error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		for _, p := range c.processes {
			select {
			case <-p.Exited():
				return fmt.Errorf("waiting for %s: %w", what, p.Failure())
			default:
			}
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not within %s: %w", what, startTimeout, err)
		}
		time.Sleep(pollInterval)
	}
}

func httpReady(client *http.Client, url, token string) func() error {
	return func() error {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

func (c *Cluster) writeKubeconfig(server string, creds *credentials) error {
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: philotes-e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: philotes-e2e
  context:
    cluster: philotes-e2e
    user: %s
current-context: philotes-e2e
`, server, base64.StdEncoding.EncodeToString(creds.servingCertPEM), adminUser, creds.adminToken, adminUser)
	return os.WriteFile(c.Kubeconfig, []byte(kubeconfig), 0o600)
}

// kwokStages writes the Stage objects of kwok's "fast" profile (nodes turn Ready
// at once, pods Running and Ready, Job pods Succeeded, deleted pods go away),
// taken from the pinned kwok module so they always match the kwok binary.
func (c *Cluster) kwokStages() (string, error) {
	kwok, err := moduleDir("kwok", "sigs.k8s.io/kwok")
	if err != nil {
		return "", err
	}
	stages, err := c.KubectlErr("kustomize", filepath.Join(kwok, "kustomize", "stage", "fast"))
	if err != nil {
		return "", fmt.Errorf("reading kwok's stages: %w", err)
	}
	path := filepath.Join(c.dir, "kwok-stages.yaml")
	return path, os.WriteFile(path, stages, 0o600)
}

// ResidentMemory is the RAM all components of the cluster hold together.
func (c *Cluster) ResidentMemory() (int64, error) {
	var total int64
	for _, p := range c.processes {
		bytes, err := process.ResidentBytes(p.Pid())
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p.Name, err)
		}
		total += bytes
	}
	return total, nil
}
