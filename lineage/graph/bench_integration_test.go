//go:build integration

package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

// benchEvents makes n activity COMPLETE events as steps send them: one
// input, one output, a parent workflow run per 6 steps.
func benchEvents(prefix string, n int) []lineage.Run {
	at := time.Now().UTC()
	out := make([]lineage.Run, n)
	for i := range out {
		wf := fmt.Sprintf("%s-wf-%d", prefix, i/6)
		out[i] = lineage.Run{
			RunID: lineage.ActivityRunID(wf, fmt.Sprint(i%6)), JobKey: fmt.Sprintf("step-%d", i%6), State: lineage.StateComplete,
			Attempt: 1, StartedAt: at, EndedAt: at, WorkflowID: wf, ParentRunID: wf,
			Inputs:  []lineage.Dataset{{Kind: lineage.RawData, Key: fmt.Sprintf("%s/in/%d", prefix, i%1000), Version: fmt.Sprint(i)}},
			Outputs: []lineage.Dataset{{Kind: lineage.FeatureSet, Key: fmt.Sprintf("%s/out/%d", prefix, i%1000), Version: fmt.Sprint(i)}},
		}
	}
	return out
}

// TestBenchLineage measures, on a Neo4j of its own: batched writes against
// one transaction per event, interleaved, and upstream queries on a
// generated graph of about a million nodes. It prints BENCH lines; it runs
// only under `make bench` (PIPEWATCH_BENCH=1).
func TestBenchLineage(t *testing.T) {
	if os.Getenv("PIPEWATCH_BENCH") != "1" {
		t.Skip("a benchmark: run with `make bench`")
	}
	neo := testenv.StartPrivateNeo4j(t, nil)
	cfg := testenv.Config(t)
	cfg.Neo4j.URI = neo.URI
	driver, err := worker.OpenNeo4j(cfg.Neo4j)
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close(context.Background())
	store := graph.NewStore(driver, cfg.Neo4j.Database)
	ctx := context.Background()
	if err := store.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}

	// Writes: rounds alternate the batched writer (500 events a
	// transaction, as lineage.Writer sends them), the same writer without
	// its run lock, the same batches rolled
	// back instead of committed (what the statements cost; the difference
	// is the commit's) and one transaction per event; medians of events
	// per second.
	rounds := envInt("PIPEWATCH_BENCH_LINEAGE_ROUNDS", 5)
	var batched, unlocked, statements, commit, single []float64
	for r := range rounds {
		events := benchEvents(fmt.Sprintf("bench-batched-%d-%d", time.Now().UnixNano(), r), 12000)
		start := time.Now()
		for i := 0; i < len(events); i += 500 {
			if err := store.WriteRuns(ctx, events[i:min(i+500, len(events))]); err != nil {
				t.Fatal(err)
			}
		}
		committed := time.Since(start)
		batched = append(batched, float64(len(events))/committed.Seconds())

		events = benchEvents(fmt.Sprintf("bench-unlocked-%d-%d", time.Now().UnixNano(), r), 12000)
		start = time.Now()
		for i := 0; i < len(events); i += 500 {
			if err := graph.WriteRunsUnlocked(ctx, store, events[i:min(i+500, len(events))]); err != nil {
				t.Fatal(err)
			}
		}
		unlocked = append(unlocked, float64(len(events))/time.Since(start).Seconds())

		events = benchEvents(fmt.Sprintf("bench-rolled-back-%d-%d", time.Now().UnixNano(), r), 12000)
		start = time.Now()
		for i := 0; i < len(events); i += 500 {
			if err := graph.WriteRunsRolledBack(ctx, store, events[i:min(i+500, len(events))]); err != nil {
				t.Fatal(err)
			}
		}
		rolledBack := time.Since(start)
		statements = append(statements, float64(len(events))/rolledBack.Seconds())
		if committed > rolledBack {
			commit = append(commit, float64(len(events))/(committed-rolledBack).Seconds())
		}

		events = benchEvents(fmt.Sprintf("bench-single-%d-%d", time.Now().UnixNano(), r), 300)
		start = time.Now()
		for i := range events {
			if err := store.WriteRuns(ctx, events[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
		single = append(single, float64(len(events))/time.Since(start).Seconds())
	}
	b, s := medianF(batched), medianF(single)
	fmt.Printf("BENCH lineage_events_per_s %.0f events/s\n", b)
	fmt.Printf("BENCH lineage_single_tx_events_per_s %.0f events/s\n", s)
	fmt.Printf("BENCH lineage_batch_ratio %.1f x\n", b/s)
	// The run lock (no lost updates under concurrent writers) against
	// the same writer without it, interleaved.
	fmt.Printf("BENCH lineage_unlocked_events_per_s %.0f events/s\n", medianF(unlocked))
	fmt.Printf("BENCH lineage_lock_ratio %.3f x\n", b/medianF(unlocked))
	// The two ceilings of the batched writer: its statements alone (the
	// rate if commits were free) and its commits alone (if statements
	// were), each event being a run, its job, parent, two versions and
	// seven relationships.
	fmt.Printf("BENCH lineage_statements_only_events_per_s %.0f events/s\n", medianF(statements))
	if len(commit) > 0 {
		fmt.Printf("BENCH lineage_commit_only_events_per_s %.0f events/s\n", medianF(commit))
	}

	// Upstream queries on a generated graph: 110k pipeline runs, each a
	// source version -> raw -> validated -> features (from the last 3
	// validated) -> predictions (from a model trained on the last 10
	// feature sets, one model per 10 runs), with a run per derived version.
	nodes := generateGraph(t, ctx, store, envInt("PIPEWATCH_BENCH_LINEAGE_PIPELINES", 110000))
	fmt.Printf("BENCH lineage_graph_nodes %d nodes\n", nodes)
	// Each query twice, interleaved: the one-query walk and, as the
	// baseline, the layer-by-layer walk it replaced (one query per layer).
	rng := rand.New(rand.NewPCG(1, 2))
	var lat, layered []float64
	var reached int
	for range 200 {
		id := fmt.Sprintf("gen/predictions/%d@v", rng.IntN(envInt("PIPEWATCH_BENCH_LINEAGE_PIPELINES", 110000)))
		start := time.Now()
		want, err := graph.TraverseLayered(ctx, store, id, graph.Upstream, graph.QueryOptions{})
		if err != nil {
			t.Fatalf("layered upstream of %s: %v", id, err)
		}
		layered = append(layered, float64(time.Since(start).Microseconds())/1000)
		start = time.Now()
		g, err := store.Traverse(ctx, id, graph.Upstream, graph.QueryOptions{})
		if err != nil {
			t.Fatalf("upstream of %s: %v", id, err)
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		if len(g.Nodes) != len(want.Nodes) || len(g.Edges) != len(want.Edges) {
			t.Fatalf("upstream of %s: %d nodes and %d edges, the layered walk %d and %d", id, len(g.Nodes), len(g.Edges), len(want.Nodes), len(want.Edges))
		}
		reached += len(g.Nodes)
	}
	slices.Sort(lat)
	slices.Sort(layered)
	p95 := func(xs []float64) float64 { return xs[len(xs)*95/100] }
	fmt.Printf("BENCH lineage_upstream_p50_ms %.1f ms\n", lat[len(lat)/2])
	fmt.Printf("BENCH lineage_upstream_p95_ms %.1f ms\n", p95(lat))
	fmt.Printf("BENCH lineage_upstream_layered_p95_ms %.1f ms\n", p95(layered))
	fmt.Printf("BENCH lineage_upstream_p95_ratio %.3f x\n", p95(lat)/p95(layered))
	fmt.Printf("BENCH lineage_upstream_nodes_returned %d nodes\n", reached/len(lat))
}

// generateGraph writes the generated graph in batches and returns its node
// count.
func generateGraph(t *testing.T, ctx context.Context, store *graph.Store, pipelines int) int64 {
	t.Helper()
	start := time.Now()
	steps := []string{
		// Versions of every kind, one per pipeline run, and one model per 10.
		`UNWIND range($from, $to) AS i
		 CREATE (:DatasetVersion {id: 'gen/source/' + i + '@v', key: 'gen/source/' + (i % 1000), version: 'v', kind: 'DataSource', producedAt: datetime()})
		 CREATE (:DatasetVersion {id: 'gen/raw/' + i + '@v', key: 'gen/raw/' + (i % 1000), version: 'v', kind: 'RawData', producedAt: datetime()})
		 CREATE (:DatasetVersion {id: 'gen/validated/' + i + '@v', key: 'gen/validated/' + (i % 1000), version: 'v', kind: 'ValidatedData', producedAt: datetime()})
		 CREATE (:DatasetVersion {id: 'gen/features/' + i + '@v', key: 'gen/features/' + (i % 1000), version: 'v', kind: 'FeatureSet', producedAt: datetime()})
		 CREATE (:DatasetVersion {id: 'gen/predictions/' + i + '@v', key: 'gen/predictions/' + (i % 1000), version: 'v', kind: 'Predictions', producedAt: datetime()})
		 FOREACH (_ IN CASE WHEN i % 10 = 9 THEN [1] ELSE [] END |
		   CREATE (:DatasetVersion {id: 'gen/model/' + i + '@v', key: 'gen/model', version: 'v', kind: 'Model', producedAt: datetime()}))`,
		// A run per derived version, with its edges and DERIVED_FROM.
		`UNWIND range($from, $to) AS i
		 MATCH (s:DatasetVersion {id: 'gen/source/' + i + '@v'}), (r:DatasetVersion {id: 'gen/raw/' + i + '@v'}),
		       (v:DatasetVersion {id: 'gen/validated/' + i + '@v'}), (f:DatasetVersion {id: 'gen/features/' + i + '@v'}),
		       (p:DatasetVersion {id: 'gen/predictions/' + i + '@v'})
		 CREATE (ri:Run {runId: 'gen/' + i + '/ingest', state: 'COMPLETE', attempts: 1, startedAt: datetime()})
		 CREATE (rv:Run {runId: 'gen/' + i + '/validate', state: 'COMPLETE', attempts: 1, startedAt: datetime()})
		 CREATE (rf:Run {runId: 'gen/' + i + '/featurize', state: 'COMPLETE', attempts: 1, startedAt: datetime()})
		 CREATE (rp:Run {runId: 'gen/' + i + '/predict', state: 'COMPLETE', attempts: 1, startedAt: datetime()})
		 CREATE (ri)-[:CONSUMED]->(s), (ri)-[:PRODUCED]->(r), (r)-[:DERIVED_FROM {runId: ri.runId, at: datetime()}]->(s)
		 CREATE (rv)-[:CONSUMED]->(r), (rv)-[:PRODUCED]->(v), (v)-[:DERIVED_FROM {runId: rv.runId, at: datetime()}]->(r)
		 CREATE (rf)-[:PRODUCED]->(f)
		 CREATE (rp)-[:PRODUCED]->(p), (rp)-[:CONSUMED]->(f), (p)-[:DERIVED_FROM {runId: rp.runId, at: datetime()}]->(f)
		 WITH i, rf, f
		 UNWIND [j IN range(i - 2, i) WHERE j >= 0] AS j
		 MATCH (vj:DatasetVersion {id: 'gen/validated/' + j + '@v'})
		 CREATE (rf)-[:CONSUMED]->(vj), (f)-[:DERIVED_FROM {runId: rf.runId, at: datetime()}]->(vj)`,
		// Models: trained on the last 10 feature sets; predictions use
		// the latest model before them.
		`UNWIND [i IN range($from, $to) WHERE i % 10 = 9] AS i
		 MATCH (m:DatasetVersion {id: 'gen/model/' + i + '@v'})
		 CREATE (rt:Run {runId: 'gen/' + i + '/train', state: 'COMPLETE', attempts: 1, startedAt: datetime()})
		 CREATE (rt)-[:PRODUCED]->(m)
		 WITH i, m, rt
		 UNWIND range(i - 9, i) AS j
		 MATCH (fj:DatasetVersion {id: 'gen/features/' + j + '@v'})
		 CREATE (rt)-[:CONSUMED]->(fj), (m)-[:DERIVED_FROM {runId: rt.runId, at: datetime()}]->(fj)`,
		`UNWIND [i IN range($from, $to) WHERE i >= 10] AS i
		 MATCH (p:DatasetVersion {id: 'gen/predictions/' + i + '@v'}), (m:DatasetVersion {id: 'gen/model/' + ((i / 10) * 10 - 1) + '@v'})
		 MATCH (rp:Run {runId: 'gen/' + i + '/predict'})
		 CREATE (rp)-[:CONSUMED]->(m), (p)-[:DERIVED_FROM {runId: rp.runId, at: datetime()}]->(m)`,
	}
	for _, step := range steps {
		for from := 0; from < pipelines; from += 5000 {
			if err := graph.Exec(ctx, store, step, map[string]any{"from": from, "to": min(from+5000, pipelines) - 1}); err != nil {
				t.Fatalf("generate graph: %v\n%s", err, step)
			}
		}
	}
	n, err := graph.Count(ctx, store, `MATCH (n) RETURN count(n)`, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d nodes in %s", n, time.Since(start).Round(time.Second))
	return n
}

func medianF(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err == nil && v > 0 {
		return v
	}
	return def
}
