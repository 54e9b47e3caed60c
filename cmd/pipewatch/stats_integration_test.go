//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

// cli runs the pipewatch command with args against the tests' Neo4j and
// returns what it printed.
func cli(t *testing.T, cfg worker.Config, args ...string) string {
	t.Helper()
	t.Setenv("PIPEWATCH_NEO4J_URI", cfg.Neo4j.URI)
	t.Setenv("PIPEWATCH_NEO4J_PASSWORD", cfg.Neo4j.Password)
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("pipewatch %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// deleteNodes removes exactly the nodes a test wrote, failing it unless
// there were want of them.
func deleteNodes(t *testing.T, d neo4j.DriverWithContext, cfg worker.Config, cypher string, params map[string]any, want int64) {
	t.Helper()
	res, err := neo4j.ExecuteQuery(context.Background(), d, cypher, params, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database))
	if err != nil {
		t.Errorf("clean up (%s): %v", cypher, err)
		return
	}
	if n := int64(res.Summary.Counters().NodesDeleted()); n != want {
		t.Errorf("clean up (%s): %d nodes deleted, want %d", cypher, n, want)
	}
}

// TestStatsIntegration writes a known set of runs into the tests' Neo4j
// and checks `pipewatch stats` computes exactly their statistics.
func TestStatsIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	d := testenv.Neo4j(t, cfg)
	store := graph.NewStore(d, cfg.Neo4j.Database)
	name := testenv.Name(t)
	pipeline, ingest, train := "stats-it."+name, "stats-it.ingest."+name, "stats-it.train."+name
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	s := time.Second
	var runs []lineage.Run
	var ids []string
	add := func(id, job, parent, state string, started time.Time, took time.Duration) {
		r := lineage.Run{RunID: id, JobKey: job, State: state, Attempt: 1, StartedAt: started, WorkflowID: "wf-" + id, ParentRunID: parent}
		if state != lineage.StateStart {
			r.EndedAt = started.Add(took)
		}
		runs = append(runs, r)
		ids = append(ids, id)
	}
	// Five pipeline runs (four complete in 10-40s, one failed), each with
	// an ingest step (1, 2, 3, 4, 10s) and a train step (100s, 200s,
	// failed, aborted, failed).
	wf := []struct {
		state string
		took  time.Duration
	}{{lineage.StateComplete, 10 * s}, {lineage.StateComplete, 20 * s}, {lineage.StateComplete, 30 * s}, {lineage.StateComplete, 40 * s}, {lineage.StateFail, 50 * s}}
	ingests := []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 10 * s}
	trains := []struct {
		state string
		took  time.Duration
	}{{lineage.StateComplete, 100 * s}, {lineage.StateComplete, 200 * s}, {lineage.StateFail, 60 * s}, {lineage.StateAbort, 5 * s}, {lineage.StateFail, 7 * s}}
	for i := range wf {
		w := name + "-w" + string(rune('1'+i))
		at := base.Add(time.Duration(i) * time.Minute)
		add(w, pipeline, "", wf[i].state, at, wf[i].took)
		add(lineage.ActivityRunID(w, "1"), ingest, w, lineage.StateComplete, at, ingests[i])
		add(lineage.ActivityRunID(w, "2"), train, w, trains[i].state, at.Add(ingests[i]), trains[i].took)
	}
	// Not counted: a run still going, and one from before --since.
	add(name+"-running", pipeline, "", lineage.StateStart, base, 0)
	add(name+"-old", pipeline, "", lineage.StateComplete, base.Add(-72*time.Hour), time.Second)
	add(lineage.ActivityRunID(name+"-old", "1"), ingest, name+"-old", lineage.StateComplete, base.Add(-72*time.Hour), 500*time.Second)
	t.Cleanup(func() {
		deleteNodes(t, d, cfg, `MATCH (r:Run) WHERE r.runId IN $ids DETACH DELETE r`, map[string]any{"ids": ids}, int64(len(ids)))
		deleteNodes(t, d, cfg, `MATCH (j:Job) WHERE j.key IN $keys DETACH DELETE j`, map[string]any{"keys": []string{pipeline, ingest, train}}, 3)
	})
	if err := store.WriteRuns(context.Background(), runs); err != nil {
		t.Fatal(err)
	}

	out := cli(t, cfg, "stats", "--pipeline", pipeline, "--since", "1d")
	want := [][]string{
		{"PIPELINE", "STEP", "RUNS", "FAILED", "ABORTED", "FAILURE", "RATE", "MEAN", "MIN", "MAX", "MEDIAN", "P95"},
		{pipeline, "(workflow)", "5", "1", "0", "20.0%", "25s", "10s", "40s", "25s", "38.5s"},
		{pipeline, ingest, "5", "0", "0", "0.0%", "4s", "1s", "10s", "3s", "8.8s"},
		{pipeline, train, "5", "2", "1", "40.0%", "2m30s", "1m40s", "3m20s", "2m30s", "3m15s"},
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("stats printed %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		if got := strings.Fields(l); strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d: %q\nwant %q", i, got, want[i])
		}
	}

	// One step, as JSON; seconds exact.
	var rows []statsRow
	if err := json.Unmarshal([]byte(cli(t, cfg, "stats", "--pipeline", pipeline, "--step", train, "--since", "1d", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	wantRow := statsRow{Pipeline: pipeline, Step: train, Runs: 5, Failures: 2, Aborted: 1, FailureRate: 0.4, Completed: 2,
		MeanSeconds: f(150), MinSeconds: f(100), MaxSeconds: f(200), MedianSeconds: f(150), P95Seconds: f(195)}
	if len(rows) != 1 || !sameStats(rows[0], wantRow) {
		t.Errorf("stats --json = %+v, want %+v", rows, wantRow)
	}

	// Without --since the old run counts: 6 pipeline runs.
	all, err := store.Stats(context.Background(), graph.StatsFilter{Pipeline: pipeline})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Runs != 6 || all[0].Min != time.Second || all[1].Max != 500*time.Second {
		t.Errorf("stats over all time: %+v", all)
	}
}

func sameStats(a, b statsRow) bool {
	eq := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Pipeline == b.Pipeline && a.Step == b.Step && a.Runs == b.Runs && a.Failures == b.Failures && a.Aborted == b.Aborted &&
		a.FailureRate == b.FailureRate && a.Completed == b.Completed && eq(a.MeanSeconds, b.MeanSeconds) && eq(a.MinSeconds, b.MinSeconds) &&
		eq(a.MaxSeconds, b.MaxSeconds) && eq(a.MedianSeconds, b.MedianSeconds) && eq(a.P95Seconds, b.P95Seconds)
}
