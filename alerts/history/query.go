package history

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/alerts"
)

// Alert is one alert as the history holds it.
type Alert struct {
	ID         string          `json:"id"`
	Key        string          `json:"key"`
	WorkflowID string          `json:"workflowId"`
	Type       alerts.Type     `json:"type"`
	Severity   alerts.Severity `json:"severity"`
	State      alerts.Status   `json:"state"`
	Summary    string          `json:"summary"`
	// Labels are "name=value", sorted.
	Labels        []string  `json:"labels"`
	FirstFiredAt  time.Time `json:"firstFiredAt"`
	LastFiredAt   time.Time `json:"lastFiredAt"`
	Fires         int64     `json:"fires"`
	AckedAt       time.Time `json:"ackedAt,omitzero"`
	AckedBy       string    `json:"ackedBy,omitempty"`
	SilencedUntil time.Time `json:"silencedUntil,omitzero"`
	ResolvedAt    time.Time `json:"resolvedAt,omitzero"`
	ResolvedBy    string    `json:"resolvedBy,omitempty"`
	ResolveReason string    `json:"resolveReason,omitempty"`
	ClosedAt      time.Time `json:"closedAt,omitzero"`
	// Runs are the ids of the lineage runs it is about.
	Runs []string `json:"runs"`
}

// Filter picks alerts. Zero values pick all.
type Filter struct {
	// Since keeps the alerts that opened at or after it.
	Since    time.Time
	Type     alerts.Type
	Severity alerts.Severity
	// Pipeline keeps the alerts labelled with this pipeline.
	Pipeline string
	// Limit bounds how many List returns; it must be at least 1.
	Limit int
}

// filterParams are the parameters of filterWhere.
func (f Filter) params() map[string]any {
	return map[string]any{"since": since(f.Since), "type": string(f.Type), "severity": string(f.Severity), "pipeline": f.Pipeline}
}

// filterWhere picks the alerts a Filter names.
const filterWhere = `($since IS NULL OR a.firstFiredAt >= $since) AND ($type = '' OR a.type = $type)
  AND ($severity = '' OR a.severity = $severity) AND ($pipeline = '' OR a.pipeline = $pipeline)`

const listAlerts = `
MATCH (a:Alert)
WHERE ` + filterWhere + `
WITH a ORDER BY a.firstFiredAt DESC, a.id LIMIT $limit
OPTIONAL MATCH (a)-[:ABOUT]->(r:Run)
WITH a, r ORDER BY r.runId
RETURN a {.*} AS alert, collect(r.runId) AS runs
ORDER BY alert.firstFiredAt DESC, alert.id`

// List reads the alerts f picks, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Alert, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("alert history: limit %d is below 1", f.Limit)
	}
	params := f.params()
	params["limit"] = int64(f.Limit)
	res, err := s.read(ctx, listAlerts, params)
	if err != nil {
		return nil, fmt.Errorf("alert history: list: %w", err)
	}
	out := make([]Alert, len(res))
	for i, rec := range res {
		p, _ := rec["alert"].(map[string]any)
		a := Alert{
			ID: str(p["id"]), Key: str(p["key"]), WorkflowID: str(p["workflowId"]), Type: alerts.Type(str(p["type"])),
			Severity: alerts.Severity(str(p["severity"])), State: alerts.Status(str(p["state"])), Summary: str(p["summary"]),
			FirstFiredAt: at(p["firstFiredAt"]), LastFiredAt: at(p["lastFiredAt"]), AckedAt: at(p["ackedAt"]), AckedBy: str(p["ackedBy"]),
			SilencedUntil: at(p["silencedUntil"]), ResolvedAt: at(p["resolvedAt"]), ResolvedBy: str(p["resolvedBy"]),
			ResolveReason: str(p["resolveReason"]), ClosedAt: at(p["closedAt"]), Labels: strs(p["labels"]), Runs: strs(rec["runs"]),
		}
		a.Fires, _ = p["fires"].(int64)
		out[i] = a
	}
	return out, nil
}

// Summary sums up the alerts a Filter picks.
type Summary struct {
	Since  time.Time `json:"since"`
	Alerts int64     `json:"alerts"`
	// Fires counts their occurrences.
	Fires      int64            `json:"fires"`
	ByType     map[string]int64 `json:"byType"`
	BySeverity map[string]int64 `json:"bySeverity"`
	ByState    map[string]int64 `json:"byState"`
	// Resolved counts the resolved ones; MeanTimeToResolve is the mean
	// from their first fire to their resolution.
	Resolved          int64         `json:"resolved"`
	MeanTimeToResolve time.Duration `json:"meanTimeToResolve"`
}

const summarize = `
MATCH (a:Alert)
WHERE ` + filterWhere + `
RETURN a.type AS type, a.severity AS severity, a.state AS state, count(*) AS alerts, sum(a.fires) AS fires,
       count(a.resolvedAt) AS resolved,
       sum(CASE WHEN a.resolvedAt IS NULL THEN 0 ELSE duration.inSeconds(a.firstFiredAt, a.resolvedAt).nanoseconds END) AS resolveNanos`

// Summarize counts the alerts f picks (its Limit aside) by type, severity
// and state, and their mean time to resolve, in one query.
func (s *Store) Summarize(ctx context.Context, f Filter) (Summary, error) {
	sum := Summary{Since: f.Since, ByType: map[string]int64{}, BySeverity: map[string]int64{}, ByState: map[string]int64{}}
	res, err := s.read(ctx, summarize, f.params())
	if err != nil {
		return sum, fmt.Errorf("alert history: summary: %w", err)
	}
	var nanos int64
	for _, rec := range res {
		n, _ := rec["alerts"].(int64)
		fires, _ := rec["fires"].(int64)
		resolved, _ := rec["resolved"].(int64)
		ns, _ := rec["resolveNanos"].(int64)
		sum.Alerts += n
		sum.Fires += fires
		sum.Resolved += resolved
		nanos += ns
		sum.ByType[str(rec["type"])] += n
		sum.BySeverity[str(rec["severity"])] += n
		sum.ByState[str(rec["state"])] += n
	}
	if sum.Resolved > 0 {
		sum.MeanTimeToResolve = time.Duration(math.Round(float64(nanos) / float64(sum.Resolved)))
	}
	return sum, nil
}

func (s *Store) read(ctx context.Context, cypher string, params map[string]any) ([]map[string]any, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, cypher, params, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(res.Records))
	for i, r := range res.Records {
		out[i] = r.AsMap()
	}
	return out, nil
}

func since(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func at(v any) time.Time {
	t, _ := v.(time.Time)
	return t.UTC()
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
