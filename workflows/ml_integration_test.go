//go:build integration

package workflows_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/activities/cohort"
	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/workflows"
)

// TestMLPipelineEndToEndIntegration runs the reference pipeline on the
// committed sample through the real pipewatch worker, dev server and Neo4j,
// and reads the predictions' lineage back: every kind from the data source
// to the predictions, with the runs between.
func TestMLPipelineEndToEndIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.ML.StoreDir = t.TempDir()
	cfg.ML.SourceRoots = os.TempDir() + ",../testdata" // the test's sources and batches
	cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
	cfg.Log.Dir = t.TempDir()
	cfg.Log.AuditKey = "integration-audit-key-0123456789"
	testenv.StartWorker(t, cfg)
	ctx := context.Background()
	tc := testenv.Temporal(t, cfg)
	// The committed sample, with its first patient renamed for this run:
	// versions are content digests, shared by every run that makes the same
	// bytes, and this test counts exactly its own.
	sample, err := os.ReadFile("../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(t.TempDir(), "cohort.csv")
	if err := os.WriteFile(source, []byte(strings.Replace(string(sample), "P000001,", testenv.Name(t)+",", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	res, runID := testenv.RunMLPipeline(t, tc, cfg.Temporal.TaskQueue, source, testenv.Name(t))
	if res.Evaluation.AUC < 0.9 || !res.Registration.Promoted || res.Rows != 199 {
		t.Errorf("result %+v", res)
	}
	// The audit log holds who read which source version in which run, and
	// the registration and promotion, by alice; its chain verifies with
	// the key.
	files, err := logging.AuditFiles(cfg.Log.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	if err := logging.ReadAudit(files, func(r logging.AuditRecord) (bool, error) {
		if r.Event == logging.AuditDataAccess || r.Event == logging.AuditModelDeploy {
			audited = append(audited, fmt.Sprintf("%s %s %v %v %v %v", r.Event, r.Actor, r.Details["run_id"] == runID,
				r.Details["dataset_version"], r.Details["action"], r.Details["model_version"]))
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(source)
	sum, _ := os.ReadFile(source)
	want := []string{
		"data_access alice true file://" + abs + "@" + lineage.Digest(sum) + " <nil> <nil>",
		"model_deployment alice true <nil> registered " + res.Model.VersionID(),
		"model_deployment alice true <nil> promoted " + res.Model.VersionID(),
	}
	if !slices.Equal(audited, want) {
		t.Errorf("audit records:\n%s\nwant\n%s", strings.Join(audited, "\n"), strings.Join(want, "\n"))
	}
	// A fresh log: no checkpoint until 100 records or the worker stops.
	if rep, err := logging.VerifyAuditFiles([]byte(cfg.Log.AuditKey), files...); err != nil || len(rep.Problems) != 0 || rep.Records != rep.Unsealed || rep.Records < 3 {
		t.Errorf("audit log: %s, %+v, %v; want it clean", rep, rep.Problems, err)
	}

	store := graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database)
	var g graph.Graph
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		g, err = store.Traverse(ctx, res.Predictions.VersionID(), graph.Upstream, graph.QueryOptions{})
		if err == nil && len(g.Nodes) == 11 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upstream of the predictions: %v, %d nodes: %+v", err, len(g.Nodes), g.Nodes)
		}
	}
	var kinds, jobs []string
	for _, n := range g.Nodes {
		if n.Type == graph.NodeDataset {
			kinds = append(kinds, string(n.Kind))
		} else {
			jobs = append(jobs, n.Job)
			if n.State != lineage.StateComplete {
				t.Errorf("run %s of %s is %s", n.ID, n.Job, n.State)
			}
		}
	}
	slices.Sort(kinds)
	slices.Sort(jobs)
	if want := []string{"DataSource", "FeatureSet", "Model", "Predictions", "RawData", "ValidatedData"}; !slices.Equal(kinds, want) {
		t.Errorf("dataset kinds upstream of the predictions %v, want %v", kinds, want)
	}
	if want := []string{"pipewatch.ml.Features", "pipewatch.ml.Ingest", "pipewatch.ml.Predict", "pipewatch.ml.Train", "pipewatch.ml.Validate"}; !slices.Equal(jobs, want) {
		t.Errorf("runs upstream of the predictions %v, want %v", jobs, want)
	}
	// The chain, by depth: the source is four runs up.
	for _, n := range g.Nodes {
		if n.Kind == lineage.DataSource && n.Depth != 4 {
			t.Errorf("the data source is %d runs up, want 4", n.Depth)
		}
	}

	// Drift: the drifted batch raises exactly one data_drift alert, a clean
	// batch none (the alert's count would grow).
	clean := filepath.Join(t.TempDir(), "clean.csv")
	f, err := os.Create(clean)
	if err != nil {
		t.Fatal(err)
	}
	if err := cohort.Generate(f, cohort.Options{Rows: 200, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	for _, batch := range []string{"../testdata/cohort-drifted-sample.csv", clean} {
		abs, _ := filepath.Abs(batch)
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue}, workflows.DriftMonitorName,
			activities.DriftInput{Batch: abs})
		if err != nil {
			t.Fatal(err)
		}
		var rep activities.DriftReport
		if err := run.Get(ctx, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.DataDrift != (batch != clean) {
			t.Errorf("%s: data drift %v", batch, rep.DataDrift)
		}
	}
	drift := alerts.Alert{Type: alerts.DataDrift, Labels: map[string]string{"model": res.Model.Key, "reference": "cohort/validated"}}
	// The alerts run on this test's task queue, gone after it: end them.
	terminate := func(a alerts.Alert) {
		t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), a.WorkflowID(), "", "test over") })
	}
	terminate(drift)
	v, err := tc.QueryWorkflow(ctx, drift.WorkflowID(), "", alerts.QueryState)
	if err != nil {
		t.Fatalf("the data_drift alert %s: %v", drift.WorkflowID(), err)
	}
	var st alerts.State
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	if st.Count != 1 || st.Type != alerts.DataDrift || st.Status != alerts.StatusOpen {
		t.Errorf("data_drift alert: count %d, type %s, status %s; want one open", st.Count, st.Type, st.Status)
	}

	// Bad input: ingest fails naming the column, nothing downstream runs,
	// and a data_quality alert is raised for the file.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("patient_id,age\nP1,70\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badRun, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue}, workflows.MLPipelineName,
		workflows.MLPipelineInput{Source: bad, ModelName: testenv.Name(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := badRun.Get(ctx, nil); err == nil || !strings.Contains(err.Error(), `column "sex": missing from the header`) {
		t.Errorf("bad input: %v", err)
	}
	dq := alerts.Alert{Type: alerts.DataQuality, Labels: map[string]string{"dataset": "cohort/raw", "check": "schema", "source": bad}}
	terminate(dq)
	v, err = tc.QueryWorkflow(ctx, dq.WorkflowID(), "", alerts.QueryState)
	if err != nil {
		t.Fatalf("the data_quality alert: %v", err)
	}
	if err := v.Get(&st); err != nil || st.Count != 1 || st.Severity != alerts.Critical {
		t.Errorf("data_quality alert: %+v, %v", st, err)
	}
}
