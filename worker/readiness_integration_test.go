//go:build integration

package worker_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testenv"
)

// A worker whose Neo4j is down starts, says so on /readyz, and exports it
// for the PipewatchNeo4jUnreachable rule: neo4j 0, temporal and the spool 1.
func TestReadinessMetricsIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Neo4j.URI = "bolt://" + dead.Addr().String()
	_ = dead.Close()
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
	addr := testenv.StartWorker(t, cfg)

	code, body := get(t, "http://"+addr+"/readyz")
	if want := `{"status":"not ready","checks":{"lineage_spool":"ok","neo4j":"connection refused","temporal":"ok"}}` + "\n"; code != 503 || body != want {
		t.Errorf("/readyz = %d %s, want 503 %s", code, body, want)
	}
	_, metrics := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		"\npipewatch_readiness_check_ok{check=\"lineage_spool\"} 1\n",
		"\npipewatch_readiness_check_ok{check=\"neo4j\"} 0\n",
		"\npipewatch_readiness_check_ok{check=\"temporal\"} 1\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}
