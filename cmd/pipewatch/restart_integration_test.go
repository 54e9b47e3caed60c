//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	pwworker "github.com/pipewatch/pipewatch/worker"
	"github.com/pipewatch/pipewatch/workflows"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pipewatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// metric reads one sample's value from a worker's /metrics ("" if absent).
func metric(addr, name string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	return ""
}

// TestSpooledLineageSurvivesSIGKILL runs the worker with Neo4j unreachable,
// so a pipeline's lineage stays in the spool; kills it with SIGKILL; starts
// a new worker on the same spool with Neo4j reachable, and checks that every
// event lands.
func TestSpooledLineageSurvivesSIGKILL(t *testing.T) {
	cfg := testenv.Config(t)
	bin := buildBinary(t)
	spool, queue := t.TempDir(), testenv.Name(t)
	sentinel := testenv.WorkerFlags(t, cfg, queue)
	start := func(neo4jURI, httpAddr string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"worker", "--http-addr", httpAddr, "--log-dir", t.TempDir(), "--lineage-spool-dir", spool,
			"--temporal-task-queue", queue, "--neo4j-uri", neo4jURI, "--log-console-level", "warn"}, sentinel...)...)
		cmd.Env = testenv.WorkerEnv(cfg)
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(limit); !ok(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s", what, limit)
			}
		}
	}

	// 1. Neo4j unreachable: the pipeline runs, its lineage is spooled.
	addr1 := freeAddr(t)
	first := start("bolt://"+freeAddr(t), addr1)
	waitFor("first worker serving /metrics", 30*time.Second, func() bool { return metric(addr1, "pipewatch_lineage_events_written_total") != "" })
	tc := testenv.Temporal(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, workflows.DemoWorkflowName, workflows.DemoInput{Name: "kill -9"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := metric(addr1, "pipewatch_lineage_events_written_total"); got != "0" {
		t.Fatalf("events written with Neo4j unreachable: %s, want 0", got)
	}
	if got := metric(addr1, "pipewatch_lineage_spool_pending_bytes"); got == "0" || got == "" {
		t.Fatalf("spool pending bytes = %q, want the run's events", got)
	}

	// 2. SIGKILL: no shutdown, no final drain.
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	// 3. A new worker on the same spool, Neo4j reachable: all six events land.
	addr2 := freeAddr(t)
	start(cfg.Neo4j.URI, addr2)
	waitFor("all spooled events written", 60*time.Second, func() bool {
		return metric(addr2, "pipewatch_lineage_events_written_total") == "6" && metric(addr2, "pipewatch_lineage_spool_pending_bytes") == "0"
	})
	store := graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database)
	wf, err := store.GetRun(ctx, run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if wf.State != lineage.StateComplete || wf.JobKey != workflows.DemoWorkflowName {
		t.Errorf("workflow run = %+v, want COMPLETE", wf)
	}
	steps, err := store.StepRuns(ctx, run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%s:%s:%d", s.JobKey, s.State, s.Attempt))
	}
	if strings.Join(got, " ") != "pipewatch.demo.Greet:COMPLETE:1 pipewatch.demo.Count:COMPLETE:1" {
		t.Errorf("step runs = %q", got)
	}
}

// hookReceiver keeps the alert notifications a worker posts, with the time
// each arrived.
// hookReceiver is a webhook receiver that honours the Idempotency-Key
// header, as the README asks of receivers: delivery is at least once (a
// worker killed after the POST and before Temporal heard of it sends the
// message again, with the same key), so a redelivery is acknowledged and
// counted, not kept.
type hookReceiver struct {
	mu          sync.Mutex
	got         []alerts.Notification
	when        []time.Time
	keys        map[string]bool
	redelivered int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n alerts.Notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if h.keys[key] {
			h.redelivered++
			return
		}
		if h.keys == nil {
			h.keys = map[string]bool{}
		}
		h.keys[key] = true
	}
	h.got, h.when = append(h.got, n), append(h.when, time.Now())
}

func (h *hookReceiver) snapshot() ([]alerts.Notification, []time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got), slices.Clone(h.when)
}

// TestAlertCooldownSurvivesSIGKILL raises an alert and three repeats,
// kills the worker with SIGKILL inside the cooldown, starts another, and
// checks the summary is sent once, when the cooldown ends.
func TestAlertCooldownSurvivesSIGKILL(t *testing.T) {
	cfg := testenv.Config(t)
	bin := buildBinary(t)
	hook := &hookReceiver{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	queue := testenv.Name(t)
	sentinel := testenv.WorkerFlags(t, cfg, queue)
	const cooldown = 10 * time.Second
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"worker", "--http-addr", freeAddr(t), "--log-dir", t.TempDir(), "--lineage-spool-dir", t.TempDir(),
			"--temporal-task-queue", queue, "--log-console-level", "off",
			"--alerts-channels", "webhook", "--alerts-webhook-url", srv.URL, "--alerts-cooldown", cooldown.String(),
			"--alerts-cpu-threshold", "0", "--alerts-memory-threshold", "0", "--alerts-disk-threshold", "0"}, sentinel...)...)
		cmd.Env = testenv.WorkerEnv(cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	first := start()
	tc := testenv.Temporal(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := alerts.Alert{Type: alerts.DataQuality, Severity: alerts.Warning, Labels: map[string]string{"dataset": queue},
		Summary: "12% missing MMSE"}
	policy := pwworker.AlertPolicy(pwworker.AlertsConfig{Cooldown: cooldown, Channels: "webhook"}, true)
	raisedAt := time.Now()
	for range 4 { // the first and three repeats
		if err := alerts.Raise(ctx, tc, queue, policy, a); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got, _ := hook.snapshot(); len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first notification never came")
		}
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL, repeats pending
		t.Fatal(err)
	}
	_ = first.Wait()
	start()

	var st alerts.State
	if err := tc.GetWorkflow(ctx, a.WorkflowID(), "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	got, when := hook.snapshot()
	hook.mu.Lock()
	t.Logf("%d redeliveries recognized by their Idempotency-Key", hook.redelivered)
	hook.mu.Unlock()
	var lines []string
	for _, n := range got {
		lines = append(lines, fmt.Sprintf("%s repeats=%d count=%d", n.Kind, n.Repeats, n.Count))
	}
	if strings.Join(lines, "; ") != "first repeats=0 count=1; repeat_summary repeats=3 count=4" {
		t.Fatalf("webhook got %q", lines)
	}
	if late := when[1].Sub(raisedAt); late < cooldown || late > cooldown+10*time.Second {
		t.Errorf("summary %s after the first occurrence, want the %s cooldown", late.Round(time.Millisecond), cooldown)
	}
	if st.Status != alerts.StatusClosed || st.Count != 4 || st.Seq != 2 {
		t.Errorf("final state: %s, count %d, seq %d", st.Status, st.Count, st.Seq)
	}
}
