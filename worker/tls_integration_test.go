//go:build integration

package worker_test

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testcerts"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

// Neo4j with Bolt TLS on (its own SSL policy, TLS required) and a
// certificate the test made: bolt+s:// and routing neo4j+s:// connect with
// neo4j.tls_ca; a wrong or missing CA, and plain bolt://, do not, and say
// why.
func TestNeo4jBoltTLSIntegration(t *testing.T) {
	pki := testcerts.New(t)
	neo := testenv.StartPrivateNeo4j(t, &testenv.Neo4jTLS{Cert: pki.ServerCert, Key: pki.ServerKey})
	_, port, _ := net.SplitHostPort(neo.Host)
	tests := []struct {
		name, uri, ca string
		wantErr       string // "" for a working connection
		wantCause     string // what /readyz says
	}{
		{"bolt+s with the CA", "bolt+s://127.0.0.1:" + port, pki.CA, "", ""},
		{"routing neo4j+s by name with the CA", "neo4j+s://localhost:" + port, pki.CA, "", ""},
		{"neo4j+ssc trusts any certificate", "neo4j+ssc://127.0.0.1:" + port, "", "", ""},
		{"bolt+s with the system roots", "bolt+s://127.0.0.1:" + port, "", "certificate signed by unknown authority (set neo4j.tls_ca to the CA bundle that signed the server's certificate)", "TLS: the server's certificate is signed by no CA trusted here (tls_ca)"},
		{"bolt+s with another CA", "bolt+s://127.0.0.1:" + port, pki.OtherCA, "certificate signed by unknown authority", "TLS: the server's certificate is signed by no CA trusted here (tls_ca)"},
		{"plain bolt where TLS is required", "bolt://127.0.0.1:" + port, "", "(the server closed the connection: if it requires TLS, use bolt+s:// or neo4j+s://)", "the server closed the connection: does it require TLS?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testenv.Config(t)
			cfg.Neo4j.URI, cfg.Neo4j.TLSCA = tt.uri, tt.ca
			d, err := worker.OpenNeo4j(cfg.Neo4j)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close(context.Background())
			// A refused handshake is retried until the deadline.
			timeout := 20 * time.Second
			if tt.wantErr != "" {
				timeout = 4 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err = worker.CheckNeo4j(ctx, d, cfg.Neo4j.Database)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckNeo4j: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckNeo4j: %v; want an error saying %q", err, tt.wantErr)
			}
			if cause := worker.Cause(err); cause != tt.wantCause {
				t.Errorf("/readyz cause %q, want %q", cause, tt.wantCause)
			}
		})
	}
}

// The Temporal frontend behind TLS (the dev server has none: a TLS
// gateway in front of it, see testenv.TemporalTLSFrontend): mTLS with
// temporal.tls_cert, tls_key and tls_ca, and an API key, connect; a
// missing client certificate, another CA and a wrong API key do not.
func TestTemporalTLSIntegration(t *testing.T) {
	pki := testcerts.New(t)
	base := testenv.Config(t)
	mtls := testenv.TemporalTLSFrontend(t, base.Temporal.Address, pki.Server, pki.Pool, "")
	keyed := testenv.TemporalTLSFrontend(t, base.Temporal.Address, pki.Server, pki.Pool, "k3y-for-the-gateway")
	tests := []struct {
		name               string
		cfg                worker.TemporalConfig
		wantErr, wantCause string
	}{
		{"mTLS", worker.TemporalConfig{Address: mtls, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey, TLSCA: pki.CA}, "", ""},
		{"mTLS and an API key", worker.TemporalConfig{Address: keyed, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey, TLSCA: pki.CA, APIKey: "k3y-for-the-gateway"}, "", ""},
		{"no client certificate", worker.TemporalConfig{Address: mtls, TLSCA: pki.CA}, "(the server may want a client certificate: set temporal.tls_cert and temporal.tls_key)", "TLS: the server refused the client certificate, or wants one (tls_cert)"},
		{"another CA", worker.TemporalConfig{Address: mtls, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey, TLSCA: pki.OtherCA}, "certificate signed by unknown authority", "TLS: the server's certificate is signed by no CA trusted here (tls_ca)"},
		{"a wrong API key", worker.TemporalConfig{Address: keyed, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey, TLSCA: pki.CA, APIKey: "guess"}, "code = Unauthenticated desc = missing or wrong API key", "authentication failed (API key)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Namespace = base.Temporal.Namespace
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			c, err := worker.DialTemporal(ctx, tt.cfg, nil, nil)
			if err == nil {
				defer c.Close()
				err = worker.CheckTemporal(ctx, c, tt.cfg.Namespace)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "guess") {
				t.Fatalf("connect: %v; want an error saying %q (and no key)", err, tt.wantErr)
			}
			if cause := worker.Cause(err); cause != tt.wantCause {
				t.Errorf("/readyz cause %q, want %q", cause, tt.wantCause)
			}
		})
	}
}

// The whole worker in production dress: Temporal over mTLS with an API
// key, Neo4j over Bolt TLS. The ML pipeline runs through it and its lineage
// lands in the TLS Neo4j, every run and dataset from source to predictions.
func TestWorkerOverTLSIntegration(t *testing.T) {
	pki := testcerts.New(t)
	neo := testenv.StartPrivateNeo4j(t, &testenv.Neo4jTLS{Cert: pki.ServerCert, Key: pki.ServerKey})
	cfg := testenv.Config(t)
	const apiKey = "k3y-for-the-gateway"
	cfg.Temporal.Address = testenv.TemporalTLSFrontend(t, cfg.Temporal.Address, pki.Server, pki.Pool, apiKey)
	cfg.Temporal.TLSCert, cfg.Temporal.TLSKey, cfg.Temporal.TLSCA, cfg.Temporal.APIKey = pki.ClientCert, pki.ClientKey, pki.CA, apiKey
	_, port, _ := net.SplitHostPort(neo.Host)
	cfg.Neo4j.URI, cfg.Neo4j.TLSCA = "neo4j+s://localhost:"+port, pki.CA
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.ML.StoreDir = t.TempDir()
	cfg.ML.SourceRoots = "../testdata"
	cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
	testenv.StartWorker(t, cfg)
	tc := testenv.Temporal(t, cfg) // over the TLS frontend too
	ctx := context.Background()
	src, err := filepath.Abs("../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := testenv.RunMLPipeline(t, tc, cfg.Temporal.TaskQueue, src, testenv.Name(t))
	store := graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database)
	var g graph.Graph
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		g, err = store.Traverse(ctx, res.Predictions.VersionID(), graph.Upstream, graph.QueryOptions{})
		if err == nil && len(g.Nodes) == 11 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upstream of the predictions in the TLS Neo4j: %v, %d nodes, want 11", err, len(g.Nodes))
		}
	}
}
