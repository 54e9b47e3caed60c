package worker

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/pipewatch/pipewatch/internal/testcerts"
)

// A misconfigured certificate stops the worker at start, before any
// connection, with the setting, the file and the reason; a good set loads.
func TestTLSFilesAtStart(t *testing.T) {
	pki := testcerts.New(t)
	garbage := filepath.Join(pki.Dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(pki.Dir, "missing.pem")
	tests := []struct {
		name     string
		temporal TemporalConfig
		neo4jCA  string
		wantErr  string // a regexp of the whole error; "" for none
	}{
		{name: "mTLS and a CA", temporal: TemporalConfig{TLSCert: pki.ClientCert, TLSKey: pki.ClientKey, TLSCA: pki.CA}, neo4jCA: pki.CA},
		{name: "a key where the certificate goes", temporal: TemporalConfig{TLSCert: pki.ClientKey, TLSKey: pki.ClientKey},
			wantErr: `^start: temporal.tls_cert "` + regexp.QuoteMeta(pki.ClientKey) + `" holds no PEM CERTIFICATE \(a block starting -----BEGIN ...CERTIFICATE-----\)$`},
		{name: "a certificate where the key goes", temporal: TemporalConfig{TLSCert: pki.ClientCert, TLSKey: pki.ClientCert},
			wantErr: `^start: temporal.tls_key "` + regexp.QuoteMeta(pki.ClientCert) + `" holds no PEM PRIVATE KEY`},
		{name: "the key of another certificate", temporal: TemporalConfig{TLSCert: pki.ClientCert, TLSKey: pki.ServerKey},
			wantErr: `^start: temporal.tls_key "` + regexp.QuoteMeta(pki.ServerKey) + `" does not go with temporal.tls_cert "` + regexp.QuoteMeta(pki.ClientCert) + `": tls: private key does not match public key$`},
		{name: "an expired certificate", temporal: TemporalConfig{TLSCert: pki.ExpiredCert, TLSKey: pki.ExpiredKey},
			wantErr: `^start: temporal.tls_cert "` + regexp.QuoteMeta(pki.ExpiredCert) + `": certificate "pipewatch" expired at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ: renew it$`},
		{name: "a CA bundle that is no PEM", temporal: TemporalConfig{TLSCA: garbage},
			wantErr: `^start: temporal.tls_ca "` + regexp.QuoteMeta(garbage) + `" holds no PEM CERTIFICATE`},
		{name: "a missing CA bundle", temporal: TemporalConfig{TLSCA: missing},
			wantErr: `^start: temporal.tls_ca "` + regexp.QuoteMeta(missing) + `": no such file or directory$`},
		{name: "a Neo4j CA bundle that is a key", neo4jCA: pki.ServerKey,
			wantErr: `^start: neo4j.tls_ca "` + regexp.QuoteMeta(pki.ServerKey) + `" holds no PEM CERTIFICATE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Log.Dir = t.TempDir()
			cfg.Temporal.Address = "127.0.0.1:1" // never reached: the files fail first
			cfg.Temporal.TLSCert, cfg.Temporal.TLSKey, cfg.Temporal.TLSCA = tt.temporal.TLSCert, tt.temporal.TLSKey, tt.temporal.TLSCA
			cfg.Neo4j.TLSCA = tt.neo4jCA
			if tt.wantErr == "" {
				if err := checkTLSFiles(cfg); err != nil {
					t.Fatalf("checkTLSFiles: %v", err)
				}
				tc, err := temporalTLS(cfg.Temporal)
				if err != nil || len(tc.Certificates) != 1 || tc.RootCAs == nil {
					t.Errorf("temporal TLS: %+v, %v; want a client certificate and the CA", tc, err)
				}
				return
			}
			logs, err := OpenLogs(cfg.Log, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer logs.Close()
			err = Run(context.Background(), cfg, logs, Options{})
			if err == nil || !regexp.MustCompile(tt.wantErr).MatchString(err.Error()) {
				t.Errorf("Run: %v\nwant %s", err, tt.wantErr)
			}
		})
	}
}
