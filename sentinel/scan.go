package sentinel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/metrics"
)

// LineageSink takes encoded lineage events (lineage.Run JSON), all or
// none: the worker's spool.
type LineageSink interface {
	Append(records ...[]byte) error
}

// Sentinel runs the scans. Register it on every worker that may host the
// sentinel: the scans go to whichever of them polls first, one at a time.
type Sentinel struct {
	// Raiser raises and resolves alerts: its TaskQueue runs the alert
	// workflows, its Policy goes to new ones. Required.
	Raiser *alerts.Raiser
	// Fleet receives each scan's figures; nil exports none.
	Fleet *metrics.Fleet
	// Lineage receives Temporal's record of every closed run (and of the
	// steps it left open); nil writes none. Records it does not take are
	// kept in the sentinel's state and offered again at each scan.
	Lineage LineageSink
	// LineageMetrics counts the records given up (past MaxUnspooled) in
	// EventsRefused; nil counts none.
	LineageMetrics *metrics.Lineage
	// Log gets a line per detection, resolution and closed run that went
	// wrong (debug: one per scan); nil logs nothing.
	Log *zap.Logger
	// Identity names this worker in scan summaries; empty means
	// pid@host, as the Temporal SDK names workers.
	Identity string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	limiter *rate.Limiter
	host    host
}

// ScanInput is one scan's input: the settings, and the state so far.
type ScanInput struct {
	Config Config `json:"config"`
	State  State  `json:"state"`
}

// ScanResult is one scan's result: the new state and what it saw.
type ScanResult struct {
	State   State   `json:"state"`
	Summary Summary `json:"summary"`
}

// Summary is what one scan saw.
type Summary struct {
	At   time.Time     `json:"at"`
	Took time.Duration `json:"took"`
	// Worker is the identity of the worker that ran the scan.
	Worker string `json:"worker"`
	// Open pipelines listed, Described of them, DescribeErrors failed.
	Open           int `json:"open"`
	Described      int `json:"described"`
	DescribeErrors int `json:"describeErrors,omitempty"`
	// Closed runs counted in this scan.
	Closed int `json:"closed"`
	// Problems raised and open now; Raised and Resolved in this scan.
	Problems int `json:"problems"`
	Raised   int `json:"raised"`
	Resolved int `json:"resolved"`
	// TakenOver are the open held alerts a new sentinel's first scan took
	// over from the one before it (see takeOver).
	TakenOver int `json:"takenOver,omitempty"`
}

// maxLabelValues caps the distinct pipeline and step label values of the
// fleet metrics (pipelines watched may be any workflow type).
const maxLabelValues = 200

// describeWorkers run describes at once, under the rate limit.
const describeWorkers = 8

// maxClosesPerScan bounds the closes one scan handles; a backlog takes
// several scans.
const maxClosesPerScan = 2000

func (s *Sentinel) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sentinel) identity() string {
	if s.Identity != "" {
		return s.Identity
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%d@%s", os.Getpid(), host)
}

func (s *Sentinel) log() *zap.Logger {
	if s.Log == nil {
		return zap.NewNop()
	}
	return s.Log
}

// rateLimiter returns the process's describe limiter at rate r.
func (s *Sentinel) rateLimiter(r float64) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	burst := max(1, int(r/10))
	if s.limiter == nil {
		s.limiter = rate.NewLimiter(rate.Limit(r), burst)
	} else if s.limiter.Limit() != rate.Limit(r) {
		s.limiter.SetLimit(rate.Limit(r))
		s.limiter.SetBurst(burst)
	}
	return s.limiter
}

// Scan is the activity: one look at every watched pipeline, open and
// recently closed.
func (s *Sentinel) Scan(ctx context.Context, in ScanInput) (ScanResult, error) {
	if s.Raiser == nil {
		return ScanResult{}, errors.New("sentinel: no alert raiser")
	}
	cfg := in.Config.WithDefaults()
	info := activity.GetInfo(ctx)
	ns := cfg.Namespace
	if ns == "" {
		ns = info.Namespace
	}
	c := activity.GetClient(ctx)
	sc := &scan{
		s: s, cfg: cfg, ns: ns, client: c, svc: c.WorkflowService(), st: in.State,
		pollers: map[string]int{}, closedStatus: map[string]string{},
	}
	res, err := sc.run(ctx)
	took := s.now().Sub(sc.start)
	if s.Fleet != nil {
		result := "ok"
		if err != nil {
			result = "error"
		}
		s.Fleet.Scans.WithLabelValues(result).Inc()
		s.Fleet.ScanDuration.Observe(took.Seconds())
	}
	if err != nil {
		s.log().Warn("sentinel scan failed; retried", zap.Error(err))
		return ScanResult{}, err
	}
	res.Summary.Took, res.Summary.Worker = took, s.identity()
	res.State.Host = s.hostQueue() // the next scans come back here
	s.log().Debug("sentinel scan", zap.Int("open", res.Summary.Open), zap.Int("closed", res.Summary.Closed),
		zap.Int("problems", res.Summary.Problems), zap.Duration("duration", took))
	return res, nil
}

// scan is one scan's work.
type scan struct {
	s      *Sentinel
	cfg    Config
	ns     string
	client signaler
	svc    workflowservice.WorkflowServiceClient
	st     State
	start  time.Time
	sum    Summary

	// pollers caches DescribeTaskQueue answers: "type/name" -> pollers.
	pollers map[string]int
	// closedStatus holds the runs seen closing in this scan.
	closedStatus map[string]string
	// steps caps step label values within a scan.
	steps map[string]bool
}

// signaler raises alerts (SignalWithStart) and resolves them (Signal): a
// Temporal client.
type signaler interface {
	alerts.Starter
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// described is one open run and what its describe said.
type described struct {
	info *workflowpb.WorkflowExecutionInfo
	resp *workflowservice.DescribeWorkflowExecutionResponse
	err  error
	// outOfScope: a run with problems outside the listed scope (one a
	// worker handed over), looked at but not counted as open.
	outOfScope bool
}

// recheck describes the runs of known problems that the open listing did
// not show: closed since (their problems clear, saying how the run ended)
// or outside the scope (problems workers handed over): those are examined
// like the listed ones.
func (sc *scan) recheck(ctx context.Context, open []*workflowpb.WorkflowExecutionInfo) []described {
	listed := make(map[string]bool, len(open))
	for _, info := range open {
		listed[info.GetExecution().GetRunId()] = true
	}
	var out []described
	limiter := sc.s.rateLimiter(sc.cfg.DescribeRate)
	for _, p := range sc.st.Problems {
		if listed[p.RunID] {
			continue
		}
		listed[p.RunID] = true
		info := &workflowpb.WorkflowExecutionInfo{Execution: exec(p), Type: &commonpb.WorkflowType{Name: p.Pipeline}}
		d := sc.describe(ctx, limiter, info)
		var nf *serviceerror.NotFound
		switch {
		case d.err == nil:
			d.info, d.outOfScope = d.resp.GetWorkflowExecutionInfo(), true
			out = append(out, d)
		case errors.Is(d.err, errClosedSinceListed):
			sc.closedStatus[p.RunID] = statusWord(d.resp.GetWorkflowExecutionInfo().GetStatus())
		case errors.As(d.err, &nf):
			sc.closedStatus[p.RunID] = "closed"
		default:
			d.outOfScope = true
			out = append(out, d) // kept as it was: the describe failed
		}
	}
	return out
}

func (sc *scan) run(ctx context.Context) (ScanResult, error) {
	sc.start = sc.s.now()
	if sc.st.Watermark.IsZero() {
		sc.st.Watermark = sc.start.Add(-overlap)
	}
	sc.respool()
	if sc.st.Scans == 0 {
		n, err := sc.takeOver(ctx)
		if err != nil {
			return ScanResult{}, err
		}
		if sc.sum.TakenOver = n; n > 0 {
			sc.s.log().Info("sentinel: took over the open alerts a previous sentinel held; each is resolved when its problem is gone", zap.Int("alerts", n))
		}
	}
	open, err := sc.list(ctx, sc.cfg.scope()+" AND ExecutionStatus = 'Running'")
	if err != nil {
		return ScanResult{}, err
	}
	sc.sum.Open = len(open)
	// Open alerts, listed before the scan raises or resolves any, so a
	// failed list leaves nothing half done for the retry.
	var alertsOpen map[metrics.AlertKey]int
	if sc.s.Fleet != nil {
		if alertsOpen, err = sc.alertsOpen(ctx); err != nil {
			return ScanResult{}, err
		}
	}
	results := sc.describeAll(ctx, open)
	results = append(results, sc.recheck(ctx, open)...)
	now := sc.s.now()

	openByPipeline := map[string]int{}
	pendingByKey := map[metrics.PendingKey]int{}
	var findings []finding
	examined := map[string]bool{} // run ids whose describe answered
	isOpen := map[string]bool{}
	for _, r := range results {
		runID := r.info.GetExecution().GetRunId()
		isOpen[runID] = true
		if !r.outOfScope {
			openByPipeline[sc.pipeline(r.info.GetType().GetName())]++
		}
		if r.err != nil {
			continue
		}
		examined[runID] = true
		steps, found := examine(sc.cfg, r.resp, now)
		for _, p := range steps {
			if r.outOfScope {
				break
			}
			pendingByKey[metrics.PendingKey{Pipeline: sc.pipeline(r.info.GetType().GetName()), Step: sc.step(p.step), State: p.state}]++
		}
		findings = append(findings, found...)
	}

	// Closes: listed from just before the watermark, counted once.
	closedFrom := sc.s.now()
	since := sc.st.Watermark.Add(-overlap).UTC().Format(time.RFC3339Nano)
	closed, err := sc.list(ctx, sc.cfg.scope()+" AND ExecutionStatus != 'Running' AND CloseTime >= '"+since+"'")
	if err != nil {
		return ScanResult{}, err
	}
	sort.Slice(closed, func(i, j int) bool {
		return timeOf(closed[i].GetCloseTime()).Before(timeOf(closed[j].GetCloseTime()))
	})
	counted := map[uint64]bool{}
	for _, c := range sc.st.Counted {
		counted[c.Run] = true
	}
	for _, info := range closed {
		runID := info.GetExecution().GetRunId()
		sc.closedStatus[runID] = statusWord(info.GetStatus())
		if counted[runHash(runID)] {
			continue
		}
		if sc.sum.Closed == maxClosesPerScan {
			// A backlog (the sentinel was down a while): the next scan
			// goes on from here, so no scan outgrows its timeout.
			closedFrom = timeOf(info.GetCloseTime())
			break
		}
		if err := sc.closedRun(ctx, info); err != nil {
			return ScanResult{}, err
		}
		counted[runHash(runID)] = true
		if sc.sum.Closed++; sc.sum.Closed%100 == 0 {
			activity.RecordHeartbeat(ctx, sc.sum.Closed)
		}
	}

	if err := sc.reconcile(ctx, findings, examined, isOpen, now); err != nil {
		return ScanResult{}, err
	}
	sc.st.advance(closedFrom)
	sc.st.Scans++

	problems := map[string]int{alerts.ProblemRetrying: 0, alerts.ProblemNotStarted: 0, alerts.ProblemStuck: 0}
	for _, p := range sc.st.Problems {
		if p.Raised {
			problems[p.Problem]++
			sc.sum.Problems++
		}
	}
	sc.sum.At = sc.s.now()
	if f := sc.s.Fleet; f != nil {
		f.Publish(&metrics.FleetSnapshot{
			At: sc.sum.At, Lease: 3*sc.cfg.Interval + sc.sum.At.Sub(sc.start),
			Open: openByPipeline, Pending: pendingByKey, Problems: problems,
			Outcomes:   append([]metrics.Outcome(nil), sc.st.Outcomes...),
			AlertsOpen: alertsOpen,
		})
		f.LastScan.Set(float64(sc.sum.At.UnixMilli()) / 1000)
	}
	return ScanResult{State: sc.st, Summary: sc.sum}, nil
}

// pipeline caps pipeline label values: the totals' names first, then
// the scan's.
func (sc *scan) pipeline(name string) string {
	if l := sc.st.pipelineLabel(name, maxLabelValues); l != name {
		return l
	}
	return name
}

// step caps step label values within a scan.
func (sc *scan) step(name string) string {
	if sc.steps == nil {
		sc.steps = map[string]bool{}
	}
	if sc.steps[name] || len(sc.steps) < maxLabelValues {
		sc.steps[name] = true
		return name
	}
	return metrics.Other
}

// list pages through visibility.
func (sc *scan) list(ctx context.Context, query string) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := sc.svc.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: sc.ns, PageSize: sc.cfg.PageSize, NextPageToken: token, Query: query,
		})
		if err != nil {
			return nil, fmt.Errorf("sentinel: list workflows in %s (%s): %w", sc.ns, query, err)
		}
		out = append(out, resp.GetExecutions()...)
		activity.RecordHeartbeat(ctx, len(out))
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// describeAll describes the open runs, a few at a time under the rate
// limit, heartbeating as it goes.
func (sc *scan) describeAll(ctx context.Context, open []*workflowpb.WorkflowExecutionInfo) []described {
	out := make([]described, len(open))
	limiter := sc.s.rateLimiter(sc.cfg.DescribeRate)
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(describeWorkers, len(open)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = sc.describe(ctx, limiter, open[i])
				mu.Lock()
				done++
				if done%20 == 0 {
					activity.RecordHeartbeat(ctx, done)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range open {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, d := range out {
		if d.err == nil {
			sc.sum.Described++
		} else {
			sc.sum.DescribeErrors++
		}
	}
	return out
}

func (sc *scan) describe(ctx context.Context, limiter *rate.Limiter, info *workflowpb.WorkflowExecutionInfo) described {
	d := described{info: info}
	if d.err = limiter.Wait(ctx); d.err != nil {
		return d
	}
	if sc.s.Fleet != nil {
		sc.s.Fleet.DescribeCalls.Inc()
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d.resp, d.err = sc.svc.DescribeWorkflowExecution(dctx, &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: sc.ns, Execution: info.GetExecution(),
	})
	if d.err == nil && d.resp.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		d.err = errClosedSinceListed // it shows in the closes
	}
	var nf *serviceerror.NotFound
	if d.err != nil && !errors.Is(d.err, errClosedSinceListed) && !errors.As(d.err, &nf) {
		sc.s.log().Warn("sentinel: describe failed; its problems are kept as they were",
			zap.String("workflow_id", info.GetExecution().GetWorkflowId()), zap.Error(d.err))
	}
	return d
}

var errClosedSinceListed = errors.New("closed since listed")

// statusWord is the outcome label of a closed run, "running" for an
// open one.
func statusWord(s enumspb.WorkflowExecutionStatus) string {
	if w := metrics.OutcomeStatus(s); w != "" {
		return w
	}
	if s == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "running"
	}
	return "unknown"
}

// closedRun counts a run that closed, writes Temporal's record of its end
// into lineage, and raises the alert an ending outside workflow code
// deserves.
func (sc *scan) closedRun(ctx context.Context, info *workflowpb.WorkflowExecutionInfo) error {
	ex := info.GetExecution()
	typ := info.GetType().GetName()
	status := statusWord(info.GetStatus())
	started, closedAt := timeOf(info.GetStartTime()), timeOf(info.GetCloseTime())
	sc.st.count(ex.GetRunId(), sc.pipeline(typ), status, started, closedAt)

	var end ending
	if status != "completed" && status != "continued_as_new" {
		// History reads share the describe rate limit.
		if err := sc.s.rateLimiter(sc.cfg.DescribeRate).Wait(ctx); err != nil {
			return fmt.Errorf("sentinel: %w", err)
		}
		var err error
		if end, err = readEnding(ctx, sc.svc, sc.ns, ex); err != nil {
			sc.s.log().Warn("sentinel: history of a closed run not read", zap.String("workflow_id", ex.GetWorkflowId()), zap.Error(err))
		}
	}
	if end.text == "" && status != "completed" && status != "continued_as_new" {
		end.text = status
	}
	sc.writeLineage(info, status, end)

	a := alerts.Alert{
		Type: alerts.WorkflowFailure, Severity: alerts.Critical, Labels: map[string]string{"pipeline": typ},
		Source: alerts.Source{WorkflowID: ex.GetWorkflowId(), RunID: ex.GetRunId()}, At: closedAt,
		Details: fmt.Sprintf("workflow %s run %s on task queue %s, after %s", ex.GetWorkflowId(), ex.GetRunId(), info.GetTaskQueue(),
			closedAt.Sub(started).Round(time.Second)),
	}
	if len(end.openSteps) > 0 {
		a.Details += fmt.Sprintf("; steps left open: %s", openStepNames(end.openSteps))
	}
	switch status {
	case "failed":
		a.Summary = fmt.Sprintf("pipeline %s failed: %s", typ, end.text)
		a.Details = "error type " + end.errType + "; " + a.Details
		a.Occurrence = alerts.WorkflowFailedOccurrence(ex.GetRunId())
	case "terminated":
		a.Severity = sc.cfg.TerminatedSeverity
		a.Labels["problem"] = alerts.ProblemTerminated
		a.Summary = fmt.Sprintf("pipeline %s %s", typ, end.text)
		if len(end.openSteps) > 0 {
			a.Summary += fmt.Sprintf(" (while %s ran)", openStepNames(end.openSteps))
		}
		a.Occurrence = "terminated:" + ex.GetRunId()
	case "timed_out":
		a.Labels["problem"] = alerts.ProblemTimedOut
		a.Summary = fmt.Sprintf("pipeline %s %s", typ, end.text)
		if len(end.openSteps) > 0 {
			a.Summary += fmt.Sprintf(" (while %s ran)", openStepNames(end.openSteps))
		}
		a.Occurrence = "timed_out:" + ex.GetRunId()
	default:
		return nil
	}
	if sc.s.Fleet != nil {
		sc.s.Fleet.Detections.WithLabelValues(status).Inc()
	}
	sc.s.log().Info("sentinel: pipeline ended badly", zap.String("workflow_id", ex.GetWorkflowId()), zap.String("run_id", ex.GetRunId()),
		zap.String("pipeline", typ), zap.String("status", status), zap.String("alert_key", a.Key()), zap.String("reason", end.text))
	return sc.raise(ctx, a)
}

func openStepNames(steps []openStep) string {
	s := ""
	for i, st := range steps {
		if i > 0 {
			s += ", "
		}
		s += st.activityType
	}
	return s
}

// writeLineage records a closed run's end, and its open steps' abort, as
// Temporal recorded them.
func (sc *scan) writeLineage(info *workflowpb.WorkflowExecutionInfo, status string, end ending) {
	if sc.s.Lineage == nil {
		return
	}
	ex := info.GetExecution()
	state := map[string]string{
		"completed": lineage.StateComplete, "continued_as_new": lineage.StateComplete, "failed": lineage.StateFail,
		"timed_out": lineage.StateFail, "terminated": lineage.StateAbort, "canceled": lineage.StateAbort,
	}[status]
	if state == "" {
		return
	}
	closedAt := timeOf(info.GetCloseTime())
	runs := []lineage.Run{{
		RunID: ex.GetRunId(), JobKey: info.GetType().GetName(), State: state, StartedAt: timeOf(info.GetStartTime()), EndedAt: closedAt,
		WorkflowID: ex.GetWorkflowId(), ParentRunID: info.GetParentExecution().GetRunId(), Error: end.text, Final: true,
	}}
	for _, s := range end.openSteps {
		runs = append(runs, lineage.Run{
			RunID: lineage.ActivityRunID(ex.GetRunId(), s.activityID), JobKey: s.activityType, State: lineage.StateAbort,
			StartedAt: s.scheduled, EndedAt: closedAt, WorkflowID: ex.GetWorkflowId(), ParentRunID: ex.GetRunId(),
			Error: "pipeline " + status, Final: true,
		})
	}
	recs := make([][]byte, len(runs))
	for i, r := range runs {
		recs[i] = r.AppendJSON(nil)
	}
	if err := sc.s.Lineage.Append(recs...); err != nil {
		sc.s.log().Error("sentinel: lineage events not spooled; kept to try again at the next scan", zap.String("run_id", ex.GetRunId()),
			zap.String("status", status), zap.Error(err))
		sc.keepUnspooled(recs)
	}
}

// keepUnspooled keeps records for the next scans, counting and logging
// the ones given up.
func (sc *scan) keepUnspooled(recs [][]byte) {
	lost := sc.st.keepUnspooled(recs)
	if lost == 0 {
		return
	}
	if m := sc.s.LineageMetrics; m != nil {
		m.EventsRefused.Add(float64(lost))
	}
	sc.s.log().Error("sentinel: lineage events given up: more than the sentinel keeps are waiting for the spool",
		zap.Int("events", lost), zap.Int("kept", MaxUnspooled))
}

// respool offers the spool the records earlier scans could not write.
func (sc *scan) respool() {
	if sc.s.Lineage == nil || len(sc.st.Unspooled) == 0 {
		return
	}
	recs := make([][]byte, len(sc.st.Unspooled))
	for i, r := range sc.st.Unspooled {
		recs[i] = r
	}
	if err := sc.s.Lineage.Append(recs...); err != nil {
		sc.s.log().Warn("sentinel: lineage events still not spooled; kept", zap.Int("events", len(recs)), zap.Error(err))
		return
	}
	sc.s.log().Info("sentinel: lineage events kept since an earlier scan are spooled", zap.Int("events", len(recs)))
	sc.st.Unspooled = nil
}

// raise sends an alert through the alert workflows.
func (sc *scan) raise(ctx context.Context, a alerts.Alert) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := alerts.Raise(rctx, sc.client, sc.s.Raiser.TaskQueue, sc.s.Raiser.Policy, a); err != nil {
		return fmt.Errorf("sentinel: %w", err)
	}
	sc.sum.Raised++
	return nil
}

// taskQueuePollers counts the pollers of a task queue (cached per scan).
func (sc *scan) taskQueuePollers(ctx context.Context, name string, typ enumspb.TaskQueueType) (int, error) {
	key := typ.String() + "/" + name
	if n, ok := sc.pollers[key]; ok {
		return n, nil
	}
	resp, err := sc.svc.DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace: sc.ns, TaskQueue: &taskqueuepb.TaskQueue{Name: name, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, TaskQueueType: typ,
	})
	if err != nil {
		return 0, fmt.Errorf("sentinel: describe task queue %s: %w", name, err)
	}
	sc.pollers[key] = len(resp.GetPollers())
	return sc.pollers[key], nil
}

// exec is a run's execution.
func exec(p Problem) *commonpb.WorkflowExecution {
	return &commonpb.WorkflowExecution{WorkflowId: p.WorkflowID, RunId: p.RunID}
}
