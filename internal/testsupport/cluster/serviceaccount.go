package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// PodIdentity is what the kubelet gives a pod that runs as a ServiceAccount: a token of that
// account and the cluster's CA in one directory (in a pod,
// /var/run/secrets/kubernetes.io/serviceaccount), and the API server's address in
// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT.
type PodIdentity struct {
	Dir, Host, Port string
}

// ServiceAccountIdentity issues a short-lived token of a ServiceAccount through the
// TokenRequest API, as the kubelet does, so that a program the test runs talks to the API
// server with exactly that account's rights.
func (c *Cluster) ServiceAccountIdentity(tb testing.TB, namespace, account string) PodIdentity {
	tb.Helper()
	token := c.Kubectl(tb, "create", "token", account, "--namespace="+namespace, "--duration=10m")
	dir := tb.TempDir()
	for name, content := range map[string][]byte{
		"token":     []byte(strings.TrimSpace(string(token))),
		"ca.crt":    c.caPEM,
		"namespace": []byte(namespace),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	server, err := url.Parse(c.apiserverURL)
	if err != nil {
		tb.Fatal(err)
	}
	return PodIdentity{Dir: dir, Host: server.Hostname(), Port: server.Port()}
}

// Client is an HTTPS client that trusts the cluster's CA, and the identity's token.
func (p PodIdentity) Client(tb testing.TB) (*http.Client, string) {
	tb.Helper()
	ca, err := os.ReadFile(filepath.Join(p.Dir, "ca.crt"))
	if err != nil {
		tb.Fatal(err)
	}
	token, err := os.ReadFile(filepath.Join(p.Dir, "token"))
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}, string(token)
}
