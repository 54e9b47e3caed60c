//go:build integration

package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
)

// TestTraverseMatchesLayeredWalkIntegration holds the one-query walk to
// the layer-by-layer search it replaced, on a random graph with diamonds,
// fan-in, cycles, runs that only read or only write and versions produced
// at different times: every version and run as subject, both directions,
// depths 1, 2, 3 and 20, now and as of a past moment.
func TestTraverseMatchesLayeredWalkIntegration(t *testing.T) {
	store, ctx := testStore(t), context.Background()
	prefix := testenv.Name(t)
	cleanUp(t, store, prefix)

	rng := rand.New(rand.NewPCG(7, 13))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	version := func(i int) lineage.Dataset {
		kinds := []lineage.Kind{lineage.RawData, lineage.ValidatedData, lineage.FeatureSet, lineage.Model}
		return lineage.Dataset{Kind: kinds[i%4], Key: fmt.Sprintf("%s/ds%d", prefix, i%5), Version: fmt.Sprint(i)}
	}
	var runs []lineage.Run
	var subjects []string
	for i := range 40 {
		r := lineage.Run{
			RunID: fmt.Sprintf("%s/run%d", prefix, i), JobKey: prefix + "/job", State: lineage.StateComplete, Attempt: 1,
			StartedAt: base.Add(time.Duration(i) * time.Minute), EndedAt: base.Add(time.Duration(i)*time.Minute + 30*time.Second),
			WorkflowID: prefix,
		}
		// 20 versions: reads up to 3 and writes up to 2, so some runs
		// only read, some only write, and cycles occur.
		for range rng.IntN(4) {
			r.Inputs = append(r.Inputs, version(rng.IntN(20)))
		}
		for range rng.IntN(3) {
			r.Outputs = append(r.Outputs, version(rng.IntN(20)))
		}
		runs = append(runs, r)
		subjects = append(subjects, r.RunID)
	}
	if err := store.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		subjects = append(subjects, version(i).VersionID())
	}
	subjects = append(subjects, prefix+"/ds3")

	compared, nonTrivial := 0, 0
	for _, id := range subjects {
		for _, dir := range []graph.Direction{graph.Upstream, graph.Downstream} {
			for _, depth := range []int{1, 2, 3, 20} {
				for _, asOf := range []time.Time{{}, base.Add(20 * time.Minute)} {
					opts := graph.QueryOptions{Depth: depth, AsOf: asOf}
					want, errWant := graph.TraverseLayered(ctx, store, id, dir, opts)
					got, errGot := store.Traverse(ctx, id, dir, opts)
					if fmt.Sprint(errGot) != fmt.Sprint(errWant) {
						t.Fatalf("%s dir %d depth %d as of %v: error %v, want %v", id, dir, depth, asOf, errGot, errWant)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s dir %d depth %d as of %v:\n got %+v\nwant %+v", id, dir, depth, asOf, got, want)
					}
					compared++
					if len(want.Nodes) > 3 {
						nonTrivial++
					}
				}
			}
		}
	}
	// The graph is fixed by the seed: these counts say it is not trivial.
	t.Logf("%d traversals compared, %d reaching more than 3 nodes", compared, nonTrivial)
	if compared != 61*2*4*2 || nonTrivial < 200 {
		t.Fatalf("compared %d traversals (want %d), %d reaching more than 3 nodes (want at least 200)", compared, 61*2*4*2, nonTrivial)
	}
}

// testStore opens a Store, its schema ensured, on the tests' Neo4j.
func testStore(t *testing.T) *graph.Store {
	t.Helper()
	cfg := testenv.Config(t)
	store := graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database)
	if err := store.EnsureSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

// cleanUp deletes, when the test ends, every node whose run id, version id
// or key starts with prefix.
func cleanUp(t *testing.T, store *graph.Store, prefix string) {
	t.Helper()
	t.Cleanup(func() {
		if err := graph.Exec(context.Background(), store, `
MATCH (n) WHERE n.runId STARTS WITH $p OR n.id STARTS WITH $p OR n.key STARTS WITH $p DETACH DELETE n`,
			map[string]any{"p": prefix}); err != nil {
			t.Errorf("clean up: %v", err)
		}
	})
}
