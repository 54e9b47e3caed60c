// Package testcerts writes the PEM files of a small PKI for tests: a CA, a
// server certificate for 127.0.0.1 and localhost, and a client
// certificate, both signed by the CA, plus the misconfigurations a user
// makes (an expired certificate, a key of another certificate).
package testcerts

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Set is a generated PKI: paths of PEM files in Dir.
type Set struct {
	Dir string
	// CA is the authority's certificate; OtherCA one that signed nothing
	// here (a wrong bundle).
	CA, OtherCA string
	// ServerCert and ServerKey are for 127.0.0.1 and localhost.
	ServerCert, ServerKey string
	// ClientCert and ClientKey identify a client (CN "pipewatch").
	ClientCert, ClientKey string
	// ExpiredCert and ExpiredKey are a client certificate expired a day ago.
	ExpiredCert, ExpiredKey string
	// Server is the server certificate loaded, for a tls.Config.
	Server tls.Certificate
	// Pool holds CA.
	Pool *x509.CertPool
}

// New generates a Set in a temporary folder of t.
func New(t testing.TB) Set {
	t.Helper()
	dir := t.TempDir()
	s := Set{Dir: dir, Pool: x509.NewCertPool()}
	now := time.Now()
	caKey, ca := issue(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "pipewatch test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
	})
	s.Pool.AddCert(ca)
	s.CA = write(t, dir, "ca.crt", "CERTIFICATE", ca.Raw)
	_, other := issue(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "another CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
	})
	s.OtherCA = write(t, dir, "other-ca.crt", "CERTIFICATE", other.Raw)
	leaf := func(name, cn string, usage x509.ExtKeyUsage, from, to time.Time, hosts bool) (string, string) {
		tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: from, NotAfter: to,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if hosts {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		key, cert := issue(t, caKey, ca, tmpl)
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return write(t, dir, name+".crt", "CERTIFICATE", cert.Raw), write(t, dir, name+".key", "PRIVATE KEY", der)
	}
	s.ServerCert, s.ServerKey = leaf("server", "localhost", x509.ExtKeyUsageServerAuth, now.Add(-time.Hour), now.Add(24*time.Hour), true)
	s.ClientCert, s.ClientKey = leaf("client", "pipewatch", x509.ExtKeyUsageClientAuth, now.Add(-time.Hour), now.Add(24*time.Hour), false)
	s.ExpiredCert, s.ExpiredKey = leaf("expired", "pipewatch", x509.ExtKeyUsageClientAuth, now.Add(-48*time.Hour), now.Add(-24*time.Hour), false)
	var err error
	if s.Server, err = tls.LoadX509KeyPair(s.ServerCert, s.ServerKey); err != nil {
		t.Fatal(err)
	}
	return s
}

// issue makes a key and a certificate from tmpl, signed by parent (self
// when nil).
func issue(t testing.TB, parentKey *rsa.PrivateKey, parent, tmpl *x509.Certificate) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, c
}

// write stores one PEM block in dir/name and returns the path.
func write(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
