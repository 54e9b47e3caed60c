//go:build integration

package worker_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/worker"
	"github.com/pipewatch/pipewatch/workflows"
)

// TestWorkerRunsDemoIntegration runs the real worker in-process against the
// dev server and Neo4j: the demo workflow completes, its run lands in Neo4j,
// the HTTP endpoints answer, and cancelling stops the worker cleanly.
func TestWorkerRunsDemoIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 10 * time.Second
	// A loaded test machine must not raise resource alerts into the counts.
	cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
	testenv.ScopeSentinel(t, &cfg)
	var console bytes.Buffer
	logs, err := logging.New(logging.Options{Dir: cfg.Log.Dir, Level: "info", Console: &console})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrCh := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, cfg, logs, worker.Options{Version: "test", Ready: func(a string) { addrCh <- a }})
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-done:
		t.Fatalf("worker exited at start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready in 30s")
	}

	tc := testenv.Temporal(t, cfg)
	wfID := testenv.Name(t)
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: wfID, TaskQueue: cfg.Temporal.TaskQueue, WorkflowExecutionTimeout: time.Minute,
	}, workflows.DemoWorkflowName, workflows.DemoInput{Name: "integration"})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.DemoResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if want := (workflows.DemoResult{Greeting: "hello, integration", Letters: 16, RunID: run.GetRunID()}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}

	store := graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database)

	// HTTP endpoints.
	if code, body := get(t, "http://"+addr+"/healthz"); code != 200 || body != `{"status":"ok"}`+"\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, body := get(t, "http://"+addr+"/readyz")
	var ready struct {
		Status string
		Checks map[string]string
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	if code != 200 || ready.Status != "ready" || ready.Checks["temporal"] != "ok" || ready.Checks["neo4j"] != "ok" || ready.Checks["lineage_spool"] != "ok" || len(ready.Checks) != 3 {
		t.Errorf("/readyz = %d %+v", code, ready)
	}
	// The SDK's metrics reach the registry through tally, flushed every
	// second: scrape until everything is there (or 10s have passed).
	// tally's Prometheus sanitizer turns '-' and '.' in label values into '_'.
	tq := `task_queue="` + regexp.MustCompile(`[^a-zA-Z0-9_]`).ReplaceAllString(cfg.Temporal.TaskQueue, "_") + `"`
	checkMetrics := func(metrics string) (problems []string) {
		for _, want := range []string{
			`pipewatch_build_info{go_version="`,
			`pipewatch_metrics_register_errors_total `,
			`temporal_activity_execution_latency_seconds_bucket{`, // timers as histograms...
			`le="21600"`, // ...with buckets up to 6 hours
			`go_goroutines `, `process_resident_memory_bytes `,
			// Lineage: the run and its two steps, START and COMPLETE each,
			// stored; nothing pending, refused or failed.
			"\npipewatch_lineage_events_written_total 6\n",
			"\npipewatch_lineage_spool_pending_bytes 0\n",
			"\npipewatch_lineage_events_refused_total 0\n",
			"\npipewatch_lineage_writes_total{status=\"error\"} 0\n",
			"\npipewatch_lineage_spool_limit_bytes 1.073741824e+09\n",
			// The readiness checks, as /readyz ran them.
			"\npipewatch_readiness_check_ok{check=\"lineage_spool\"} 1\n",
			"\npipewatch_readiness_check_ok{check=\"neo4j\"} 1\n",
			"\npipewatch_readiness_check_ok{check=\"temporal\"} 1\n",
		} {
			if !strings.Contains(metrics, want) {
				problems = append(problems, "lacks "+want)
			}
		}
		// Exact counts for this test's task queue: one workflow, one run of each step.
		for _, c := range []struct{ prefix, label, want string }{
			{"temporal_workflow_completed_total{", `workflow_type="pipewatch_Demo"`, "1"},
			{"temporal_activity_execution_latency_seconds_count{", `activity_type="pipewatch_demo_Greet"`, "1"},
			{"temporal_activity_execution_latency_seconds_count{", `activity_type="pipewatch_demo_Count"`, "1"},
		} {
			if got := sample(metrics, c.prefix, tq, c.label); got != c.want {
				problems = append(problems, fmt.Sprintf("%s%s,%s} = %q, want %s", c.prefix, tq, c.label, got, c.want))
			}
		}
		return problems
	}
	var problems []string
	var scraped string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		_, scraped = get(t, "http://"+addr+"/metrics")
		if problems = checkMetrics(scraped); len(problems) == 0 {
			break
		}
	}
	for _, p := range problems {
		t.Errorf("/metrics: %s", p)
	}
	checkHostAndNaming(t, scraped)

	// Graceful stop.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
		t.Fatal("worker did not stop within its shutdown timeout")
	}
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	// Lineage: the interceptor's run events went through the spool to Neo4j
	// (the graceful stop drains it): the workflow run and its two activity
	// runs, each COMPLETE after one attempt, the activities CHILD_OF the run.
	wfRun, err := store.GetRun(context.Background(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if wfRun.State != lineage.StateComplete || wfRun.Attempt != 1 || wfRun.ParentRunID != "" ||
		wfRun.JobKey != workflows.DemoWorkflowName || wfRun.WorkflowID != wfID || wfRun.EndedAt.Before(wfRun.StartedAt) {
		t.Errorf("workflow run in Neo4j = %+v, want COMPLETE, attempt 1, job %s, workflow %s", wfRun, workflows.DemoWorkflowName, wfID)
	}
	rows, err := neo4j.ExecuteQuery(context.Background(), testenv.Neo4j(t, cfg), `
MATCH (a:Run)-[:CHILD_OF]->(:Run {runId: $runId}), (a)-[:INSTANCE_OF]->(j:Job)
RETURN j.key AS step, a.state AS state, a.attempts AS attempts ORDER BY step`,
		map[string]any{"runId": run.GetRunID()}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database))
	if err != nil {
		t.Fatal(err)
	}
	var children []string
	for _, r := range rows.Records {
		m := r.AsMap()
		children = append(children, fmt.Sprintf("%v %v %v", m["step"], m["state"], m["attempts"]))
	}
	if got, want := strings.Join(children, "; "), "pipewatch.demo.Count COMPLETE 1; pipewatch.demo.Greet COMPLETE 1"; got != want {
		t.Errorf("activity runs under the workflow run = %q, want %q", got, want)
	}

	msgs := logMessages(t, filepath.Join(cfg.Log.Dir, "pipewatch.log"))
	for _, want := range []string{"worker started", "worker stopping", "worker stopped"} {
		if msgs[want] != 1 {
			t.Errorf("pipewatch.log has %d %q lines, want 1 (all: %v)", msgs[want], want, msgs)
		}
	}
	if !strings.Contains(console.String(), "worker started") {
		t.Errorf("console lacks the start line:\n%s", console.String())
	}
}

// checkHostAndNaming checks the worker's scrape: the host's disk series
// for exactly the configured folders, and Prometheus' naming rules
// (promtool check metrics says nothing).
func checkHostAndNaming(t *testing.T, scraped string) {
	t.Helper()
	for _, name := range []string{"pipewatch_host_disk_total_bytes", "pipewatch_host_disk_free_bytes"} {
		var uses []string
		for _, line := range strings.Split(scraped, "\n") {
			if rest, ok := strings.CutPrefix(line, name+`{use="`); ok {
				u, _, _ := strings.Cut(rest, `"`)
				uses = append(uses, u)
			}
		}
		if got := strings.Join(uses, ","); got != "data,logs,spool" {
			t.Errorf("%s series for %q, want data,logs,spool", name, got)
		}
	}
	for _, name := range []string{"pipewatch_host_memory_total_bytes ", "pipewatch_host_memory_available_bytes "} {
		if !strings.Contains(scraped, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (apt-get install prometheus)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scraped)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics on the worker's /metrics: %v\n%s", err, out)
	}
}

// sample returns the value of the one series with the name prefix and all
// the labels, or "" when there is none.
func sample(metrics, prefix string, labels ...string) string {
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		matched := true
		for _, l := range labels {
			matched = matched && strings.Contains(line, l)
		}
		if matched {
			return line[strings.LastIndexByte(line, ' ')+1:]
		}
	}
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// logMessages counts the JSON log lines of a file by message, checking each
// line has a timestamp and a level.
func logMessages(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: not JSON: %q", path, sc.Text())
		}
		if line["ts"] == nil || line["level"] == nil {
			t.Errorf("%s: line without ts or level: %q", path, sc.Text())
		}
		msg, _ := line["msg"].(string)
		counts[msg]++
	}
	return counts
}
