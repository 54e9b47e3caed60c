//go:build integration

package interceptors_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
)

// webhookReceiver is the alert webhook's far end: a real HTTP server that
// keeps the notifications it got, with the time each arrived.
type webhookReceiver struct {
	mu   sync.Mutex
	got  []alerts.Notification
	when []time.Time
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var n alerts.Notification
	body, _ := io.ReadAll(req.Body)
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got, r.when = append(r.got, n), append(r.when, time.Now())
	r.mu.Unlock()
}

func (r *webhookReceiver) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got {
		out = append(out, fmt.Sprintf("%s %s %s repeats=%d count=%d", n.Alert.Type, n.Alert.Severity, n.Kind, n.Repeats, n.Count))
	}
	slices.Sort(out)
	return out
}

// failingPipeline runs one step that fails both its attempts.
func failingPipeline(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2, InitialInterval: 100 * time.Millisecond},
	})
	return workflow.ExecuteActivity(ctx, "alert-it.train").Get(ctx, nil)
}

func TestFailuresRaiseAlertsIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.Temporal(t, cfg)
	rec := &webhookReceiver{}
	hook := httptest.NewServer(rec)
	defer hook.Close()

	queue := testenv.Name(t)
	pipeline := "alert-it.pipeline-" + queue // its own alert keys
	raiser := &alerts.Raiser{TaskQueue: queue, Policy: alerts.Policy{
		Cooldown:         10 * time.Second, // both runs fit in it even on a loaded machine under -race
		Routes:           []alerts.Route{{Channels: []string{"webhook"}}},
		Channels:         map[string]alerts.ChannelPolicy{"webhook": {MaxAttempts: 3}},
		SearchAttributes: true,
	}}
	ns := &alerts.Notifiers{Channels: map[string]alerts.Notifier{"webhook": alerts.WebhookNotifier{URL: hook.URL}}}
	ic := interceptors.New(interceptors.Options{
		Observers:             []interceptors.Observer{interceptors.NewAlertObserver(raiser, 0, zap.NewNop())},
		WorkflowFailureAlerts: true,
		Raiser:                raiser,
	})
	w := worker.New(tc, queue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{ic}})
	w.RegisterWorkflowWithOptions(failingPipeline, workflow.RegisterOptions{Name: pipeline})
	w.RegisterActivityWithOptions(func(ctx context.Context) error {
		// A step raising its own alert before failing.
		if err := alerts.Fire(ctx, alerts.Alert{Type: alerts.DataQuality, Severity: alerts.Warning,
			Labels: map[string]string{"pipeline": pipeline, "check": "gpu-memory"}, Summary: "batch too large for the GPU"}); err != nil {
			return err
		}
		return temporal.NewApplicationError("CUDA out of memory", "OOM")
	}, activity.RegisterOptions{Name: "alert-it.train"})
	alerts.Register(w, raiser, ns)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Two failing runs inside one cooldown.
	var failedAt time.Time
	var first client.WorkflowRun
	for i := range 2 {
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", queue, i), TaskQueue: queue}, pipeline)
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err == nil {
			t.Fatal("the pipeline succeeded")
		}
		if i == 0 {
			failedAt, first = time.Now(), run
		}
	}
	step := alerts.Alert{Type: alerts.StepFailure, Labels: map[string]string{"pipeline": pipeline, "step": "alert-it.train"}}
	wf := alerts.Alert{Type: alerts.WorkflowFailure, Labels: map[string]string{"pipeline": pipeline}}
	dq := alerts.Alert{Type: alerts.DataQuality, Labels: map[string]string{"pipeline": pipeline, "check": "gpu-memory"}}
	// The step's own alert: four attempts over two runs, one workflow.
	var dqState alerts.State
	if err := tc.GetWorkflow(ctx, dq.WorkflowID(), "").Get(ctx, &dqState); err != nil || dqState.Count != 4 || dqState.Seq != 2 {
		t.Errorf("the step's data_quality alert: %+v, %v; want 4 occurrences, 2 notifications", dqState, err)
	}
	// Both alert workflows close after a quiet cooldown; their results are
	// their final states.
	for _, a := range []alerts.Alert{step, wf} {
		var st alerts.State
		if err := tc.GetWorkflow(ctx, a.WorkflowID(), "").Get(ctx, &st); err != nil {
			t.Fatalf("alert workflow %s: %v", a.WorkflowID(), err)
		}
		var events []string
		for _, e := range st.History {
			events = append(events, e.Event)
		}
		if st.Count != 2 || st.Status != alerts.StatusClosed || st.Seq != 2 ||
			strings.Join(events, ",") != "fired,notified,notified,closed" {
			t.Errorf("%s: count %d, status %s, seq %d, history %v", a.Type, st.Count, st.Status, st.Seq, events)
		}
	}
	want := []string{
		"data_quality warning first repeats=0 count=1",
		"data_quality warning repeat_summary repeats=3 count=4",
		"step_failure critical first repeats=0 count=1",
		"step_failure critical repeat_summary repeats=1 count=2",
		"workflow_failure critical first repeats=0 count=1",
		"workflow_failure critical repeat_summary repeats=1 count=2",
	}
	if got := rec.lines(); !slices.Equal(got, want) {
		t.Errorf("webhook got:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rec.mu.Lock()
	var firstAt time.Time
	for i, n := range rec.got {
		if n.Alert.Type == alerts.StepFailure && n.Kind == alerts.KindFirst {
			firstAt = rec.when[i]
		}
	}
	rec.mu.Unlock()
	t.Logf("the step failure's first notification came %s after the client saw the run fail (the step's failure comes first)",
		firstAt.Sub(failedAt).Round(time.Millisecond))
	if firstAt.IsZero() || !firstAt.Before(failedAt.Add(time.Minute)) {
		t.Errorf("step failure notified at %s, the run failed at %s; requirement 16.4 wants under a minute", firstAt, failedAt)
	}

	// Replay: the failed run's history holds the alert's version marker
	// and local activity; a worker with alerts on replays it as recorded.
	h := history(t, tc, first)
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: []interceptor.WorkerInterceptor{
		interceptors.New(interceptors.Options{WorkflowFailureAlerts: true}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.RegisterWorkflowWithOptions(failingPipeline, workflow.RegisterOptions{Name: pipeline})
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		t.Errorf("replay with alerts on: %v", err)
	}
}
