//go:build integration

package graph_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

// TestNeo4jOutageIntegration stops Neo4j while pipelines run and starts it
// again 60 s later: the pipelines go on at their pace, the spool holds
// their lineage, and once Neo4j is back every event lands exactly once.
func TestNeo4jOutageIntegration(t *testing.T) {
	neo := testenv.StartPrivateNeo4j(t, nil)
	cfg := testenv.Config(t)
	cfg.Neo4j.URI = neo.URI
	driver, err := worker.OpenNeo4j(cfg.Neo4j)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = driver.Close(context.Background()) })
	store := graph.NewStore(driver, cfg.Neo4j.Database)
	var failedWrites atomic.Int64
	prefix := testenv.Name(t)
	d := newSixSteps(prefix)
	lw := startLineageWorkerOn(t, d, store, func(_ int, _ time.Duration, err error) {
		if err != nil {
			failedWrites.Add(1)
		}
	})

	// Every run reads and writes the same dataset versions: they must stay
	// one node each, with one edge per run.
	runs := 0
	pipeline := func() time.Duration {
		runs++
		start := time.Now()
		if _, err := lw.start(t, fmt.Sprintf("%s-%d", prefix, runs), d); err != nil {
			t.Fatalf("pipeline %d: %v", runs, err)
		}
		return time.Since(start)
	}
	var before, during []time.Duration
	for range 3 {
		before = append(before, pipeline())
	}
	lw.drained(t, time.Minute)

	neo.Script("stop")
	down := time.Now()
	for time.Since(down) < 60*time.Second {
		during = append(during, pipeline())
	}
	pendingAtRestart := lw.spool.Pending()
	neo.Script("start")
	lw.drained(t, 2*time.Minute)
	t.Logf("pipeline seconds before the outage %v, during it %v; %d writes failed; %d bytes waited in the spool",
		seconds(before), seconds(during), failedWrites.Load(), pendingAtRestart)

	if failedWrites.Load() == 0 || pendingAtRestart == 0 {
		t.Errorf("the outage was not felt: %d failed writes, %d bytes pending", failedWrites.Load(), pendingAtRestart)
	}
	// Exactly once: the 6 datasets and versions once; per pipeline run one
	// workflow run and 6 step runs, all COMPLETE, 8 CONSUMED, 5 PRODUCED
	// and 6 DERIVED_FROM edges.
	p := map[string]any{"prefix": prefix + "/", "ids": workflowIDs(prefix, runs)}
	n := int64(runs)
	for _, c := range []struct {
		what, cypher string
		want         int64
	}{
		{"workflow runs", `MATCH (w:Run) WHERE w.workflowId IN $ids AND NOT (w)-[:CHILD_OF]->() AND w.state = 'COMPLETE' RETURN count(w)`, n},
		{"step runs", `MATCH (r:Run)-[:CHILD_OF]->(w:Run) WHERE w.workflowId IN $ids AND r.state = 'COMPLETE' RETURN count(r)`, 6 * n},
		{"all runs", `MATCH (r:Run) WHERE r.workflowId IN $ids RETURN count(r)`, 7 * n},
		{"datasets", `MATCH (d:Dataset) WHERE d.key STARTS WITH $prefix RETURN count(d)`, 6},
		{"dataset versions", `MATCH (v:DatasetVersion) WHERE v.key STARTS WITH $prefix RETURN count(v)`, 6},
		{"CONSUMED", `MATCH (:Run)-[e:CONSUMED]->(v) WHERE v.key STARTS WITH $prefix RETURN count(e)`, 8 * n},
		{"PRODUCED", `MATCH (:Run)-[e:PRODUCED]->(v) WHERE v.key STARTS WITH $prefix RETURN count(e)`, 5 * n},
		{"DERIVED_FROM", `MATCH (v)-[e:DERIVED_FROM]->() WHERE v.key STARTS WITH $prefix RETURN count(e)`, 6 * n},
	} {
		if got := count(t, lw, c.cypher, p); got != c.want {
			t.Errorf("%s: %d, want %d for %d pipeline runs", c.what, got, c.want, runs)
		}
	}
	// The steps never waited on Neo4j: a generous bound that a step
	// blocked on a down database (seconds of connection timeouts) breaks.
	if med, base := median(during), median(before); med > 2*base+time.Second {
		t.Errorf("pipelines slowed during the outage: median %s, before %s", med, base)
	}
}

func workflowIDs(prefix string, runs int) []string {
	var ids []string
	for i := 1; i <= runs; i++ {
		ids = append(ids, fmt.Sprintf("%s-%d", prefix, i))
	}
	return ids
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func seconds(ds []time.Duration) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%.2f", d.Seconds()))
	}
	return out
}
