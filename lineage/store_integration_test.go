//go:build integration

package lineage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
)

func TestStoreRoundTripIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	driver := testenv.Neo4j(t, cfg)
	store := lineage.NewStore(driver, cfg.Neo4j.Database)
	ctx := context.Background()
	if err := store.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureSchema(ctx); err != nil {
		t.Fatalf("second EnsureSchema: %v", err)
	}

	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	// Ids that would break any Cypher built by string concatenation.
	runID := testenv.Name(t) + `-'quote" {brace} MATCH (n) DETACH DELETE n //`
	jobKey := `job'} RETURN 1 //` + testenv.Name(t)

	steps := []struct {
		name string
		run  lineage.Run
		want lineage.Run
	}{
		{
			name: "start creates the run",
			run:  lineage.Run{RunID: runID, JobKey: jobKey, State: lineage.StateStart, StartedAt: start, WorkflowID: "wf-1"},
			want: lineage.Run{RunID: runID, JobKey: jobKey, State: lineage.StateStart, StartedAt: start, WorkflowID: "wf-1"},
		},
		{
			name: "complete finishes it",
			run:  lineage.Run{RunID: runID, JobKey: jobKey, State: lineage.StateComplete, StartedAt: start, EndedAt: end, WorkflowID: "wf-1"},
			want: lineage.Run{RunID: runID, JobKey: jobKey, State: lineage.StateComplete, StartedAt: start, EndedAt: end, WorkflowID: "wf-1"},
		},
		{
			name: "a late start never moves it back",
			run:  lineage.Run{RunID: runID, JobKey: jobKey, State: lineage.StateStart, StartedAt: start, WorkflowID: "wf-1"},
			want: lineage.Run{RunID: runID, JobKey: jobKey, State: lineage.StateComplete, StartedAt: start, EndedAt: end, WorkflowID: "wf-1"},
		},
	}
	for _, st := range steps {
		if err := store.RecordRun(ctx, st.run); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := store.GetRun(ctx, runID)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !got.StartedAt.Equal(st.want.StartedAt) || !got.EndedAt.Equal(st.want.EndedAt) {
			t.Errorf("%s: times %v..%v, want %v..%v", st.name, got.StartedAt, got.EndedAt, st.want.StartedAt, st.want.EndedAt)
		}
		got.StartedAt, got.EndedAt = st.want.StartedAt, st.want.EndedAt
		if got != st.want {
			t.Errorf("%s:\n got %+v\nwant %+v", st.name, got, st.want)
		}
	}

	// Three writes, one run node, one job node, one INSTANCE_OF edge.
	res, err := neo4j.ExecuteQuery(ctx, driver, `
MATCH (r:Run {runId: $runId})
OPTIONAL MATCH (r)-[e:INSTANCE_OF]->(j:Job)
RETURN count(DISTINCT r) AS runs, count(e) AS edges, count(DISTINCT j) AS jobs`,
		map[string]any{"runId": runID}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database))
	if err != nil {
		t.Fatal(err)
	}
	rec := res.Records[0].AsMap()
	if rec["runs"] != int64(1) || rec["edges"] != int64(1) || rec["jobs"] != int64(1) {
		t.Errorf("counts = %v, want runs 1, edges 1, jobs 1", rec)
	}

	if _, err := store.GetRun(ctx, runID+"-missing"); !errors.Is(err, lineage.ErrNotFound) {
		t.Errorf("GetRun(missing) error = %v, want ErrNotFound", err)
	}
}
