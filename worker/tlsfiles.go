package worker

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// tlsFiles names the PEM files of one connection's TLS settings, with the
// configuration keys they come from, for errors that say which to fix.
type tlsFiles struct {
	certKey, cert string // e.g. "temporal.tls_cert" and its path; "" for none
	keyKey, key   string
	caKey, ca     string
}

// load reads the files and checks what would otherwise surface only as a
// failed handshake, or never: a file missing or holding no PEM block of
// the right kind, a key that does not go with its certificate, and a
// certificate or CA outside its validity at now. Each error names the
// setting, the file and the reason.
func (f tlsFiles) load(now time.Time) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.cert != "" {
		certPEM, err := readPEM(f.certKey, f.cert, "CERTIFICATE")
		if err != nil {
			return nil, err
		}
		keyPEM, err := readPEM(f.keyKey, f.key, "PRIVATE KEY")
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s %q does not go with %s %q: %w", f.keyKey, f.key, f.certKey, f.cert, err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", f.certKey, f.cert, err)
		}
		if err := inValidity(f.certKey, f.cert, leaf, now); err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if f.ca != "" {
		caPEM, err := readPEM(f.caKey, f.ca, "CERTIFICATE")
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		valid := 0
		for rest := caPEM; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", f.caKey, f.ca, err)
			}
			if inValidity(f.caKey, f.ca, c, now) == nil {
				valid++
			}
			pool.AddCert(c)
		}
		if valid == 0 {
			return nil, fmt.Errorf("%s %q: every certificate in it is expired or not yet valid", f.caKey, f.ca)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// readPEM reads a PEM file and checks that it holds a block whose type
// ends in kind ("CERTIFICATE", "PRIVATE KEY": RSA and EC keys included).
func readPEM(key, path, kind string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", key, path, errors.Unwrap(err))
	}
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			return nil, fmt.Errorf("%s %q holds no PEM %s (a block starting -----BEGIN ...%s-----)", key, path, kind, kind)
		}
		if len(blk.Type) >= len(kind) && blk.Type[len(blk.Type)-len(kind):] == kind {
			return b, nil
		}
	}
}

// inValidity says when c is outside its validity period at now.
func inValidity(key, path string, c *x509.Certificate, now time.Time) error {
	switch {
	case now.After(c.NotAfter):
		return fmt.Errorf("%s %q: certificate %q expired at %s: renew it", key, path, c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Errorf("%s %q: certificate %q is not valid before %s (is the clock right?)", key, path, c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}
