package sentinel

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"time"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/metrics"
)

// State is what the sentinel carries from scan to scan, in its workflow's
// history: durable, so a scan that moves to another worker goes on where
// the last one stopped.
type State struct {
	// Watermark: runs that closed before Watermark-overlap were all
	// counted; the next scan lists closes from there.
	Watermark time.Time `json:"watermark"`
	// Counted are the runs counted whose close is after
	// Watermark-overlap (a hash of the run id, and the close time), so a
	// close listed twice is counted once.
	Counted []Counted `json:"counted,omitempty"`
	// Outcomes are the running totals of closed runs.
	Outcomes []metrics.Outcome `json:"outcomes,omitempty"`
	// Problems are the problems seen in the last scan: raised ones, and
	// ones still below their thresholds.
	Problems []Problem `json:"problems,omitempty"`
	// Scans counts scans over the sentinel's life.
	Scans int64 `json:"scans"`
	// Host is the task queue of the worker that scans (see StartHost);
	// empty: the next scan goes to any worker.
	Host string `json:"host,omitempty"`
	// Unspooled are lineage events of closed runs the spool did not take
	// (a full disk, a full spool): each scan offers them again, so a
	// terminated run does not stay RUNNING in the graph. At most
	// MaxUnspooled, the oldest given up first.
	Unspooled []json.RawMessage `json:"unspooled,omitempty"`
}

// MaxUnspooled bounds State.Unspooled: the state travels in every scan's
// input and result, so it stays well under Temporal's payload limits
// (some 300 bytes an event).
const MaxUnspooled = 200

// keepUnspooled adds records the spool did not take, giving up the oldest
// past MaxUnspooled; it returns how many it gave up.
func (s *State) keepUnspooled(recs [][]byte) int {
	for _, r := range recs {
		s.Unspooled = append(s.Unspooled, json.RawMessage(r))
	}
	over := max(len(s.Unspooled)-MaxUnspooled, 0)
	s.Unspooled = s.Unspooled[over:]
	return over
}

// Counted is one counted close.
type Counted struct {
	Run    uint64 `json:"r"`
	Closed int64  `json:"c"` // Unix nanoseconds
}

// Problem is one instance of a problem: a step of one run retrying, a
// step not started, a run stuck.
type Problem struct {
	// ID names the instance: problem, run id and activity id.
	ID string `json:"id"`
	// Problem is retrying, not_started or stuck.
	Problem    string `json:"problem"`
	Pipeline   string `json:"pipeline"`
	Step       string `json:"step,omitempty"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	ActivityID string `json:"activityId,omitempty"`
	// Since is when the problem began, as well as the sentinel can tell.
	Since time.Time `json:"since"`
	// Raised says an alert was raised for it; Attempt is the attempt it
	// was last raised for (a new failed attempt raises a repeat).
	Raised  bool  `json:"raised,omitempty"`
	Attempt int32 `json:"attempt,omitempty"`
	// Key is the alert's key (type and labels).
	Key string `json:"key"`
	// Summary is the latest alert text.
	Summary string `json:"summary,omitempty"`
}

// overlap is how far back each scan lists closes again: visibility is
// eventually consistent, and a run may show as closed after the scan that
// followed its close.
const overlap = time.Minute

// runHash is the compact id of a run in Counted.
func runHash(runID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(runID))
	return h.Sum64()
}

// counted tells whether the run was counted already.
func (s *State) counted(runID string) bool {
	h := runHash(runID)
	return slices.ContainsFunc(s.Counted, func(c Counted) bool { return c.Run == h })
}

// count records a close, once.
func (s *State) count(runID, pipeline, status string, started, closed time.Time) {
	s.Counted = append(s.Counted, Counted{Run: runHash(runID), Closed: closed.UnixNano()})
	i := slices.IndexFunc(s.Outcomes, func(o metrics.Outcome) bool { return o.Pipeline == pipeline && o.Status == status })
	if i < 0 {
		s.Outcomes = append(s.Outcomes, metrics.Outcome{Pipeline: pipeline, Status: status})
		i = len(s.Outcomes) - 1
	}
	d := closed.Sub(started)
	if d < 0 {
		d = 0
	}
	s.Outcomes[i].Observe(d, closed)
}

// advance moves the watermark and forgets counted closes it passed.
func (s *State) advance(to time.Time) {
	s.Watermark = to
	horizon := to.Add(-overlap).UnixNano()
	s.Counted = slices.DeleteFunc(s.Counted, func(c Counted) bool { return c.Closed < horizon })
}

// pipelineLabel caps the distinct pipeline label values of the outcome
// totals: past max, new names count as metrics.Other.
func (s *State) pipelineLabel(name string, max int) string {
	seen := map[string]bool{}
	for _, o := range s.Outcomes {
		seen[o.Pipeline] = true
	}
	if seen[name] || len(seen) < max {
		return name
	}
	return metrics.Other
}

// adopt takes over a problem a worker raised an alert about; the next
// scan looks at it like its own.
func (s *State) adopt(a alerts.Alert, now time.Time) {
	problem := a.Labels["problem"]
	if problem == "" || a.Source.RunID == "" {
		return
	}
	id := problem + ":" + a.Source.RunID
	if a.Source.ActivityID != "" {
		id += "/" + a.Source.ActivityID
	}
	if i := slices.IndexFunc(s.Problems, func(p Problem) bool { return p.ID == id }); i >= 0 {
		// Seen by a scan already, and maybe not raised yet: the worker's
		// alert is now held open, so this problem is raised, and the scan
		// that sees it clear resolves that alert.
		if p := &s.Problems[i]; !p.Raised {
			p.Raised, p.Key, p.Summary, p.Attempt = true, a.Key(), a.Summary, a.Source.Attempt
		}
		return
	}
	since := a.At
	if since.IsZero() {
		since = now
	}
	s.Problems = append(s.Problems, Problem{
		ID: id, Problem: problem, Pipeline: a.Labels["pipeline"], Step: a.Labels["step"], WorkflowID: a.Source.WorkflowID,
		RunID: a.Source.RunID, ActivityID: a.Source.ActivityID, Since: since, Raised: true, Attempt: a.Source.Attempt,
		Key: a.Key(), Summary: a.Summary,
	})
}
