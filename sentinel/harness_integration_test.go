//go:build integration

package sentinel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/metrics"
	"github.com/pipewatch/pipewatch/sentinel"
)

// received is one notification as the webhook's far end got it.
type received struct {
	n  alerts.Notification
	at time.Time
}

// webhook is the alert webhook's far end: a real HTTP server keeping what
// it got, with the arrival time.
type webhook struct {
	mu  sync.Mutex
	got []received
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var n alerts.Notification
	body, _ := io.ReadAll(req.Body)
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, received{n: n, at: time.Now()})
	h.mu.Unlock()
}

// about returns the notifications about a pipeline, oldest first.
func (h *webhook) about(pipeline string) []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []received
	for _, r := range h.got {
		if r.n.Alert.Labels["pipeline"] == pipeline {
			out = append(out, r)
		}
	}
	return out
}

// keys are the alert workflows notifications came from.
func (h *webhook) keys() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, r := range h.got {
		if !seen[r.n.Key] {
			seen[r.n.Key] = true
			out = append(out, r.n.Key)
		}
	}
	return out
}

// harness is one team's setup on the dev server: its own worker running
// its pipelines (with or without the pipewatch interceptor), and a
// pipewatch worker running the alert workflows and the sentinel, scoped to
// the team's task queue. Alerts go to a webhook.
type harness struct {
	t           *testing.T
	tc          client.Client
	tag         string // unique to this harness: pipeline names and queues
	userQueue   string
	pwQueue     string
	sentinelID  string
	interceptor bool
	hook        *webhook
	fleet       *metrics.Fleet
	reg         *prometheus.Registry
	spool       *lineage.Spool
	raiser      *alerts.Raiser
	team        worker.Worker

	mu      sync.Mutex
	started []client.WorkflowRun
}

// newHarness sets up both workers on tc; register the team's pipelines
// with h.team before h.startTeam.
func newHarness(t *testing.T, tc client.Client, withInterceptor bool) *harness {
	t.Helper()
	tag := strings.ReplaceAll(testenv.Name(t), "/", "-")
	h := &harness{
		t: t, tc: tc, tag: tag, userQueue: tag + "-team", pwQueue: tag + "-pipewatch",
		sentinelID: "pipewatch-sentinel-" + tag, interceptor: withInterceptor, hook: &webhook{}, reg: prometheus.NewRegistry(),
	}
	srv := httptest.NewServer(h.hook)
	t.Cleanup(srv.Close)
	var err error
	if h.fleet, err = metrics.NewFleet(h.reg); err != nil {
		t.Fatal(err)
	}
	if h.spool, err = lineage.OpenSpool(t.TempDir(), lineage.SpoolOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.spool.Close() })
	h.raiser = &alerts.Raiser{TaskQueue: h.pwQueue, Policy: alerts.Policy{
		Routes:   []alerts.Route{{Channels: []string{"webhook"}}},
		Channels: map[string]alerts.ChannelPolicy{"webhook": {MaxAttempts: 3}},
	}}

	// pipewatch's worker: alert workflows and the sentinel.
	pw := worker.New(tc, h.pwQueue, worker.Options{})
	alerts.Register(pw, h.raiser, &alerts.Notifiers{Channels: map[string]alerts.Notifier{"webhook": alerts.WebhookNotifier{URL: srv.URL}}})
	log := zap.NewNop()
	if testing.Verbose() {
		log, _ = zap.NewDevelopment()
	}
	watcher := &sentinel.Sentinel{Raiser: h.raiser, Fleet: h.fleet, Lineage: h.spool, Log: log, Identity: "pipewatch-" + tag}
	sentinel.Register(pw, watcher)
	if err := pw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pw.Stop)
	stopHost, err := watcher.StartHost(tc, h.pwQueue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopHost)

	// The team's worker.
	opts := worker.Options{}
	if withInterceptor {
		obs := interceptors.NewAlertObserver(h.raiser, 3, log)
		obs.Adopt = sentinel.Adopter(h.sentinelID)
		opts.Interceptors = []interceptor.WorkerInterceptor{interceptors.New(interceptors.Options{
			Observers:             []interceptors.Observer{obs},
			Raiser:                h.raiser,
			WorkflowFailureAlerts: true,
		})}
	}
	h.team = worker.New(tc, h.userQueue, opts)
	h.team.RegisterActivityWithOptions(h.raiser.FireActivity, activity.RegisterOptions{Name: alerts.FireActivityName})
	t.Cleanup(h.cleanup)
	return h
}

// startTeam starts the team's worker and the sentinel watching its queue.
func (h *harness) startTeam() {
	h.t.Helper()
	if err := h.team.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(h.team.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sentinel.Start(ctx, h.tc, h.pwQueue, h.sentinelID, sentinel.Config{Query: "TaskQueue = '" + h.userQueue + "'"}); err != nil {
		h.t.Fatal(err)
	}
}

// pipeline names a pipeline of this harness.
func (h *harness) pipeline(name string) string { return h.tag + "." + name }

// start starts a pipeline run on the team's queue.
func (h *harness) start(t *testing.T, pipeline string, opts client.StartWorkflowOptions, args ...any) client.WorkflowRun {
	t.Helper()
	opts.ID, opts.TaskQueue = pipeline+"-run", h.userQueue
	run, err := h.tc.ExecuteWorkflow(context.Background(), opts, pipeline, args...)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.started = append(h.started, run)
	h.mu.Unlock()
	return run
}

// waitFor waits until the pipeline has a notification of kind, or fails
// the test at the deadline.
func (h *harness) waitFor(t *testing.T, pipeline, kind string, deadline time.Duration) received {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		for _, r := range h.hook.about(pipeline) {
			if r.n.Kind == kind {
				return r
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no %s notification about %s within %s; got %s", kind, pipeline, deadline, h.describe(pipeline))
	return received{}
}

// describe lists a pipeline's notifications for failure messages.
func (h *harness) describe(pipeline string) string {
	var lines []string
	for _, r := range h.hook.about(pipeline) {
		lines = append(lines, fmt.Sprintf("%s %s %s %v: %s", r.n.Kind, r.n.Alert.Type, r.n.Alert.Severity, r.n.Alert.Labels, r.n.Text()))
	}
	if len(lines) == 0 {
		return "none"
	}
	return "\n  " + strings.Join(lines, "\n  ")
}

// alertsAbout counts the pipeline's notifications that tell of a problem
// (first, escalation, summary: not resolved or closed).
func (h *harness) alertsAbout(pipeline string) int {
	n := 0
	for _, r := range h.hook.about(pipeline) {
		if r.n.Kind == alerts.KindFirst || r.n.Kind == alerts.KindEscalation || r.n.Kind == alerts.KindSummary {
			n++
		}
	}
	return n
}

// fleetValue reads one fleet series as this harness's sentinel exports it.
func (h *harness) fleetValue(t *testing.T, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return metricValue(m), true
		}
	}
	return 0, false
}

// fleetSum adds up every series of one fleet metric.
func (h *harness) fleetSum(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += metricValue(m)
			}
		}
	}
	return sum
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

// lineageRuns reads the lineage events the sentinel spooled.
func (h *harness) lineageRuns(t *testing.T) []lineage.Run {
	t.Helper()
	recs, _, err := h.spool.Read(100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []lineage.Run
	for _, rec := range recs {
		var r lineage.Run
		if err := json.Unmarshal(rec, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// status asks the sentinel workflow for its status.
func (h *harness) status(t *testing.T) sentinel.Status {
	t.Helper()
	v, err := h.tc.QueryWorkflow(context.Background(), h.sentinelID, "", sentinel.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var s sentinel.Status
	if err := v.Get(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// cleanup ends every workflow the harness started: pipelines still open,
// the sentinel, and the alert workflows its notifications came from.
func (h *harness) cleanup() {
	ctx := context.Background()
	var ids []string
	for _, r := range h.started {
		ids = append(ids, r.GetID())
	}
	ids = append(ids, h.sentinelID)
	for _, k := range h.hook.keys() {
		ids = append(ids, alerts.WorkflowIDPrefix+k)
	}
	for _, id := range ids {
		d, err := h.tc.DescribeWorkflow(ctx, id, "")
		if err != nil || d.RawResponse.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			continue
		}
		if err := h.tc.TerminateWorkflow(ctx, id, "", "test over"); err != nil {
			h.t.Errorf("cleanup: terminate %s: %v", id, err)
		}
	}
}

var errFlaky = errors.New("feature store unreachable")
