package graph

import (
	"context"
	"fmt"
	"math"
	"time"
)

// StatsFilter picks the runs Stats aggregates. Zero values pick all.
type StatsFilter struct {
	// Pipeline keeps the runs of this pipeline (workflow type): the
	// pipeline's own runs and its steps'.
	Pipeline string
	// Step keeps the runs of this step (activity type).
	Step string
	// Since keeps the runs started at or after it.
	Since time.Time
}

// StepStats are the processing statistics of one step of one pipeline, or
// of the pipeline's own runs (Step empty).
type StepStats struct {
	Pipeline string
	// Step is the activity type; empty for the pipeline's workflow runs.
	Step string
	// Runs counts the ended runs (completed, failed or aborted); Failures
	// the failed ones, Aborted those cancelled, terminated or cut short.
	Runs     int64
	Failures int64
	Aborted  int64
	// FailureRate is Failures / Runs.
	FailureRate float64
	// Completed counts the completed runs: the durations below are theirs
	// (start of the first attempt to end of the last), zero when none.
	Completed int64
	Mean      time.Duration
	Min       time.Duration
	Max       time.Duration
	Median    time.Duration
	P95       time.Duration
}

// statsQuery aggregates ended runs by pipeline and step in Neo4j. A step
// run (an activity's, whose id has /activity/ in it) belongs to the
// pipeline of its parent run; a workflow run is its own pipeline's, with
// no step. Percentiles interpolate linearly between the nearest values
// (percentileCont), as the median does.
const statsQuery = `
MATCH (r:Run)-[:INSTANCE_OF]->(j:Job)
WHERE r.state IN ['COMPLETE', 'FAIL', 'ABORT'] AND ($since IS NULL OR r.startedAt >= $since)
OPTIONAL MATCH (r)-[:CHILD_OF]->(:Run)-[:INSTANCE_OF]->(pj:Job)
WITH r, r.runId CONTAINS '/activity/' AS isStep, j.key AS job, pj.key AS parentJob
WITH r, CASE WHEN isStep THEN coalesce(parentJob, '') ELSE job END AS pipeline, CASE WHEN isStep THEN job ELSE '' END AS step
WHERE ($pipeline = '' OR pipeline = $pipeline) AND ($step = '' OR step = $step)
WITH pipeline, step, r.state AS state,
     CASE WHEN r.state = 'COMPLETE' AND r.endedAt IS NOT NULL AND r.startedAt IS NOT NULL
          THEN duration.inSeconds(r.startedAt, r.endedAt).nanoseconds END AS ns
RETURN pipeline, step, count(*) AS runs,
       count(CASE WHEN state = 'FAIL' THEN 1 END) AS failures,
       count(CASE WHEN state = 'ABORT' THEN 1 END) AS aborted,
       count(ns) AS completed, avg(ns) AS mean, min(ns) AS min, max(ns) AS max,
       percentileCont(ns, 0.5) AS median, percentileCont(ns, 0.95) AS p95
ORDER BY pipeline, step`

// Stats computes processing statistics from the runs in the lineage
// graph, per pipeline and step, in one query: runs, failures and failure
// rate, and the mean, min, max, median and 95th percentile duration of the
// completed runs. Rows come ordered by pipeline, then step.
func (s *Store) Stats(ctx context.Context, f StatsFilter) ([]StepStats, error) {
	params := map[string]any{"pipeline": f.Pipeline, "step": f.Step, "since": nil}
	if !f.Since.IsZero() {
		params["since"] = f.Since.UTC()
	}
	res, err := s.read(ctx, statsQuery, params)
	if err != nil {
		return nil, fmt.Errorf("lineage: run statistics (pipeline %q, step %q): %w", f.Pipeline, f.Step, err)
	}
	out := make([]StepStats, len(res))
	for i, rec := range res {
		st := StepStats{
			Pipeline: asString(rec["pipeline"]), Step: asString(rec["step"]),
			Runs: asInt(rec["runs"]), Failures: asInt(rec["failures"]), Aborted: asInt(rec["aborted"]), Completed: asInt(rec["completed"]),
			Mean: nanos(rec["mean"]), Min: nanos(rec["min"]), Max: nanos(rec["max"]), Median: nanos(rec["median"]), P95: nanos(rec["p95"]),
		}
		if st.Runs > 0 {
			st.FailureRate = float64(st.Failures) / float64(st.Runs)
		}
		out[i] = st
	}
	return out, nil
}

func asInt(v any) int64 {
	n, _ := v.(int64)
	return n
}

// nanos reads a count of nanoseconds, whole or not; null is zero.
func nanos(v any) time.Duration {
	switch n := v.(type) {
	case int64:
		return time.Duration(n)
	case float64:
		return time.Duration(math.Round(n))
	}
	return 0
}
