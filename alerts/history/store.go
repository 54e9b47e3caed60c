package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/alerts"
)

var _ alerts.History = (*Store)(nil)

// Store reads and writes alert records in one Neo4j database.
type Store struct {
	driver   neo4j.DriverWithContext
	database string
	schema   atomic.Bool
}

// NewStore returns a Store on an open driver, which stays the caller's to
// close.
func NewStore(driver neo4j.DriverWithContext, database string) *Store {
	return &Store{driver: driver, database: database}
}

func schema() []string {
	return []string{
		"CREATE CONSTRAINT pipewatch_alert_id IF NOT EXISTS FOR (a:Alert) REQUIRE a.id IS UNIQUE",
		"CREATE INDEX pipewatch_alert_first_fired IF NOT EXISTS FOR (a:Alert) ON (a.firstFiredAt)",
	}
}

// EnsureSchema creates the constraint and index the alert history needs;
// WriteAlert calls it until it has worked once.
func (s *Store) EnsureSchema(ctx context.Context) error {
	for _, stmt := range schema() {
		if _, err := neo4j.ExecuteQuery(ctx, s.driver, stmt, nil, neo4j.EagerResultTransformer,
			neo4j.ExecuteQueryWithDatabase(s.database)); err != nil {
			return fmt.Errorf("alert history: ensure schema (%s): %w", stmt, err)
		}
	}
	s.schema.Store(true)
	return nil
}

// writeAlert merges one record. The state, severity, summary and
// silencedUntil follow the highest revision written, unless the alert is
// resolved; fires and lastFiredAt only grow; ackedAt, resolvedAt and who
// did it are set once; closedAt follows the state.
//
// Records of one alert arrive at the same time (an ack and a resolve a
// few milliseconds apart run as concurrent activities). Under Neo4j's
// read-committed isolation, a revision read before the node's write lock
// may be stale by the time the write lands, and an older record would
// overwrite a newer one. Setting pipewatchLock first takes the lock, so
// the revision is read once the other writes committed (Neo4j's
// operations manual, "Concurrent data access: lost updates").
const writeAlert = `
MERGE (a:Alert {id: $id})
ON CREATE SET a.key = $key, a.type = $type, a.firstFiredAt = $firstAt, a.workflowId = $workflowId,
              a.rev = -1, a.fires = 0, a.state = $state
SET a.pipewatchLock = true
WITH a, ($rev > a.rev AND a.state <> 'resolved') AS advance
SET a.state = CASE WHEN advance THEN $state ELSE a.state END,
    a.severity = CASE WHEN advance OR a.severity IS NULL THEN $severity ELSE a.severity END,
    a.summary = CASE WHEN advance OR a.summary IS NULL THEN $summary ELSE a.summary END,
    a.silencedUntil = CASE WHEN advance THEN $silencedUntil ELSE a.silencedUntil END,
    a.closedAt = CASE WHEN advance AND $state = 'closed' THEN $at WHEN advance THEN null ELSE a.closedAt END,
    a.updatedAt = CASE WHEN advance THEN $at ELSE a.updatedAt END,
    a.rev = CASE WHEN advance THEN $rev ELSE a.rev END,
    a.fires = CASE WHEN $fires > a.fires THEN $fires ELSE a.fires END,
    a.lastFiredAt = CASE WHEN a.lastFiredAt IS NULL OR $lastAt > a.lastFiredAt THEN $lastAt ELSE a.lastFiredAt END,
    a.labels = $labels, a.pipeline = $pipeline, a.step = $step,
    a.ackedAt = CASE WHEN $event = 'acked' AND a.ackedAt IS NULL THEN $at ELSE a.ackedAt END,
    a.ackedBy = CASE WHEN $event = 'acked' AND a.ackedBy IS NULL THEN $by ELSE a.ackedBy END,
    a.resolvedAt = CASE WHEN $event = 'resolved' AND a.resolvedAt IS NULL THEN $at ELSE a.resolvedAt END,
    a.resolvedBy = CASE WHEN $event = 'resolved' AND a.resolvedBy IS NULL THEN $by ELSE a.resolvedBy END,
    a.resolveReason = CASE WHEN $event = 'resolved' AND a.resolveReason IS NULL THEN $reason ELSE a.resolveReason END
FOREACH (runId IN $runs | MERGE (r:Run {runId: runId}) MERGE (a)-[:ABOUT]->(r))
FOREACH (key IN $jobs | MERGE (j:Job {key: key}) MERGE (a)-[:ABOUT]->(j))
REMOVE a.pipewatchLock`

// WriteAlert merges r into the alert history, idempotently: the same
// record twice, or records out of order, leave the same node.
func (s *Store) WriteAlert(ctx context.Context, r alerts.Record) error {
	if !s.schema.Load() {
		if err := s.EnsureSchema(ctx); err != nil {
			return err
		}
	}
	_, err := neo4j.ExecuteQuery(ctx, s.driver, writeAlert, recordParams(r), neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.database), neo4j.ExecuteQueryWithWritersRouting())
	if err != nil {
		err = fmt.Errorf("alert history: write %s (%s #%d): %w", r.ID, r.Event, r.Rev, err)
		if rejected(err) {
			return fmt.Errorf("%w: %w", alerts.ErrHistoryRejected, err)
		}
		return err
	}
	return nil
}

// recordParams are writeAlert's parameters for r.
func recordParams(r alerts.Record) map[string]any {
	labels := make([]string, 0, len(r.Labels))
	for k, v := range r.Labels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	var silenced, by, reason, pipeline, step any
	if !r.SilencedUntil.IsZero() {
		silenced = r.SilencedUntil.UTC()
	}
	if r.By != "" {
		by = r.By
	}
	if r.Reason != "" {
		reason = r.Reason
	}
	if p := r.Labels["pipeline"]; p != "" {
		pipeline = p
	}
	if st := r.Labels["step"]; st != "" {
		step = st
	}
	return map[string]any{
		"id": r.ID, "key": r.Key, "workflowId": r.WorkflowID, "type": string(r.Type), "severity": string(r.Severity),
		"state": string(r.State), "summary": r.Summary, "firstAt": r.FirstAt.UTC(), "lastAt": r.LastAt.UTC(),
		"fires": int64(r.Fires), "event": r.Event, "at": r.At.UTC(), "by": by, "reason": reason, "silencedUntil": silenced,
		"rev": int64(r.Rev), "labels": labels, "pipeline": pipeline, "step": step,
		"runs": aboutRuns(r.Source), "jobs": aboutJobs(r.Labels),
	}
}

// aboutRuns are the lineage runs an occurrence from src is about: the
// step's run (lineage.ActivityRunID's form), or the workflow run.
func aboutRuns(src alerts.Source) []string {
	switch {
	case src.RunID == "":
		return []string{}
	case src.ActivityID != "":
		return []string{src.RunID + "/activity/" + src.ActivityID}
	}
	return []string{src.RunID}
}

// aboutJobs are the lineage jobs an alert with labels is about: its
// pipeline's.
func aboutJobs(labels map[string]string) []string {
	if p := labels["pipeline"]; p != "" {
		return []string{p}
	}
	return []string{}
}

// rejected tells a statement Neo4j will refuse again from a failure that
// passes (a connection, a leader change).
func rejected(err error) bool {
	var ne *neo4j.Neo4jError
	if !errors.As(err, &ne) || neo4j.IsRetryable(err) {
		return false
	}
	return strings.HasPrefix(ne.Code, "Neo.ClientError.Statement.") || ne.Code == "Neo.ClientError.Schema.ConstraintValidationFailed"
}
