package testenv

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// PrivateNeo4j is a Neo4j server of the test's own, started by the stack's
// script on free ports with its data in a temporary folder, so stopping it
// disturbs no other test and nothing is left to clean up.
type PrivateNeo4j struct {
	t   testing.TB
	env []string
	// Host is 127.0.0.1:<bolt port>; URI is bolt://Host.
	Host, URI string
}

// Neo4jTLS are the PEM files of a private Neo4j's Bolt TLS: a server
// certificate and its PKCS#8 key.
type Neo4jTLS struct {
	Cert, Key string
}

// StartPrivateNeo4j starts a private Neo4j, stopped when the test ends.
// With tls, Bolt requires TLS with that certificate (HTTP stays plain).
func StartPrivateNeo4j(t testing.TB, tls *Neo4jTLS) *PrivateNeo4j {
	t.Helper()
	port := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	bolt, dir := port(), t.TempDir()
	n := &PrivateNeo4j{t: t, Host: "127.0.0.1:" + bolt, URI: "bolt://127.0.0.1:" + bolt, env: append(os.Environ(),
		"PIPEWATCH_NEO4J_BOLT_PORT="+bolt, "PIPEWATCH_NEO4J_HTTP_PORT="+port(),
		"PIPEWATCH_DATA_DIR="+dir+"/data", "PIPEWATCH_RUN_DIR="+dir+"/run",
		"PIPEWATCH_NEO4J_PASSWORD="+DevPassword)}
	if tls != nil {
		certs := filepath.Join(dir, "bolt-tls")
		for _, sub := range []string{"trusted", "revoked"} {
			if err := os.MkdirAll(filepath.Join(certs, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		for src, dst := range map[string]string{tls.Cert: "public.crt", tls.Key: "private.key"} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(certs, dst), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		n.env = append(n.env, "PIPEWATCH_NEO4J_TLS_DIR="+certs)
	}
	n.Script("start")
	t.Cleanup(func() { n.Script("stop") })
	return n
}

// Script runs scripts/neo4j.sh cmd (start, stop) on this server.
func (n *PrivateNeo4j) Script(cmd string) {
	n.t.Helper()
	c := exec.Command(filepath.Join(repoRoot(), "scripts", "neo4j.sh"), cmd)
	c.Env = n.env
	if out, err := c.CombinedOutput(); err != nil {
		n.t.Fatalf("scripts/neo4j.sh %s: %v\n%s", cmd, err, out)
	}
}

// repoRoot is the repository's top folder.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
