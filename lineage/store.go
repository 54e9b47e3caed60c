package lineage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// ErrNotFound is returned by reads when nothing matches.
var ErrNotFound = errors.New("lineage: not found")

// Store reads and writes the lineage graph in one Neo4j database.
type Store struct {
	driver   neo4j.DriverWithContext
	database string
}

// NewStore returns a Store on an open driver. The driver stays the caller's
// to close.
func NewStore(driver neo4j.DriverWithContext, database string) *Store {
	return &Store{driver: driver, database: database}
}

// schema holds the constraints every write relies on for idempotence.
func schema() []string {
	return []string{
		"CREATE CONSTRAINT pipewatch_job_key IF NOT EXISTS FOR (j:Job) REQUIRE j.key IS UNIQUE",
		"CREATE CONSTRAINT pipewatch_run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.runId IS UNIQUE",
	}
}

// EnsureSchema creates the constraints and indexes lineage needs. It is safe
// to call at every start.
func (s *Store) EnsureSchema(ctx context.Context) error {
	for _, stmt := range schema() {
		if _, err := neo4j.ExecuteQuery(ctx, s.driver, stmt, nil, neo4j.EagerResultTransformer,
			neo4j.ExecuteQueryWithDatabase(s.database)); err != nil {
			return fmt.Errorf("lineage: ensure schema (%s): %w", stmt, err)
		}
	}
	return nil
}

// recordRun merges the job and the run; a finished run is never moved back
// to START by a late or repeated event.
const recordRun = `
MERGE (j:Job {key: $jobKey})
MERGE (r:Run {runId: $runId})
  ON CREATE SET r.state = $state, r.startedAt = $startedAt, r.workflowId = $workflowId
SET r.state = CASE WHEN r.state <> 'START' AND $state = 'START' THEN r.state ELSE $state END,
    r.endedAt = coalesce($endedAt, r.endedAt)
MERGE (r)-[:INSTANCE_OF]->(j)`

// RecordRun writes a run and its job, idempotently.
func (s *Store) RecordRun(ctx context.Context, run Run) error {
	params := map[string]any{
		"jobKey":     run.JobKey,
		"runId":      run.RunID,
		"state":      run.State,
		"startedAt":  run.StartedAt.UTC(),
		"workflowId": run.WorkflowID,
		"endedAt":    nil,
	}
	if !run.EndedAt.IsZero() {
		params["endedAt"] = run.EndedAt.UTC()
	}
	if _, err := neo4j.ExecuteQuery(ctx, s.driver, recordRun, params, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.database), neo4j.ExecuteQueryWithWritersRouting()); err != nil {
		return fmt.Errorf("lineage: record run %q: %w", run.RunID, err)
	}
	return nil
}

// GetRun reads a run back by id.
func (s *Store) GetRun(ctx context.Context, runID string) (Run, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, `
MATCH (r:Run {runId: $runId})-[:INSTANCE_OF]->(j:Job)
RETURN r.runId AS runId, j.key AS jobKey, r.state AS state, r.startedAt AS startedAt,
       r.endedAt AS endedAt, r.workflowId AS workflowId`,
		map[string]any{"runId": runID}, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return Run{}, fmt.Errorf("lineage: get run %q: %w", runID, err)
	}
	if len(res.Records) == 0 {
		return Run{}, fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	rec := res.Records[0].AsMap()
	run := Run{
		RunID:      asString(rec["runId"]),
		JobKey:     asString(rec["jobKey"]),
		State:      asString(rec["state"]),
		WorkflowID: asString(rec["workflowId"]),
	}
	run.StartedAt, _ = rec["startedAt"].(time.Time)
	run.EndedAt, _ = rec["endedAt"].(time.Time)
	return run, nil
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
