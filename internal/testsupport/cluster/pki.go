package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// credentials are the secrets of one cluster, generated fresh for each start so
// that nothing secret is ever committed or shared between runs.
type credentials struct {
	servingCert, servingKey string // PEM files of the API server's TLS identity, which is also its own CA
	servingCertPEM          []byte // for the kubeconfig and the readiness probe
	serviceAccountPublic    string // PEM file that verifies service account tokens
	serviceAccountPrivate   string // PEM file that signs them
	tokenFile               string // --token-auth-file
	adminToken              string
}

const adminUser = "philotes-e2e-admin"

// writeCredentials creates the API server's serving certificate for 127.0.0.1,
// the service account signing key pair and a token for a system:masters user.
func writeCredentials(dir string) (*credentials, error) {
	creds := &credentials{
		servingCert:           filepath.Join(dir, "apiserver.crt"),
		servingKey:            filepath.Join(dir, "apiserver.key"),
		serviceAccountPublic:  filepath.Join(dir, "service-account.pub"),
		serviceAccountPrivate: filepath.Join(dir, "service-account.key"),
		tokenFile:             filepath.Join(dir, "tokens.csv"),
	}

	servingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the API server key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, fmt.Errorf("generating a certificate serial: %w", err)
	}
	now := time.Now()
	// Self-signed and marked as a CA, so the kubeconfig can trust exactly this
	// certificate without a separate CA to manage.
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "philotes-e2e-apiserver"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &servingKey.PublicKey, servingKey)
	if err != nil {
		return nil, fmt.Errorf("signing the API server certificate: %w", err)
	}
	creds.servingCertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(creds.servingCert, creds.servingCertPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeECPrivateKey(creds.servingKey, servingKey); err != nil {
		return nil, err
	}

	signingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the service account key: %w", err)
	}
	if err := writeECPrivateKey(creds.serviceAccountPrivate, signingKey); err != nil {
		return nil, err
	}
	public, err := x509.MarshalPKIXPublicKey(&signingKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding the service account public key: %w", err)
	}
	if err := os.WriteFile(creds.serviceAccountPublic, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: public}), 0o600); err != nil {
		return nil, err
	}

	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		return nil, fmt.Errorf("generating the admin token: %w", err)
	}
	creds.adminToken = hex.EncodeToString(token)
	line := fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", creds.adminToken, adminUser, adminUser)
	if err := os.WriteFile(creds.tokenFile, []byte(line), 0o600); err != nil {
		return nil, err
	}
	return creds, nil
}

func writeECPrivateKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}
