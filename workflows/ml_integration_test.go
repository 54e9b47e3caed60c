//go:build integration

package workflows_test

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/worker"
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
	cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
	logs, err := logging.New(logging.Options{Dir: cfg.Log.Dir, Console: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, cfg, logs, worker.Options{Version: "test", Ready: func(string) { close(ready) }})
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("worker: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready")
	}
	tc := testenv.Temporal(t, cfg)
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue}, workflows.MLPipelineName,
		workflows.MLPipelineInput{Source: "../testdata/cohort-sample.csv", ModelName: "cohort-dementia"})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.MLPipelineResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Evaluation.AUC != 0.96875 || !res.Registration.Promoted || res.Rows != 199 {
		t.Errorf("result %+v", res)
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
}
