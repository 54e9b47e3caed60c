// Package testenv gives integration tests the local stack's settings: the
// same configuration the worker loads, from the same PIPEWATCH_* variables.
// Integration tests live behind the `integration` build tag and run with
// `make test`, which starts the stack first.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/worker"
	"github.com/pipewatch/pipewatch/workflows"
)

// DevPassword is the stack scripts' default Neo4j password (scripts/env.sh).
const DevPassword = "pipewatch-dev"

// TestNeo4jURI is the tests' own Neo4j, which `make test` starts beside
// the user's: tests never write into the user's lineage graph.
const TestNeo4jURI = "bolt://127.0.0.1:7688"

// Config returns the stack's configuration. It fails the test, never skips
// it: integration tests that cannot reach the stack must say so.
func Config(t testing.TB) worker.Config {
	t.Helper()
	lookup := func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		switch k {
		case "PIPEWATCH_NEO4J_PASSWORD":
			return DevPassword, true
		case "PIPEWATCH_NEO4J_URI":
			return TestNeo4jURI, true // never the user's graph
		}
		return "", false
	}
	cfg, err := worker.Load(worker.Sources{LookupEnv: lookup})
	if err != nil {
		t.Fatalf("stack configuration: %v", err)
	}
	cfg.Log.Dir = t.TempDir()
	cfg.Lineage.SpoolDir = t.TempDir()
	useTestNamespace(t, &cfg)
	return cfg
}

// Temporal dials the stack's Temporal frontend and closes the client when the
// test ends.
func Temporal(t testing.TB, cfg worker.Config) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := worker.DialTemporal(ctx, cfg.Temporal, nil, nil)
	if err != nil {
		t.Fatalf("temporal (start the stack with `make up`): %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Neo4j opens a driver on the stack's Neo4j, checks it answers, and closes it
// when the test ends.
func Neo4j(t testing.TB, cfg worker.Config) neo4j.DriverWithContext {
	t.Helper()
	d, err := worker.OpenNeo4j(cfg.Neo4j)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := worker.CheckNeo4j(ctx, d, cfg.Neo4j.Database); err != nil {
		t.Fatalf("neo4j at %s (the tests' own, which `make test` starts): %v", cfg.Neo4j.URI, err)
	}
	return d
}

// Together runs fns at the same moment, each in its own goroutine, and
// fails the test on the first error once they all returned: concurrent
// writers racing on the same nodes.
func Together(t testing.TB, fns ...func() error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(fns))
	for _, fn := range fns {
		wg.Go(func() {
			<-start
			errs <- fn()
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Tally runs cypher, which returns a string column line and a count n, on
// the test's database and gives its rows as "line xN", in its order.
func Tally(t testing.TB, d neo4j.DriverWithContext, cfg worker.Config, cypher string, params map[string]any) []string {
	t.Helper()
	res, err := neo4j.ExecuteQuery(context.Background(), d, cypher, params, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database))
	if err != nil {
		t.Fatalf("tally %q: %v", cypher, err)
	}
	var out []string
	for _, r := range res.Records {
		line, _ := r.Get("line")
		n, _ := r.Get("n")
		out = append(out, fmt.Sprintf("%v x%v", line, n))
	}
	return out
}

// Name returns an identifier unique to this test run, for task queues,
// workflow ids and graph keys that must not collide across runs.
func Name(t testing.TB) string {
	t.Helper()
	r := strings.NewReplacer("/", "-", " ", "-")
	return r.Replace(t.Name()) + "-" + time.Now().UTC().Format("150405.000000000")
}

// StartWorker runs the pipewatch worker in-process with cfg (logs to
// cfg.Log.Dir only), waits until it serves, and stops it when the test ends.
// Its sentinel, unless the test chose one, is the test's own: its own
// workflow id, watching the worker's task queue only, terminated when the
// test ends. It returns the HTTP address it listens on.
func StartWorker(t testing.TB, cfg worker.Config) string {
	t.Helper()
	if cfg.Sentinel.Enabled && cfg.Sentinel.WorkflowID == worker.DefaultConfig().Sentinel.WorkflowID {
		ScopeSentinel(t, &cfg)
	}
	logs, err := worker.OpenLogs(cfg.Log, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, cfg, logs, worker.Options{Version: "test", Ready: func(addr string) { ready <- addr }})
	}()
	t.Cleanup(func() { cancel(); <-done; _ = logs.Close() })
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("worker: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready in 30s")
	}
	return ""
}

// TestNamespace is the Temporal namespace integration tests run in, so
// that what they start never shows in the user's namespace.
const TestNamespace = "pipewatch-test"

// TemporalNamespace switches cfg to TestNamespace (Config does already)
// and returns a client of it, closed when the test ends.
func TemporalNamespace(t testing.TB, cfg *worker.Config) client.Client {
	t.Helper()
	useTestNamespace(t, cfg)
	return Temporal(t, *cfg)
}

// useTestNamespace switches cfg to TestNamespace, registering it (one day
// of retention) with pipewatch's search attributes when missing, and
// waits until the frontend serves it.
func useTestNamespace(t testing.TB, cfg *worker.Config) {
	t.Helper()
	if cfg.Temporal.Namespace == TestNamespace {
		return
	}
	admin := Temporal(t, *cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := admin.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: TestNamespace, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
		Description: "pipewatch integration tests",
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("register namespace %s: %v", TestNamespace, err)
	}
	have, err := admin.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: TestNamespace})
	if err != nil {
		t.Fatalf("search attributes of %s: %v", TestNamespace, err)
	}
	add := map[string]enumspb.IndexedValueType{}
	for _, name := range append(interceptors.SearchAttributeNames(), alerts.SearchAttributeNames()...) {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			add[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		}
	}
	if len(add) > 0 {
		if _, err := admin.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: TestNamespace, SearchAttributes: add,
		}); err != nil {
			var exists *serviceerror.AlreadyExists
			if !errors.As(err, &exists) {
				t.Fatalf("add search attributes to %s: %v", TestNamespace, err)
			}
		}
	}
	// A namespace just registered reaches the frontend's cache a little
	// later.
	for {
		_, err := admin.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: TestNamespace})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("namespace %s not served: %v", TestNamespace, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	cfg.Temporal.Namespace = TestNamespace
}

// ScopeSentinel gives a test's worker a sentinel of the test's own: its
// own workflow id, watching the worker's task queue only, terminated when
// the test ends, so that it never watches or alerts on the user's
// pipelines.
func ScopeSentinel(t testing.TB, cfg *worker.Config) {
	t.Helper()
	cfg.Sentinel.WorkflowID = "pipewatch-sentinel-" + Name(t)
	cfg.Sentinel.Query = "TaskQueue = '" + cfg.Temporal.TaskQueue + "'"
	tc := Temporal(t, *cfg)
	id := cfg.Sentinel.WorkflowID
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tc.TerminateWorkflow(ctx, id, "", "test over")
	})
}

// WorkerFlags are the pipewatch worker flags for tests that run the binary
// on taskQueue: cfg's namespace (TestNamespace) and ScopeSentinel's
// sentinel.
func WorkerFlags(t testing.TB, cfg worker.Config, taskQueue string) []string {
	t.Helper()
	cfg.Temporal.TaskQueue = taskQueue
	ScopeSentinel(t, &cfg)
	return []string{"--temporal-namespace", cfg.Temporal.Namespace,
		"--sentinel-workflow-id", cfg.Sentinel.WorkflowID, "--sentinel-query", cfg.Sentinel.Query}
}

// RunMLPipeline runs the reference ML pipeline on source through a worker
// on taskQueue, started by user "alice", fails the test unless it
// completes, and returns its result and run id.
func RunMLPipeline(t testing.TB, tc client.Client, taskQueue, source, model string) (workflows.MLPipelineResult, string) {
	t.Helper()
	ctx := interceptors.WithUserID(context.Background(), "alice") // the audit log's actor
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: taskQueue}, workflows.MLPipelineName,
		workflows.MLPipelineInput{Source: source, ModelName: model})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.MLPipelineResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("ML pipeline %s: %v", run.GetID(), err)
	}
	return res, run.GetRunID()
}

// WorkerEnv is the environment for tests that run the pipewatch binary:
// this process's, with cfg's Neo4j URI and password (the tests' own
// Neo4j, not the user's). Flags the test passes win over it.
func WorkerEnv(cfg worker.Config) []string {
	return append(os.Environ(), "PIPEWATCH_NEO4J_URI="+cfg.Neo4j.URI, "PIPEWATCH_NEO4J_PASSWORD="+cfg.Neo4j.Password)
}
