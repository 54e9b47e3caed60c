package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/lineage"
)

// ErrNotFound is returned by reads when nothing matches.
var ErrNotFound = errors.New("lineage: not found")

var _ lineage.RunWriter = (*Store)(nil)

// Store reads and writes the lineage graph in one Neo4j database.
type Store struct {
	driver   neo4j.DriverWithContext
	database string
	schema   atomic.Bool // constraints ensured; WriteRuns ensures them until then
	// ensuring serialises WriteRuns' EnsureSchema: concurrent writers on a
	// new Store run it once, not once each, and their first connections
	// do not race inside the driver (neo4j-go-driver 5.28.4 sets its
	// connector's dial function on first use, unlocked).
	ensuring sync.Mutex
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
		"CREATE CONSTRAINT pipewatch_dataset_key IF NOT EXISTS FOR (d:Dataset) REQUIRE d.key IS UNIQUE",
		"CREATE CONSTRAINT pipewatch_dataset_version_id IF NOT EXISTS FOR (v:DatasetVersion) REQUIRE v.id IS UNIQUE",
		"CREATE INDEX pipewatch_derived_from_at IF NOT EXISTS FOR ()-[e:DERIVED_FROM]-() ON (e.at)",
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
	s.schema.Store(true)
	return nil
}

// ensureSchemaOnce runs EnsureSchema unless it has succeeded, one caller at
// a time; the others wait and find it done.
func (s *Store) ensureSchemaOnce(ctx context.Context) error {
	if s.schema.Load() {
		return nil
	}
	s.ensuring.Lock()
	defer s.ensuring.Unlock()
	if s.schema.Load() {
		return nil
	}
	return s.EnsureSchema(ctx)
}

// writeRuns merges runs, their jobs and their parents in one statement. A
// run's state only moves forward: each event has a rank, attempt*2 for a
// START and attempt*2+1 for an end, and applies only when its rank is at
// least the run's; COMPLETE is final. So a retried activity goes START,
// FAIL, START, COMPLETE, while a late START of attempt 1 changes nothing.
// A Final event (Temporal's own record of the end) ranks above them all
// and applies even over COMPLETE.
//
// Events of one run may be written at the same time (two workers'
// spools, the sentinel's final state). Setting pipewatchLock before the
// rank is read takes the run's write lock, so the rank compared is the
// one the other writers committed; read without the lock it may be stale
// and an older event would overwrite a newer one (Neo4j's operations
// manual, "Concurrent data access: lost updates").
const writeRuns = `
UNWIND $rows AS row
MERGE (j:Job {key: row.jobKey})
MERGE (r:Run {runId: row.runId})
SET r.pipewatchLock = true
WITH j, r, row, CASE WHEN row.final THEN $finalRank ELSE row.attempt * 2 + CASE row.state WHEN 'START' THEN 0 ELSE 1 END END AS rank
WITH j, r, row, rank, ((coalesce(r.state, '') <> 'COMPLETE' OR row.final) AND rank >= coalesce(r.rank, -1)) AS advance
SET r.state = CASE WHEN advance THEN row.state ELSE r.state END,
    r.rank = CASE WHEN advance THEN rank ELSE r.rank END,
    r.error = CASE WHEN advance THEN row.error ELSE r.error END,
    r.endedAt = CASE WHEN advance AND row.state <> 'START' THEN row.endedAt ELSE r.endedAt END,
    r.attempts = CASE WHEN coalesce(r.attempts, 0) >= row.attempt THEN r.attempts ELSE row.attempt END,
    r.startedAt = CASE WHEN r.startedAt IS NULL OR row.startedAt < r.startedAt THEN row.startedAt ELSE r.startedAt END,
    r.workflowId = coalesce(r.workflowId, row.workflowId)
REMOVE r.pipewatchLock
MERGE (r)-[:INSTANCE_OF]->(j)
WITH r, row WHERE row.parentRunId <> ''
MERGE (p:Run {runId: row.parentRunId})
MERGE (r)-[:CHILD_OF]->(p)`

// writeDatasets links runs (written by writeRuns in the same transaction)
// to the dataset versions they read and wrote, creating datasets (labelled with their kind) and versions (with their
// facets) as needed.
const writeDatasets = `
UNWIND $rows AS row
MATCH (r:Run {runId: row.runId})
MERGE (d:Dataset {key: row.key})
SET d:$(row.kind)
MERGE (v:DatasetVersion {id: row.id})
ON CREATE SET v.key = row.key, v.version = row.version, v.kind = row.kind, v.firstSeen = row.at
SET v += row.facets,
    v.producedAt = CASE WHEN row.output AND (v.producedAt IS NULL OR row.at < v.producedAt) THEN row.at ELSE v.producedAt END
MERGE (d)-[:HAS_VERSION]->(v)
FOREACH (_ IN CASE WHEN row.output THEN [1] ELSE [] END | MERGE (r)-[:PRODUCED]->(v))
FOREACH (_ IN CASE WHEN row.output THEN [] ELSE [1] END | MERGE (r)-[:CONSUMED]->(v))`

// writeDerived adds the DERIVED_FROM shortcut from each version a run wrote
// to each it read, once per run.
const writeDerived = `
UNWIND $rows AS row
MATCH (o:DatasetVersion {id: row.out})
MATCH (i:DatasetVersion {id: row.in})
MERGE (o)-[e:DERIVED_FROM {runId: row.runId}]->(i)
ON CREATE SET e.at = row.at`

// WriteRuns writes run events in one transaction, idempotently: the same
// events written twice, or in another order, leave the same graph.
func (s *Store) WriteRuns(ctx context.Context, runs []lineage.Run) error {
	if len(runs) == 0 {
		return nil
	}
	// Neo4j may have been down when the worker started: ensure the
	// constraints (MERGE's uniqueness) before the first write that can.
	if err := s.ensureSchemaOnce(ctx); err != nil {
		return err
	}
	rows, ioRows, derivedRows := batchRows(runs)
	session := s.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: s.database, AccessMode: neo4j.AccessModeWrite})
	defer func() { _ = session.Close(ctx) }()
	_, err := session.ExecuteWrite(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		return nil, runStatements(ctx, tx, writeRuns, rows, ioRows, derivedRows)
	})
	if err != nil {
		err = fmt.Errorf("lineage: write %d run events (%d dataset links): %w", len(runs), len(ioRows), err)
		if rejected(err) {
			return fmt.Errorf("%w: %w", lineage.ErrRejected, err)
		}
		return err
	}
	return nil
}

// batchRows turns run events into the rows of the three statements.
func batchRows(runs []lineage.Run) (rows, ioRows, derivedRows []map[string]any) {
	ioRows, derivedRows = datasetRows(runs)
	// One row per run: rows of one statement do not see each other's writes.
	runs = foldRuns(runs)
	rows = make([]map[string]any, len(runs))
	for i, r := range runs {
		attempt := r.Attempt
		if attempt < 1 {
			attempt = 1
		}
		row := map[string]any{
			"runId": r.RunID, "jobKey": r.JobKey, "state": r.State, "attempt": int64(attempt),
			"startedAt": r.StartedAt.UTC(), "endedAt": nil, "workflowId": r.WorkflowID,
			"parentRunId": r.ParentRunID, "error": nil, "final": r.Final,
		}
		if !r.EndedAt.IsZero() {
			row["endedAt"] = r.EndedAt.UTC()
		}
		if r.Error != "" {
			row["error"] = r.Error
		}
		rows[i] = row
	}
	// One lock order for every writer: rows sorted by what they lock.
	sortRows(rows, "parentRunId", "runId")
	sortRows(ioRows, "key", "id", "runId")
	sortRows(derivedRows, "out", "in", "runId")
	return rows, ioRows, derivedRows
}

// sortRows orders rows by the string values of keys, in turn.
func sortRows(rows []map[string]any, keys ...string) {
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		for _, k := range keys {
			x, _ := a[k].(string)
			y, _ := b[k].(string)
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
		return 0
	})
}

// runner is a transaction, managed or explicit.
type runner interface {
	Run(ctx context.Context, cypher string, params map[string]any) (neo4j.ResultWithContext, error)
}

// runStatements runs a batch's three statements in tx.
func runStatements(ctx context.Context, tx runner, runsCypher string, rows, ioRows, derivedRows []map[string]any) error {
	for _, st := range []struct {
		cypher string
		rows   []map[string]any
	}{{runsCypher, rows}, {writeDatasets, ioRows}, {writeDerived, derivedRows}} {
		if len(st.rows) == 0 {
			continue
		}
		res, err := tx.Run(ctx, st.cypher, map[string]any{"rows": st.rows, "finalRank": int64(finalRank)})
		if err != nil {
			return err
		}
		if _, err := res.Consume(ctx); err != nil {
			return err
		}
	}
	return nil
}

// rejected tells an error Neo4j would give again for the same events (a
// statement it cannot run on them, a constraint they break) from one that
// passes (a connection, a deadlock, a leader change, a timeout) or one
// about the whole store (authentication, a missing database): only the
// first are put aside; the others are retried.
func rejected(err error) bool {
	var ne *neo4j.Neo4jError
	if !errors.As(err, &ne) || neo4j.IsRetryable(err) {
		return false
	}
	switch ne.Code {
	case "Neo.ClientError.Schema.ConstraintValidationFailed", "Neo.ClientError.Schema.TokenNameError":
		return true
	}
	return strings.HasPrefix(ne.Code, "Neo.ClientError.Statement.")
}

// datasetRows turns the runs' inputs and outputs into rows for
// writeDatasets and writeDerived, each link once.
func datasetRows(runs []lineage.Run) (links, derived []map[string]any) {
	seen := map[[3]string]bool{}
	for _, r := range runs {
		if len(r.Inputs) == 0 && len(r.Outputs) == 0 {
			continue
		}
		at := r.EndedAt
		if at.IsZero() {
			at = r.StartedAt
		}
		at = at.UTC()
		for _, io := range []struct {
			ds     []lineage.Dataset
			output bool
		}{{r.Inputs, false}, {r.Outputs, true}} {
			for _, d := range io.ds {
				key := [3]string{r.RunID, d.VersionID(), fmt.Sprint(io.output)}
				if seen[key] {
					continue
				}
				seen[key] = true
				links = append(links, map[string]any{
					"runId": r.RunID, "key": d.Key, "kind": string(d.Kind), "id": d.VersionID(),
					"version": d.Version, "output": io.output, "at": at, "facets": facetProps(d.Facets),
				})
			}
		}
		for _, o := range r.Outputs {
			for _, i := range r.Inputs {
				key := [3]string{r.RunID, o.VersionID(), i.VersionID()}
				if seen[key] {
					continue
				}
				seen[key] = true
				derived = append(derived, map[string]any{"runId": r.RunID, "out": o.VersionID(), "in": i.VersionID(), "at": at})
			}
		}
	}
	return links, derived
}

// facetProps flattens facets into version properties, for Cypher to
// filter on: rows, schema as ["name:type"], quality_<name>, metric_<name>,
// hp_<name>, and all of them as JSON in facets (for export).
func facetProps(f *lineage.Facets) map[string]any {
	props := map[string]any{}
	if f == nil {
		return props
	}
	if f.Rows != nil {
		props["rows"] = *f.Rows
	}
	if len(f.Schema) > 0 {
		cols := make([]string, len(f.Schema))
		for i, c := range f.Schema {
			cols[i] = c.Name + ":" + c.Type
		}
		props["schema"] = cols
	}
	for prefix, m := range map[string]map[string]float64{"quality_": f.Quality, "metric_": f.Metrics} {
		for k, v := range m {
			props[prefix+k] = v
		}
	}
	for k, v := range f.Hyperparameters {
		props["hp_"+k] = v
	}
	if b, err := json.Marshal(f); err == nil {
		props["facets"] = string(b)
	}
	return props
}

// foldRuns merges the events of each run into one, by the rule writeRuns
// applies between writes: the highest-ranked event (a COMPLETE above all)
// gives state, end and error; attempts take the highest, the start the
// earliest. Runs keep the order of their first event.
func foldRuns(runs []lineage.Run) []lineage.Run {
	index := make(map[string]int, len(runs))
	var out []lineage.Run
	for _, r := range runs {
		i, seen := index[r.RunID]
		if !seen {
			index[r.RunID] = len(out)
			out = append(out, r)
			continue
		}
		f := &out[i]
		if rankOf(r) > rankOf(*f) {
			f.State, f.EndedAt, f.Error, f.Final = r.State, r.EndedAt, r.Error, r.Final
		}
		f.Attempt = max(f.Attempt, r.Attempt)
		if r.StartedAt.Before(f.StartedAt) {
			f.StartedAt = r.StartedAt
		}
		for _, p := range []struct {
			dst *string
			src string
		}{{&f.JobKey, r.JobKey}, {&f.WorkflowID, r.WorkflowID}, {&f.ParentRunID, r.ParentRunID}} {
			if *p.dst == "" {
				*p.dst = p.src
			}
		}
	}
	return out
}

// finalRank is the rank of Final events, above every other.
const finalRank = 1 << 41

// rankOf orders a run's events as writeRuns does, COMPLETE being final
// unless a Final event comes.
func rankOf(r lineage.Run) int64 {
	if r.Final {
		return finalRank
	}
	if r.State == lineage.StateComplete {
		return 1 << 40
	}
	rank := int64(max(r.Attempt, 1)) * 2
	if r.State != lineage.StateStart {
		rank++
	}
	return rank
}

// GetRun reads a run back by id.
func (s *Store) GetRun(ctx context.Context, runID string) (lineage.Run, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, `
MATCH (r:Run {runId: $runId})-[:INSTANCE_OF]->(j:Job)
OPTIONAL MATCH (r)-[:CHILD_OF]->(p:Run)
RETURN r.runId AS runId, j.key AS jobKey, r.state AS state, r.startedAt AS startedAt,
       r.endedAt AS endedAt, r.workflowId AS workflowId, r.attempts AS attempts,
       r.error AS error, p.runId AS parentRunId`,
		map[string]any{"runId": runID}, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return lineage.Run{}, fmt.Errorf("lineage: get run %q: %w", runID, err)
	}
	if len(res.Records) == 0 {
		return lineage.Run{}, fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	rec := res.Records[0].AsMap()
	run := lineage.Run{
		RunID:       asString(rec["runId"]),
		JobKey:      asString(rec["jobKey"]),
		State:       asString(rec["state"]),
		WorkflowID:  asString(rec["workflowId"]),
		ParentRunID: asString(rec["parentRunId"]),
		Error:       asString(rec["error"]),
	}
	if n, ok := rec["attempts"].(int64); ok {
		run.Attempt = int32(n)
	}
	run.StartedAt, _ = rec["startedAt"].(time.Time)
	run.EndedAt, _ = rec["endedAt"].(time.Time)
	return run, nil
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

// StepRuns reads the runs that are CHILD_OF a workflow run, in start order.
func (s *Store) StepRuns(ctx context.Context, workflowRunID string) ([]lineage.Run, error) {
	res, err := s.read(ctx, `
MATCH (r:Run)-[:CHILD_OF]->(:Run {runId: $runId})
MATCH (r)-[:INSTANCE_OF]->(j:Job)
RETURN r.runId AS runId, j.key AS jobKey, r.state AS state, r.startedAt AS startedAt, r.endedAt AS endedAt,
       r.workflowId AS workflowId, r.attempts AS attempts, r.error AS error
ORDER BY r.startedAt, r.runId`, map[string]any{"runId": workflowRunID})
	if err != nil {
		return nil, fmt.Errorf("lineage: step runs of %q: %w", workflowRunID, err)
	}
	out := make([]lineage.Run, len(res))
	for i, rec := range res {
		out[i] = lineage.Run{
			RunID: asString(rec["runId"]), JobKey: asString(rec["jobKey"]), State: asString(rec["state"]),
			WorkflowID: asString(rec["workflowId"]), ParentRunID: workflowRunID, Error: asString(rec["error"]),
		}
		if n, ok := rec["attempts"].(int64); ok {
			out[i].Attempt = int32(n)
		}
		out[i].StartedAt, _ = rec["startedAt"].(time.Time)
		out[i].EndedAt, _ = rec["endedAt"].(time.Time)
	}
	return out, nil
}

// Runs reads the runs started in [since, until), oldest first, at most
// limit, each with the dataset versions it read and wrote (facets
// included): what an export needs.
func (s *Store) Runs(ctx context.Context, since, until time.Time, limit int) ([]lineage.Run, error) {
	if limit < 1 {
		return nil, fmt.Errorf("lineage: runs: limit %d is below 1", limit)
	}
	res, err := s.read(ctx, `
MATCH (r:Run)-[:INSTANCE_OF]->(j:Job)
WHERE r.startedAt >= $since AND r.startedAt < $until
WITH r, j ORDER BY r.startedAt, r.runId LIMIT $limit
OPTIONAL MATCH (r)-[:CHILD_OF]->(p:Run)
OPTIONAL MATCH (r)-[io:CONSUMED|PRODUCED]->(v:DatasetVersion)
RETURN r.runId AS runId, j.key AS jobKey, r.state AS state, r.startedAt AS startedAt, r.endedAt AS endedAt,
       r.workflowId AS workflowId, r.attempts AS attempts, r.error AS error, p.runId AS parentRunId,
       collect(CASE WHEN io IS NULL THEN null ELSE [type(io), v.kind, v.key, v.version, coalesce(v.facets, '')] END) AS io
ORDER BY startedAt, runId`,
		map[string]any{"since": since.UTC(), "until": until.UTC(), "limit": int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("lineage: runs since %s: %w", since.Format(time.RFC3339), err)
	}
	out := make([]lineage.Run, len(res))
	for i, rec := range res {
		r := lineage.Run{
			RunID: asString(rec["runId"]), JobKey: asString(rec["jobKey"]), State: asString(rec["state"]),
			WorkflowID: asString(rec["workflowId"]), ParentRunID: asString(rec["parentRunId"]), Error: asString(rec["error"]),
		}
		if n, ok := rec["attempts"].(int64); ok {
			r.Attempt = int32(n)
		}
		r.StartedAt, _ = rec["startedAt"].(time.Time)
		r.EndedAt, _ = rec["endedAt"].(time.Time)
		links, _ := rec["io"].([]any)
		for _, l := range links {
			f, _ := l.([]any)
			if len(f) != 5 {
				continue
			}
			d := lineage.Dataset{Kind: lineage.Kind(asString(f[1])), Key: asString(f[2]), Version: asString(f[3]), Facets: decodeFacets(asString(f[4]))}
			if asString(f[0]) == "PRODUCED" {
				r.Outputs = append(r.Outputs, d)
			} else {
				r.Inputs = append(r.Inputs, d)
			}
		}
		slices.SortFunc(r.Inputs, byVersionID)
		slices.SortFunc(r.Outputs, byVersionID)
		out[i] = r
	}
	return out, nil
}

func byVersionID(a, b lineage.Dataset) int { return strings.Compare(a.VersionID(), b.VersionID()) }
