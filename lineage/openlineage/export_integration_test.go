//go:build integration

package openlineage

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
)

// TestExportFromNeo4jValidates writes a step run with datasets and facets
// to the real Neo4j, reads it back as the export does, and validates every
// event against the vendored OpenLineage schema and facet schemas.
func TestExportFromNeo4jValidates(t *testing.T) {
	cfg := testenv.Config(t)
	store := graph.NewStore(testenv.Neo4j(t, cfg), cfg.Neo4j.Database)
	ctx := context.Background()
	name := testenv.Name(t)
	wfRun, at := "0196f1c2-7a1b-7c3d-9e8f-"+time.Now().Format("150405000000"), time.Now().UTC().Truncate(time.Millisecond)
	rows := int64(988)
	runs := []lineage.Run{
		{RunID: wfRun, JobKey: "ml.pipeline", State: lineage.StateComplete, Attempt: 1, StartedAt: at, EndedAt: at.Add(time.Minute), WorkflowID: name},
		{RunID: lineage.ActivityRunID(wfRun, "5"), JobKey: "validate", State: lineage.StateFail, Attempt: 2, StartedAt: at, EndedAt: at.Add(time.Second),
			WorkflowID: name, ParentRunID: wfRun, Error: "12 rows with a negative amount",
			Inputs: []lineage.Dataset{{Kind: lineage.RawData, Key: "s3://lake/" + name + "/raw", Version: "sha256:aa",
				Facets: &lineage.Facets{Rows: &rows, Schema: []lineage.Field{{Name: "amount", Type: "float64"}},
					Quality: map[string]float64{"amount.nullCount": 3, "null_fraction": 0.01}}}}},
		{RunID: lineage.ActivityRunID(wfRun, "6"), JobKey: "train", State: lineage.StateComplete, Attempt: 1, StartedAt: at.Add(2 * time.Second), EndedAt: at.Add(3 * time.Second),
			WorkflowID: name, ParentRunID: wfRun,
			Inputs:  []lineage.Dataset{{Kind: lineage.FeatureSet, Key: name + "/features", Version: "v1"}},
			Outputs: []lineage.Dataset{{Kind: lineage.Model, Key: name + "/model", Version: "v1", Facets: &lineage.Facets{Metrics: map[string]float64{"auc": 0.91}}}}},
	}
	if err := store.WriteRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	stored, err := store.Runs(ctx, at.Add(-time.Millisecond), at.Add(time.Minute), 100000)
	if err != nil {
		t.Fatal(err)
	}
	s := newSchemas(t)
	var kinds []string
	for _, r := range stored {
		if r.WorkflowID != name {
			continue
		}
		events, err := FromStoredRun(r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.validate(b); err != nil {
				t.Errorf("%s %s: %v\n%s", r.JobKey, e.EventType, err, b)
			}
			kinds = append(kinds, r.JobKey+":"+e.EventType)
		}
	}
	if got, want := len(kinds), 6; got != want {
		t.Errorf("events %v, want START and the end of each of 3 runs", kinds)
	}
}
