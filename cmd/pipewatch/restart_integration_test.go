//go:build integration

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
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
	start := func(neo4jURI, httpAddr string) *exec.Cmd {
		cmd := exec.Command(bin, "worker", "--http-addr", httpAddr, "--log-dir", t.TempDir(), "--lineage-spool-dir", spool,
			"--temporal-task-queue", queue, "--neo4j-uri", neo4jURI, "--log-console-level", "warn")
		cmd.Env = append(os.Environ(), "PIPEWATCH_NEO4J_PASSWORD="+cfg.Neo4j.Password)
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
