//go:build integration

package graph_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
)

// sixSteps is a pipeline's datasets, keyed under one prefix per test. The
// keys carry quotes, braces and Cypher so that any query built from values
// would break.
type sixSteps struct {
	Source, Raw, Validated, Features, Model, Predictions lineage.Dataset
	FailValidation                                       bool
}

func newSixSteps(prefix string) sixSteps {
	v := func(kind lineage.Kind, name string) lineage.Dataset {
		key := prefix + "/" + name
		return lineage.Dataset{Kind: kind, Key: key, Version: lineage.Digest([]byte(key))}
	}
	return sixSteps{
		Source:      v(lineage.DataSource, `orders-db'}) MATCH (n) DETACH DELETE n //`),
		Raw:         v(lineage.RawData, `raw "orders" {2026-11-26}`),
		Validated:   v(lineage.ValidatedData, "validated"),
		Features:    v(lineage.FeatureSet, "features"),
		Model:       v(lineage.Model, "churn-model"),
		Predictions: v(lineage.Predictions, "predictions"),
	}
}

type (
	trainIn  struct{ Features lineage.Dataset }
	trainOut struct {
		Model    lineage.Dataset
		Features lineage.Dataset // passed on, as steps do: not an output
	}
)

// steps are the pipeline's activities, each capturing lineage its own way.
type steps struct{ d sixSteps }

// ingest takes its source and returns its output: found in both.
func (s steps) ingest(_ context.Context, src lineage.Dataset) (lineage.Dataset, error) {
	return s.d.Raw.With(lineage.Rows(1000)), nil
}

// validate declares both with the capture API.
func (s steps) validate(ctx context.Context, fail bool) error {
	if err := lineage.Input(ctx, s.d.Raw); err != nil {
		return err
	}
	if fail {
		return temporal.NewNonRetryableApplicationError("12 rows with a negative amount", "DataQuality", nil)
	}
	return lineage.Output(ctx, s.d.Validated, lineage.Rows(988), lineage.Quality(map[string]float64{"null_fraction": 0.01}))
}

func (s steps) featurize(ctx context.Context, in lineage.Dataset) (*lineage.Dataset, error) {
	out := s.d.Features.With(lineage.Schema(lineage.Field{Name: "amount", Type: "float64"}, lineage.Field{Name: "tenure", Type: "int64"}))
	return &out, nil
}

// train fails twice, then succeeds: one run, three attempts.
func (s steps) train(ctx context.Context, in trainIn) (trainOut, error) {
	if activity.GetInfo(ctx).Attempt < 3 {
		return trainOut{}, temporal.NewApplicationError("GPU out of memory", "OOM")
	}
	model := s.d.Model.With(lineage.Metrics(map[string]float64{"auc": 0.91}), lineage.Hyperparameters(map[string]string{"lr": "0.1"}))
	return trainOut{Model: model, Features: in.Features}, nil
}

// evaluate only reads.
func (s steps) evaluate(ctx context.Context) (float64, error) {
	if err := lineage.Input(ctx, s.d.Model); err != nil {
		return 0, err
	}
	return 0.91, lineage.Input(ctx, s.d.Features)
}

func (s steps) predict(ctx context.Context, model, features lineage.Dataset) (lineage.Dataset, error) {
	return s.d.Predictions.With(lineage.Rows(500)), nil
}

func sixStepPipeline(ctx workflow.Context, d sixSteps) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 1, MaximumAttempts: 5},
	})
	var raw lineage.Dataset
	if err := workflow.ExecuteActivity(ctx, "ingest", d.Source).Get(ctx, &raw); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, "validate", d.FailValidation).Get(ctx, nil); err != nil {
		return err
	}
	var features lineage.Dataset
	if err := workflow.ExecuteActivity(ctx, "featurize", d.Validated).Get(ctx, &features); err != nil {
		return err
	}
	var trained trainOut
	if err := workflow.ExecuteActivity(ctx, "train", trainIn{Features: features}).Get(ctx, &trained); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, "evaluate").Get(ctx, nil); err != nil {
		return err
	}
	return workflow.ExecuteActivity(ctx, "predict", trained.Model, features).Get(ctx, nil)
}

// lineageWorker runs a worker with the lineage observer, its spool and
// writer, as the pipewatch worker does, on a task queue of its own.
type lineageWorker struct {
	queue string
	spool *lineage.Spool
	store *graph.Store
	tc    client.Client
}

func startLineageWorker(t *testing.T, d sixSteps) *lineageWorker {
	t.Helper()
	cfg := testenv.Config(t)
	return startLineageWorkerOn(t, d, graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database), nil)
}

// startLineageWorkerOn is startLineageWorker storing into store, with
// onWrite told of every batch write.
func startLineageWorkerOn(t *testing.T, d sixSteps, store *graph.Store, onWrite func(int, time.Duration, error)) *lineageWorker {
	t.Helper()
	cfg := testenv.Config(t)
	tc := testenv.Temporal(t, cfg)
	spool, err := lineage.OpenSpool(t.TempDir(), lineage.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	writer := &lineage.Writer{Spool: spool, Store: store, Idle: 20 * time.Millisecond, MaxBackoff: 2 * time.Second, OnWrite: onWrite}
	go func() { defer close(done); writer.Run(ctx, 10*time.Second) }()
	ic := interceptors.New(interceptors.Options{Observers: []interceptors.Observer{interceptors.NewLineageObserver(spool, zap.NewNop(), nil)}})
	queue := testenv.Name(t)
	w := sdkworker.New(tc, queue, sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{ic}})
	w.RegisterWorkflowWithOptions(sixStepPipeline, workflow.RegisterOptions{Name: "six-step-pipeline"})
	s := steps{d: d}
	for name, fn := range map[string]any{"ingest": s.ingest, "validate": s.validate, "featurize": s.featurize, "train": s.train, "evaluate": s.evaluate, "predict": s.predict} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop(); cancel(); <-done; _ = spool.Close() })
	return &lineageWorker{queue: queue, spool: spool, store: store, tc: tc}
}

// run runs the pipeline to its end and waits until its lineage is in Neo4j.
func (lw *lineageWorker) run(t *testing.T, id string, d sixSteps) (runID string, err error) {
	t.Helper()
	runID, err = lw.start(t, id, d)
	lw.drained(t, 2*time.Minute)
	return runID, err
}

// start runs the pipeline to its end.
func (lw *lineageWorker) start(t *testing.T, id string, d sixSteps) (runID string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := lw.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: lw.queue}, "six-step-pipeline", d)
	if err != nil {
		t.Fatal(err)
	}
	return r.GetRunID(), r.Get(ctx, nil)
}

// drained waits until the writer has emptied the spool. Every event of a
// run is spooled before the workflow task that ends the run completes.
func (lw *lineageWorker) drained(t *testing.T, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); lw.spool.Pending() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("lineage spool still holds %d bytes after %s", lw.spool.Pending(), limit)
		}
	}
}

func count(t *testing.T, lw *lineageWorker, cypher string, params map[string]any) int64 {
	t.Helper()
	n, err := graph.Count(context.Background(), lw.store, cypher, params)
	if err != nil {
		t.Fatalf("%s: %v", cypher, err)
	}
	return n
}

func TestSixStepPipelineLineageIntegration(t *testing.T) {
	prefix := testenv.Name(t)
	d := newSixSteps(prefix)
	lw := startLineageWorker(t, d)
	runID, err := lw.run(t, prefix, d)
	if err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	byJob, err := graph.RunsByJob(context.Background(), lw.store, runID)
	if err != nil {
		t.Fatal(err)
	}
	ingest, validate, featurize, train, evaluate, predict := byJob["ingest"], byJob["validate"], byJob["featurize"], byJob["train"], byJob["evaluate"], byJob["predict"]
	p := map[string]any{"runId": runID, "prefix": prefix}

	t.Run("exactly the expected nodes and edges", func(t *testing.T) {
		checks := []struct {
			what   string
			cypher string
			want   int64
		}{
			{"runs", `MATCH (r:Run) WHERE r.runId = $runId OR r.runId STARTS WITH $runId + '/' RETURN count(r)`, 7},
			{"jobs of those runs", `MATCH (r:Run)-[:INSTANCE_OF]->(j:Job) WHERE r.runId = $runId OR r.runId STARTS WITH $runId + '/' RETURN count(DISTINCT j)`, 7},
			{"INSTANCE_OF", `MATCH (r:Run)-[e:INSTANCE_OF]->() WHERE r.runId = $runId OR r.runId STARTS WITH $runId + '/' RETURN count(e)`, 7},
			{"CHILD_OF", `MATCH (:Run)-[e:CHILD_OF]->(:Run {runId: $runId}) RETURN count(e)`, 6},
			{"datasets", `MATCH (d:Dataset) WHERE d.key STARTS WITH $prefix RETURN count(d)`, 6},
			{"dataset versions", `MATCH (v:DatasetVersion) WHERE v.key STARTS WITH $prefix RETURN count(v)`, 6},
			{"HAS_VERSION", `MATCH (d:Dataset)-[e:HAS_VERSION]->() WHERE d.key STARTS WITH $prefix RETURN count(e)`, 6},
			{"CONSUMED", `MATCH (r:Run)-[e:CONSUMED]->() WHERE r.runId STARTS WITH $runId RETURN count(e)`, 8},
			{"PRODUCED", `MATCH (r:Run)-[e:PRODUCED]->() WHERE r.runId STARTS WITH $runId RETURN count(e)`, 5},
			{"DERIVED_FROM", `MATCH ()-[e:DERIVED_FROM]->() WHERE e.runId STARTS WITH $runId RETURN count(e)`, 6},
			{"datasets labelled with their kind", `MATCH (d:Dataset) WHERE d.key STARTS WITH $prefix AND size(labels(d)) = 2
				AND any(l IN labels(d) WHERE l IN ['DataSource','RawData','ValidatedData','FeatureSet','Model','Predictions']) RETURN count(d)`, 6},
			{"train: one run, three attempts, complete", `MATCH (r:Run {runId: $train}) WHERE r.attempts = 3 AND r.state = 'COMPLETE' RETURN count(r)`, 1},
			{"facets as properties", `MATCH (v:DatasetVersion) WHERE v.key STARTS WITH $prefix
				AND (v.rows IN [1000, 988, 500] OR v.metric_auc = 0.91 OR v.schema = ['amount:float64', 'tenure:int64']) RETURN count(v)`, 5},
		}
		p["train"] = train
		for _, c := range checks {
			if got := count(t, lw, c.cypher, p); got != c.want {
				t.Errorf("%s: %d, want %d", c.what, got, c.want)
			}
		}
	})

	t.Run("upstream from the predictions reaches the source through every run", func(t *testing.T) {
		g, err := lw.store.Traverse(context.Background(), d.Predictions.VersionID(), graph.Upstream, graph.QueryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"0 dataset " + d.Predictions.VersionID(),
			"1 dataset " + d.Features.VersionID(), "1 dataset " + d.Model.VersionID(), "1 run " + predict,
			"2 dataset " + d.Validated.VersionID(), "2 run " + featurize, "2 run " + train,
			"3 dataset " + d.Raw.VersionID(), "3 run " + validate,
			"4 dataset " + d.Source.VersionID(), "4 run " + ingest,
		}
		if got := nodeLines(g); !slices.Equal(sorted(got), sorted(want)) {
			t.Errorf("upstream nodes:\n%s\nwant\n%s", strings.Join(sorted(got), "\n"), strings.Join(sorted(want), "\n"))
		}
		if len(g.Edges) != 11 { // predict 3; train, featurize, validate, ingest 2 each; not evaluate
			t.Errorf("%d edges, want 11: %v", len(g.Edges), g.Edges)
		}
		byKey, err := lw.store.Traverse(context.Background(), d.Predictions.Key, graph.Upstream, graph.QueryOptions{Kinds: []lineage.Kind{lineage.DataSource}})
		if err != nil {
			t.Fatal(err)
		}
		var datasets []string
		for _, n := range byKey.Nodes {
			if n.Type == graph.NodeDataset {
				datasets = append(datasets, n.ID)
			}
		}
		if want := []string{d.Predictions.VersionID(), d.Source.VersionID()}; !slices.Equal(datasets, want) {
			t.Errorf("upstream of the dataset key, kind DataSource: %q, want %q", datasets, want)
		}
		past, err := lw.store.Traverse(context.Background(), d.Predictions.VersionID(), graph.Upstream, graph.QueryOptions{AsOf: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(past.Nodes) != 1 || len(past.Edges) != 0 {
			t.Errorf("as of an hour ago: %v, want the predictions alone", nodeLines(past))
		}
	})

	t.Run("downstream and impact of the raw data include the run that only read", func(t *testing.T) {
		imp, err := lw.store.Impact(context.Background(), d.Raw.VersionID(), graph.QueryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantKinds := map[lineage.Kind]int{lineage.ValidatedData: 1, lineage.FeatureSet: 1, lineage.Model: 1, lineage.Predictions: 1}
		if fmt.Sprint(imp.Datasets) != fmt.Sprint(wantKinds) || imp.Runs != 5 || imp.Failed != 0 ||
			!slices.Equal(imp.Jobs, []string{"evaluate", "featurize", "predict", "train", "validate"}) {
			t.Errorf("impact = %v datasets, %d runs (%d failed), jobs %v", imp.Datasets, imp.Runs, imp.Failed, imp.Jobs)
		}
	})

	t.Run("path from predictions to source", func(t *testing.T) {
		g, err := lw.store.Path(context.Background(), d.Predictions.VersionID(), d.Source.Key, graph.QueryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var runs []string
		for _, n := range g.Nodes {
			if n.Type == graph.NodeRun {
				runs = append(runs, n.Job)
			}
		}
		if want := []string{"predict", "featurize", "validate", "ingest"}; !slices.Equal(runs, want) {
			t.Errorf("runs on the path: %v, want %v", runs, want)
		}
	})

	t.Run("runs for export, with what each read and wrote", func(t *testing.T) {
		runs, err := lw.store.Runs(context.Background(), time.Now().Add(-10*time.Minute), time.Now().Add(time.Minute), 100000)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range runs {
			if r.WorkflowID != prefix {
				continue
			}
			line := fmt.Sprintf("%s %s #%d in=%d out=%d", r.JobKey, r.State, r.Attempt, len(r.Inputs), len(r.Outputs))
			if r.JobKey == "predict" && (r.Outputs[0].Facets == nil || r.Outputs[0].Facets.Rows == nil || *r.Outputs[0].Facets.Rows != 500) {
				line += " (predictions lack rows=500)"
			}
			got = append(got, line)
		}
		want := []string{"six-step-pipeline COMPLETE #1 in=0 out=0", "ingest COMPLETE #1 in=1 out=1", "validate COMPLETE #1 in=1 out=1",
			"featurize COMPLETE #1 in=1 out=1", "train COMPLETE #3 in=1 out=1", "evaluate COMPLETE #1 in=2 out=0", "predict COMPLETE #1 in=2 out=1"}
		if !slices.Equal(got, want) {
			t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("show a version with its facets", func(t *testing.T) {
		g, err := lw.store.Show(context.Background(), d.Model.VersionID())
		if err != nil {
			t.Fatal(err)
		}
		if got := nodeLines(g); !slices.Equal(sorted(got), sorted([]string{"0 dataset " + d.Model.VersionID(), "1 run " + train, "1 run " + evaluate, "1 run " + predict})) {
			t.Errorf("show: %v", got)
		}
		if f := g.Nodes[0].Facets; f == nil || f.Metrics["auc"] != 0.91 || f.Hyperparameters["lr"] != "0.1" {
			t.Errorf("model facets = %+v", f)
		}
	})
}

func TestFailedStepRecordsWhatItReadIntegration(t *testing.T) {
	prefix := testenv.Name(t)
	d := newSixSteps(prefix)
	d.FailValidation = true
	lw := startLineageWorker(t, d)
	runID, err := lw.run(t, prefix, d)
	if err == nil {
		t.Fatal("pipeline succeeded, want the validation to fail it")
	}
	byJob, err := graph.RunsByJob(context.Background(), lw.store, runID)
	if err != nil {
		t.Fatal(err)
	}
	validate := byJob["validate"]
	if len(byJob) != 2 {
		t.Errorf("step runs %v, want ingest and validate", byJob)
	}
	run, err := lw.store.GetRun(context.Background(), validate)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != lineage.StateFail || run.Error != "12 rows with a negative amount" || run.Attempt != 1 {
		t.Errorf("validate run = %+v, want FAIL with its error", run)
	}
	p := map[string]any{"id": validate}
	if n := count(t, lw, `MATCH (:Run {runId: $id})-[e:CONSUMED]->() RETURN count(e)`, p); n != 1 {
		t.Errorf("validate CONSUMED %d versions, want 1", n)
	}
	if n := count(t, lw, `MATCH (:Run {runId: $id})-[e:PRODUCED]->() RETURN count(e)`, p); n != 0 {
		t.Errorf("validate PRODUCED %d versions, want 0", n)
	}
	wf, err := lw.store.GetRun(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	if wf.State != lineage.StateFail {
		t.Errorf("workflow run state %s, want FAIL", wf.State)
	}
}

func nodeLines(g graph.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		out = append(out, fmt.Sprintf("%d %s %s", n.Depth, n.Type, n.ID))
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestReadmeCypherRecipesIntegration runs the README's Cypher recipes, as a
// user would paste them, against two pipeline runs: one whole, one whose
// validation failed.
func TestReadmeCypherRecipesIntegration(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```cypher\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README has no ```cypher block")
	}
	var recipes []string
	for _, stmt := range strings.Split(block, ";\n") {
		if strings.TrimSpace(stmt) != "" {
			recipes = append(recipes, stmt)
		}
	}

	prefix := testenv.Name(t)
	good, bad := newSixSteps(prefix+"/good"), newSixSteps(prefix+"/bad")
	bad.FailValidation = true
	lw := startLineageWorker(t, good)
	runID, err := lw.run(t, prefix+"-good", good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startLineageWorker(t, bad).run(t, prefix+"-bad", bad); err == nil {
		t.Fatal("the bad pipeline succeeded")
	}
	params := map[string]any{
		"predictions": good.Predictions.VersionID(), "version": good.Raw.VersionID(), "source": good.Source.Key,
		"dataset": bad.Raw.Key, "runId": runID,
	}
	want := []int{
		2,  // two paths from the predictions to the source: through the model, and straight through the features
		4,  // validated, features, model, predictions derive from the raw data
		1,  // one model trained on the source
		0,  // nothing was derived before 2026-11-26
		1,  // the failed validation read the bad pipeline's raw data
		13, // six steps: ingest, validate, featurize, train, evaluate 2 links each, predict 3
	}
	if len(recipes) != len(want) {
		t.Fatalf("README has %d Cypher recipes, the test knows %d", len(recipes), len(want))
	}
	for i, r := range recipes {
		rows, err := graph.Rows(context.Background(), lw.store, r, params)
		if err != nil {
			t.Errorf("recipe %d: %v\n%s", i+1, err, r)
			continue
		}
		if len(rows) != want[i] {
			t.Errorf("recipe %d returned %d rows, want %d:\n%s\n%v", i+1, len(rows), want[i], r, rows)
		}
	}
}
