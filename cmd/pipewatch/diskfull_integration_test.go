//go:build integration && linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/sys/unix"

	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/workflows"
)

// TestDiskFullIntegration fills the disk under a running `pipewatch
// worker` (its file size limit, lowered from outside with prlimit: the
// kernel then fails its writes as on a full disk, cutting the one that
// straddles the limit) while the ML pipeline runs, then gives the room
// back. The worker never stops serving Temporal; the step that could not
// record its audit line or its lineage fails and is retried; the pipeline
// completes; no lineage event is lost (none refused, the spool drains,
// the whole lineage is in Neo4j); the audit chain verifies with the key,
// the record cut short reported as torn, not as tampering.
func TestDiskFullIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	bin := buildBinary(t)
	queue := testenv.Name(t)
	logDir := t.TempDir()
	src, err := filepath.Abs("../../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	// The run under the fault reads its own copy, renamed patient and all:
	// its datasets are its own, not the warm-up run's.
	sample, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	srcDir := t.TempDir()
	faultSrc := filepath.Join(srcDir, "cohort.csv")
	if err := os.WriteFile(faultSrc, []byte(strings.Replace(string(sample), "P000001,", queue+",", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	const auditKey = "disk-full-audit-key-0123456789"
	addr := freeAddr(t)
	// The worker reaches Neo4j through a proxy the test can hold, so that
	// lineage waits in the spool while the disk is full.
	bolt, err := url.Parse(cfg.Neo4j.URI)
	if err != nil {
		t.Fatal(err)
	}
	neo4jProxy := testenv.StartPauseProxy(t, bolt.Host)
	cmd := exec.Command(bin, append([]string{"worker", "--http-addr", addr, "--neo4j-uri", bolt.Scheme + "://" + neo4jProxy.Addr, "--log-dir", logDir, "--lineage-spool-dir", t.TempDir(),
		"--temporal-task-queue", queue, "--ml-store-dir", t.TempDir(), "--ml-source-roots", filepath.Dir(src) + "," + srcDir, "--log-console-level", "off",
		"--alerts-cpu-threshold", "0", "--alerts-memory-threshold", "0", "--alerts-disk-threshold", "0"}, testenv.WorkerFlags(t, cfg, queue)...)...)
	cmd.Env = append(testenv.WorkerEnv(cfg), "PIPEWATCH_LOG_AUDIT_KEY="+auditKey)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(limit); !ok(); time.Sleep(100 * time.Millisecond) {
			select {
			case err := <-exited:
				t.Fatalf("%s: the worker exited: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s", what, limit)
			}
		}
	}
	status := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor("worker ready", 60*time.Second, func() bool { return status("/readyz") == http.StatusOK })
	tc := testenv.Temporal(t, cfg)
	model := testenv.Name(t)
	testenv.RunMLPipeline(t, tc, queue, src, model) // the spool and the audit log have content
	waitFor("spool drained", 30*time.Second, func() bool { return metric(addr, "pipewatch_lineage_spool_pending_bytes") == "0" })

	// Neo4j stops answering: from now on lineage stays in the spool.
	neo4jProxy.Pause()
	// The disk is full: the next audit record is cut after 64 bytes.
	auditLog := filepath.Join(logDir, "audit.log")
	st, err := os.Stat(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	var room unix.Rlimit
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, nil, &room); err != nil {
		t.Fatal(err)
	}
	full := room
	full.Cur = uint64(st.Size() + 64)
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, &full, nil); err != nil {
		t.Fatal(err)
	}
	ctx := interceptors.WithUserID(context.Background(), "alice")
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, workflows.MLPipelineName,
		workflows.MLPipelineInput{Source: faultSrc, ModelName: model})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), run.GetID(), "", "test over") })
	// And demo pipelines, twenty at a time, until their lineage, held in
	// the spool, overflows what room its segment has.
	var demos []client.WorkflowRun
	startDemos := func(n int) {
		for range n {
			d, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-demo-%d", queue, len(demos)), TaskQueue: queue},
				workflows.DemoWorkflowName, workflows.DemoInput{Name: "full disk"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), d.GetID(), "", "test over") })
			demos = append(demos, d)
		}
	}
	startDemos(20)
	var lastFailure string
	var lastLog time.Time
	waitFor("the first Ingest attempt failed", 60*time.Second, func() bool {
		d, err := tc.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
		if err != nil || len(d.RawResponse.GetPendingActivities()) == 0 {
			if time.Since(lastLog) > 5*time.Second {
				lastLog = time.Now()
				var task any
				if d != nil {
					task = d.RawResponse.GetPendingWorkflowTask()
				}
				t.Logf("no step pending yet (describe: %v; workflow task %v; %d demos started)", err, task, len(demos))
			}
			return false
		}
		a := d.RawResponse.GetPendingActivities()[0]
		lastFailure = a.GetLastFailure().GetMessage()
		retrying := metric(addr, "pipewatch_lineage_events_retrying")
		if time.Since(lastLog) > 0 {
			lastLog = time.Now()
			t.Logf("%s attempt %d (%s), %d demos started, lineage events retrying %s, spool pending %s bytes; last failure %q",
				a.GetActivityType().GetName(), a.GetAttempt(), a.GetState(), len(demos), retrying, metric(addr, "pipewatch_lineage_spool_pending_bytes"), lastFailure)
		}
		if a.GetAttempt() >= 2 && retrying == "0" && len(demos) < 200 {
			startDemos(20) // the spool still has room
			return false
		}
		return a.GetAttempt() >= 2 && retrying != "0"
	})
	if !strings.Contains(lastFailure, "audit data_access") || !strings.Contains(lastFailure, "file too large") {
		t.Errorf("the failed attempt says %q, want the audit record that could not be written", lastFailure)
	}
	// Meanwhile the worker serves: health, and its pollers on the queue.
	tq, err := tc.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil || len(tq.GetPollers()) == 0 || status("/healthz") != http.StatusOK {
		t.Errorf("while the disk is full: %d workflow pollers (%v), /healthz %d", len(tq.GetPollers()), err, status("/healthz"))
	}

	// Room again, and Neo4j back: the retry goes through, the pipeline
	// completes.
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, &room, nil); err != nil {
		t.Fatal(err)
	}
	neo4jProxy.Resume()
	var res workflows.MLPipelineResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("the pipeline after the disk had room again: %v", err)
	}
	for _, d := range demos {
		if err := d.Get(ctx, nil); err != nil {
			t.Fatalf("demo %s after the disk had room again: %v", d.GetID(), err)
		}
	}
	waitFor("no lineage event left to retry", 30*time.Second, func() bool { return metric(addr, "pipewatch_lineage_events_retrying") == "0" })

	// No lineage lost: nothing refused or dead-lettered, the spool drained,
	// the whole chain in Neo4j, the workflow run complete.
	waitFor("spool drained after the fault", 60*time.Second, func() bool { return metric(addr, "pipewatch_lineage_spool_pending_bytes") == "0" })
	for _, m := range []string{"pipewatch_lineage_events_refused_total", "pipewatch_lineage_dead_letters_total", "pipewatch_lineage_spool_corrupt_records_total"} {
		if got := metric(addr, m); got != "0" {
			t.Errorf("%s = %s, want 0", m, got)
		}
	}
	store := graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database)
	var steps []string
	waitFor("the run's lineage in Neo4j", 30*time.Second, func() bool {
		runs, err := store.StepRuns(context.Background(), run.GetRunID())
		if err != nil {
			return false
		}
		steps = steps[:0]
		for _, r := range runs {
			steps = append(steps, r.JobKey+" "+r.State)
		}
		slices.Sort(steps)
		wf, err := store.GetRun(context.Background(), run.GetRunID())
		return err == nil && wf.State == lineage.StateComplete && len(steps) == 7
	})
	want := []string{"pipewatch.ml.Evaluate COMPLETE", "pipewatch.ml.Features COMPLETE", "pipewatch.ml.Ingest COMPLETE",
		"pipewatch.ml.Predict COMPLETE", "pipewatch.ml.Register COMPLETE", "pipewatch.ml.Train COMPLETE", "pipewatch.ml.Validate COMPLETE"}
	if !slices.Equal(steps, want) {
		t.Errorf("the run's steps in the lineage: %q, want %q", steps, want)
	}
	// From the predictions up to the file the run read, through its steps.
	g, err := store.Traverse(context.Background(), res.Predictions.VersionID(), graph.Upstream, graph.QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	source := false
	for _, n := range g.Nodes {
		source = source || n.ID == "file://"+faultSrc+"@"+lineage.Digest([]byte(strings.Replace(string(sample), "P000001,", queue+",", 1)))
	}
	if !source {
		t.Errorf("the source %s is not upstream of the predictions %s", faultSrc, res.Predictions.VersionID())
	}
	demoDone := func(d client.WorkflowRun) bool {
		runs, err := store.StepRuns(context.Background(), d.GetRunID())
		wf, werr := store.GetRun(context.Background(), d.GetRunID())
		return err == nil && werr == nil && len(runs) == 2 && runs[0].State == lineage.StateComplete &&
			runs[1].State == lineage.StateComplete && wf.State == lineage.StateComplete
	}
	for _, d := range demos {
		waitFor("demo "+d.GetID()+" and its 2 steps COMPLETE in the lineage", 30*time.Second, func() bool { return demoDone(d) })
	}

	// The worker never stopped; it stops cleanly now.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("worker exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not stop within 60s of SIGTERM")
	}

	// The audit chain: one torn line, recorded as such; sealed with the
	// key; alice's read of the source in this run written once (by the
	// attempt that succeeded).
	files, err := logging.AuditFiles(logDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := logging.VerifyAuditFiles([]byte(auditKey), files...)
	if err != nil || rep.Tampered() || len(rep.Problems) != 1 || !rep.Problems[0].Torn || rep.Unsealed != 0 {
		t.Errorf("audit log: %s, problems %+v, %v; want one torn line, nothing else, sealed", rep, rep.Problems, err)
	}
	reads := 0
	if err := logging.ReadAudit(files, func(r logging.AuditRecord) (bool, error) {
		if r.Event == logging.AuditDataAccess && r.Details["run_id"] == run.GetRunID() && r.Actor == "alice" {
			reads++
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("data_access records of the run: %d, want 1", reads)
	}
	// The lineage writes that failed were tried again and landed.
	mainLog, err := os.ReadFile(filepath.Join(logDir, "pipewatch.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mainLog), "lineage event spooled after its write failed") {
		t.Error("pipewatch.log tells of no lineage write tried again: the spool's disk was never full")
	}
}
