//go:build integration

package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/workflows"
)

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Panels []struct {
		Title   string
		Type    string
		Targets []struct{ Expr string }
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDashboardQueriesOnRealPrometheus runs the pipewatch worker and the
// demo workflow, has Debian's Prometheus scrape the worker, and evaluates
// every expression of the Grafana dashboard on it: each must be valid
// PromQL over metrics the worker exports, and the pipeline panels must show
// the demo.
func TestDashboardQueriesOnRealPrometheus(t *testing.T) {
	b, err := os.ReadFile("grafana/dashboards/pipewatch.json")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}

	// The worker, in-process, on its own task queue and port.
	cfg := testenv.Config(t)
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = freePort(t)
	testenv.StartWorker(t, cfg)
	ctx := context.Background()
	tc := testenv.Temporal(t, cfg)
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue}, workflows.DemoWorkflowName, workflows.DemoInput{Name: "grafana"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// Prometheus scraping it every second.
	promtool, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus not found: install Debian's prometheus package (.ci/run does)")
	}
	dir := t.TempDir()
	promCfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pipewatch-worker\n    static_configs:\n      - targets: [%q]\n", cfg.HTTP.Addr)
	if err := os.WriteFile(promCfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freePort(t)
	prom := exec.Command(promtool, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = prom.Process.Kill(); _ = prom.Wait() }()
	query := func(expr string) (int, error) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(expr))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var r struct {
			Status, Error string
			Data          struct{ Result []json.RawMessage }
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return 0, err
		}
		if r.Status != "success" {
			return 0, fmt.Errorf("%s", r.Error)
		}
		return len(r.Data.Result), nil
	}
	// Three scrapes, so rates have two points.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if n, err := query(`count_over_time(up{job="pipewatch-worker"}[1m]) >= 3`); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("prometheus did not scrape the worker three times in 30s")
		}
	}

	// The sentinel counts the demo's run once it closed: a scan (every
	// 10s) and a scrape later, Prometheus has it.
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(time.Second) {
		if n, err := query(`count_over_time(pipewatch_workflow_outcomes_total{pipeline="pipewatch.Demo",status="completed"}[1m]) >= 2`); err == nil && n == 1 { // rates need two points
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sentinel's count of the demo run did not reach Prometheus in 40s")
		}
	}

	// Every panel's expressions are valid and name metrics that exist.
	pipelinePanels := map[string]bool{"Open runs (from Temporal)": true, "Run outcomes per minute": true, "Since the last successful run": true,
		"Step duration p95": true, "Problems open now (sentinel)": true}
	exprs := 0
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			exprs++
			expr := strings.ReplaceAll(target.Expr, "$pipeline", ".*")
			n, err := query(expr)
			if err != nil {
				t.Errorf("panel %q: %s: %v", p.Title, expr, err)
				continue
			}
			if pipelinePanels[p.Title] && n == 0 {
				t.Errorf("panel %q shows nothing after the demo ran: %s", p.Title, expr)
			}
		}
		// Each metric the panel reads is exported by the worker (failures
		// appear with their first error type, pending steps once a scan
		// saw one: the README documents them).
		for _, target := range p.Targets {
			for _, m := range metricNames(target.Expr) {
				if m == "pipewatch_step_failures_total" || m == "pipewatch_steps_pending" {
					if !strings.Contains(string(readme), "`"+m+"`") {
						t.Errorf("panel %q reads %s, which the README does not document", p.Title, m)
					}
					continue
				}
				if n, err := query(fmt.Sprintf("count({__name__=%q})", m)); err != nil || n == 0 {
					t.Errorf("panel %q reads %s, which the worker does not export", p.Title, m)
				}
			}
		}
	}
	if exprs < 20 {
		t.Errorf("dashboard has %d expressions, want the 20+ panels", exprs)
	}
}

// metricNames picks the metric names (pipewatch_*, temporal_*, process_*,
// go_*) out of an expression.
func metricNames(expr string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(expr, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		for _, p := range []string{"pipewatch_", "temporal_", "process_", "go_"} {
			if strings.HasPrefix(f, p) {
				out = append(out, f)
			}
		}
	}
	return out
}
