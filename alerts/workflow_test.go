package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/logging"
)

// recording is a notifier that keeps what it sent; it fails the first
// failFirst attempts of each message.
type recording struct {
	mu        sync.Mutex
	sent      []Notification
	attempts  map[string]int
	failFirst int
}

func (r *recording) Notify(ctx context.Context, n Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attempts == nil {
		r.attempts = map[string]int{}
	}
	r.attempts[n.IdempotencyKey]++
	if r.attempts[n.IdempotencyKey] <= r.failFirst {
		return errors.New("connection refused")
	}
	r.sent = append(r.sent, n)
	return nil
}

// lines are the sent notifications as "kind seq repeats count severity".
func (r *recording) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.sent {
		out = append(out, fmt.Sprintf("%s #%d repeats=%d count=%d %s", n.Kind, n.Seq, n.Repeats, n.Count, n.Alert.Severity))
	}
	return out
}

func alertAt(sev Severity) Alert {
	return Alert{Type: StepFailure, Severity: sev, Labels: map[string]string{"pipeline": "train", "step": "fit"}, Summary: "fit failed", Occurrence: "x"}
}

// run runs the alert workflow with signals sent at the given offsets.
func run(t *testing.T, rec *recording, policy Policy, signals map[time.Duration][]func(*testsuite.TestWorkflowEnvironment)) (State, *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	ns := &Notifiers{Channels: map[string]Notifier{"log": rec, "webhook": rec}}
	env.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: NotifyActivityName})
	env.RegisterActivityWithOptions(ns.AuditAction, activity.RegisterOptions{Name: AuditActivityName})
	env.RegisterActivityWithOptions(ns.RecordHistory, activity.RegisterOptions{Name: HistoryActivityName})
	for at, fs := range signals {
		for _, f := range fs {
			env.RegisterDelayedCallback(func() { f(env) }, at)
		}
	}
	first := alertAt(Warning)
	first.Occurrence = "first"
	env.ExecuteWorkflow(WorkflowName, Input{Alert: first, Policy: policy})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var st State
	if err := env.GetWorkflowError(); err == nil {
		if err := env.GetWorkflowResult(&st); err != nil {
			t.Fatal(err)
		}
	}
	return st, env
}

// fire sends n occurrences, each a fact of its own (a distinct id).
func fire(sev Severity, n int) func(*testsuite.TestWorkflowEnvironment) {
	tag := newOccurrenceID()
	return func(env *testsuite.TestWorkflowEnvironment) {
		for i := range n {
			a := alertAt(sev)
			a.Occurrence = fmt.Sprintf("%s-%s-%d", sev, tag, i)
			env.SignalWorkflow(SignalFire, a)
		}
	}
}

func signal(name string, arg any) func(*testsuite.TestWorkflowEnvironment) {
	return func(env *testsuite.TestWorkflowEnvironment) { env.SignalWorkflow(name, arg) }
}

func TestAlertWorkflow(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name       string
		signals    map[time.Duration][]func(*testsuite.TestWorkflowEnvironment)
		want       []string
		wantStatus Status
		wantCount  int
	}{
		{
			name:       "one occurrence: notified at once, closed after a quiet cooldown",
			want:       []string{"first #1 repeats=0 count=1 warning"},
			wantStatus: StatusClosed, wantCount: 1,
		},
		{
			name: "ten fires in one cooldown: the first, then one summary of nine",
			signals: map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
				0: {signal(SignalFire, func() Alert { a := alertAt(Warning); a.Occurrence = "first"; return a }())}, // the start's own signal
				m: {fire(Warning, 9)},
			},
			want:       []string{"first #1 repeats=0 count=1 warning", "repeat_summary #2 repeats=9 count=10 warning"},
			wantStatus: StatusClosed, wantCount: 10,
		},
		{
			name: "a rise in severity notifies at once",
			signals: map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
				m:     {fire(Warning, 2)},
				2 * m: {fire(Critical, 1)},
			},
			want:       []string{"first #1 repeats=0 count=1 warning", "escalation #2 repeats=3 count=4 critical"},
			wantStatus: StatusClosed, wantCount: 4,
		},
		{
			name: "silenced: repeats are counted, not sent",
			signals: map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
				m:     {signal(SignalSilence, SilenceRequest{For: time.Hour, By: "ana"})},
				2 * m: {fire(Warning, 5)},
			},
			want:       []string{"first #1 repeats=0 count=1 warning"},
			wantStatus: StatusClosed, wantCount: 6,
		},
		{
			name: "acknowledged: repeats held back until the severity rises",
			signals: map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
				m:     {signal(SignalAck, ActionRequest{By: "ana"})},
				2 * m: {fire(Warning, 3)},
				8 * m: {fire(Critical, 1)},
			},
			want:       []string{"first #1 repeats=0 count=1 warning", "escalation #2 repeats=1 count=5 critical"},
			wantStatus: StatusClosed, wantCount: 5,
		},
		{
			name: "resolved: told, and the workflow ends",
			signals: map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
				m:     {fire(Warning, 2)},
				2 * m: {signal(SignalResolve, ActionRequest{By: "ana", Reason: "disk replaced"})},
			},
			want:       []string{"first #1 repeats=0 count=1 warning", "resolved #2 repeats=2 count=3 warning"},
			wantStatus: StatusResolved, wantCount: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recording{}
			st, env := run(t, rec, Policy{}, tt.signals)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			if got := rec.lines(); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("notifications:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if st.Status != tt.wantStatus || st.Count != tt.wantCount || st.Pending != 0 {
				t.Errorf("state: %s, count %d, pending %d; want %s, %d, 0", st.Status, st.Count, st.Pending, tt.wantStatus, tt.wantCount)
			}
		})
	}
}

func TestAlertWorkflowNotifierRetriedSendsOnce(t *testing.T) {
	rec := &recording{failFirst: 2}
	st, env := run(t, rec, Policy{Channels: map[string]ChannelPolicy{"log": {MaxAttempts: 3, InitialInterval: time.Second}}}, nil)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := rec.lines(); len(got) != 1 || rec.attempts[st.Key+"/1/log"] != 3 {
		t.Errorf("sent %v after %v attempts, want one after 3", got, rec.attempts)
	}
	var notified []string
	for _, e := range st.History {
		notified = append(notified, e.Event)
	}
	if strings.Join(notified, ",") != "fired,notified,closed" {
		t.Errorf("history = %v", notified)
	}
}

func TestAlertWorkflowRecordsFailedChannel(t *testing.T) {
	rec := &recording{failFirst: 9}
	st, env := run(t, rec, Policy{Channels: map[string]ChannelPolicy{"log": {MaxAttempts: 2}}}, nil)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var failed []Entry
	for _, e := range st.History {
		if e.Event == "notify_failed" {
			failed = append(failed, e)
		}
	}
	if len(failed) != 1 || failed[0].Channel != "log" || !strings.Contains(failed[0].Detail, "connection refused") {
		t.Errorf("failed notifications in history: %+v", failed)
	}
}

func TestAlertWorkflowContinuesAsNewWithItsState(t *testing.T) {
	rec := &recording{}
	signals := map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){}
	for i := 1; i <= 6; i++ { // a repeat in each of six cooldowns
		signals[time.Duration(i)*5*time.Minute-time.Second] = []func(*testsuite.TestWorkflowEnvironment){fire(Warning, 1)}
	}
	_, env := run(t, rec, Policy{ContinueAfter: 45}, signals)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow error %v, want continue-as-new", err)
	}
	var in Input
	if err := converterArgs(can, &in); err != nil {
		t.Fatal(err)
	}
	// The estimate passes 45 events (a history record, 3 events, with the
	// first occurrence and each summary) with the sixth repeat, a second before
	// the sixth cooldown ends: the first occurrence and four summaries are
	// told, the sixth repeat is pending, and the next run waits out the
	// second left of the cooldown (it does not start a new one).
	start := env.Now().Add(-30*time.Minute + time.Second)
	if in.State == nil || in.State.Count != 6 || in.State.Seq != 5 || len(rec.lines()) != 5 || in.State.Pending != 1 ||
		!in.State.CooldownUntil.Equal(start.Add(30*time.Minute)) ||
		in.State.Status != StatusOpen || in.State.Key != alertAt(Warning).Key() || in.State.FirstOccurrence != "first" {
		t.Errorf("carried state %+v after %d notifications", in.State, len(rec.lines()))
	}
}

// A run that continues a cooldown cut short (its predecessor's history
// filled up in a storm) waits out only what is left of it, then tells the
// repeats it carried in one summary.
func TestAlertWorkflowGoesOnWithACutCooldown(t *testing.T) {
	rec := &recording{}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	ns := &Notifiers{Channels: map[string]Notifier{"log": rec}}
	env.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: NotifyActivityName})
	env.RegisterActivityWithOptions(ns.RecordHistory, activity.RegisterOptions{Name: HistoryActivityName})
	a := alertAt(Critical)
	st := State{Key: a.Key(), Type: a.Type, Severity: Critical, Labels: a.Labels, Summary: "fit failed", Status: StatusOpen,
		Count: 20001, Pending: 4999, Seq: 2, FirstAt: env.Now().Add(-4 * time.Minute), LastAt: env.Now(),
		CooldownUntil: env.Now().Add(time.Minute)}
	start := env.Now()
	env.ExecuteWorkflow(WorkflowName, Input{Alert: a, State: &st})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got State
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	want := []string{"repeat_summary #3 repeats=4999 count=20001 critical"}
	if strings.Join(rec.lines(), "\n") != strings.Join(want, "\n") || got.Status != StatusClosed {
		t.Errorf("notifications %q, status %s; want %q then closed", rec.lines(), got.Status, want)
	}
	// The summary came when the carried cooldown ended (1m), then one full
	// quiet cooldown (5m) closed the alert.
	if took := env.Now().Sub(start).Round(time.Second); took != 6*time.Minute {
		t.Errorf("the run took %s, want 6m (1m left of the cooldown, then a quiet one)", took)
	}
}

func converterArgs(can *workflow.ContinueAsNewError, into *Input) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, into)
}

func TestAlertActionsGoToTheAuditLog(t *testing.T) {
	dir := t.TempDir()
	logs, err := logging.New(logging.Options{Dir: dir, Console: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	ns := &Notifiers{Channels: map[string]Notifier{"log": &recording{}}, Audit: logs.Audit}
	env.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: NotifyActivityName})
	env.RegisterActivityWithOptions(ns.AuditAction, activity.RegisterOptions{Name: AuditActivityName})
	env.RegisterActivityWithOptions(ns.RecordHistory, activity.RegisterOptions{Name: HistoryActivityName})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalAck, ActionRequest{By: "ana", Reason: "on it"}) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalSilence, SilenceRequest{For: time.Hour, By: "ben"}) }, 2*time.Minute)
	env.ExecuteWorkflow(WorkflowName, Input{Alert: alertAt(Warning)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for line := range strings.Lines(string(b)) {
		var r struct {
			Event, Actor string
			Details      map[string]any
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %v", r.Event, r.Actor, r.Details["action"]))
	}
	want := []string{"alert_notification pipewatch <nil>", "alert_acknowledgement ana ack", "alert_action ben silence"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPolicyCooldownAndChannels(t *testing.T) {
	p := Policy{
		Cooldown:  5 * time.Minute,
		Cooldowns: map[string]time.Duration{"data_drift": time.Hour, "data_drift:critical": 10 * time.Minute, ":critical": time.Minute},
		Routes: []Route{
			{Types: []Type{DataDrift, ModelDegradation}, Channels: []string{"email"}},
			{MinSeverity: Critical, Channels: []string{"alertmanager", "webhook"}},
			{Channels: []string{"log"}},
		},
	}
	tests := []struct {
		t        Type
		s        Severity
		cooldown time.Duration
		channels string
	}{
		{DataDrift, Warning, time.Hour, "email"},
		{DataDrift, Critical, 10 * time.Minute, "email"},
		{StepFailure, Critical, time.Minute, "alertmanager,webhook"},
		{StepFailure, Warning, 5 * time.Minute, "log"},
		{ModelDegradation, Info, 5 * time.Minute, "email"},
	}
	for _, tt := range tests {
		if got := p.cooldown(tt.t, tt.s); got != tt.cooldown {
			t.Errorf("cooldown(%s, %s) = %s, want %s", tt.t, tt.s, got, tt.cooldown)
		}
		if got := strings.Join(p.channels(tt.t, tt.s), ","); got != tt.channels {
			t.Errorf("channels(%s, %s) = %s, want %s", tt.t, tt.s, got, tt.channels)
		}
	}
}

func TestAlertWorkflowCountsAnOccurrenceOnce(t *testing.T) {
	rec := &recording{}
	dup := alertAt(Warning)
	dup.Occurrence = "seen-from-two-places"
	st, env := run(t, rec, Policy{}, map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
		time.Minute:     {signal(SignalFire, dup)},
		2 * time.Minute: {signal(SignalFire, dup), fire(Warning, 1)},
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	// The first occurrence, the one raised twice, and one more.
	want := []string{"first #1 repeats=0 count=1 warning", "repeat_summary #2 repeats=2 count=3 warning"}
	if got := rec.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") || st.Count != 3 {
		t.Errorf("count %d, notifications:\n%s\nwant count 3 and\n%s", st.Count, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAlertWorkflowHeldStaysOpenUntilResolved(t *testing.T) {
	rec := &recording{}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	ns := &Notifiers{Channels: map[string]Notifier{"log": rec}}
	env.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: NotifyActivityName})
	env.RegisterActivityWithOptions(ns.AuditAction, activity.RegisterOptions{Name: AuditActivityName})
	env.RegisterActivityWithOptions(ns.RecordHistory, activity.RegisterOptions{Name: HistoryActivityName})
	// Four quiet cooldowns, then the condition clears.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalResolve, ActionRequest{By: "pipewatch-sentinel", Reason: "step completed on attempt 9"})
	}, 21*time.Minute)
	held := alertAt(Warning)
	held.Hold = true
	env.ExecuteWorkflow(WorkflowName, Input{Alert: held})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st State
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	want := []string{"first #1 repeats=0 count=1 warning", "resolved #2 repeats=0 count=1 warning"}
	if got := rec.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") || st.Status != StatusResolved {
		t.Fatalf("status %s, notifications:\n%s\nwant resolved and\n%s", st.Status, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := rec.sent[1].Text(); !strings.HasSuffix(got, "(1 occurrences) by pipewatch-sentinel: step completed on attempt 9") {
		t.Errorf("resolved text %q does not say who resolved it and why", got)
	}
}

// A fire that comes after resolve, while the resolve notification is still
// being retried, opens a new alert: it used to be counted into the resolved
// one and never told.
func TestAlertWorkflowFireAfterResolveOpensANewAlert(t *testing.T) {
	rec := &recording{failFirst: 2} // each notification takes two retries
	later := alertAt(Critical)
	later.Occurrence = "after-resolve"
	later.Summary = "fit failed again"
	st, env := run(t, rec, Policy{Channels: map[string]ChannelPolicy{"log": {MaxAttempts: 5, InitialInterval: 2 * time.Second}}},
		map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
			time.Minute:                   {signal(SignalResolve, ActionRequest{By: "ana"})},
			time.Minute + 2*time.Second:   {signal(SignalFire, later)},
			time.Minute + 3*time.Second:   {signal(SignalAck, ActionRequest{By: "ana"})}, // about the resolved alert: ignored
			time.Minute + 500*time.Second: {},
		})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow error %v (state %s, count %d), want continue-as-new into a new alert", err, st.Status, st.Count)
	}
	var in Input
	if err := converterArgs(can, &in); err != nil {
		t.Fatal(err)
	}
	if in.State != nil || in.Alert.Occurrence != "after-resolve" || in.Alert.Severity != Critical || len(in.Backlog) != 0 {
		t.Errorf("next run's input: state %+v, alert %+v, backlog %d; want a fresh alert from the fire after resolve", in.State, in.Alert, len(in.Backlog))
	}
}

// Alert workflows recorded before occurrences were counted once (a
// duplicate counted twice, a fire after resolve folded in) replay unchanged.
func TestAlertWorkflowReplaysHistoryFromBeforeOccurrences(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/alert-before-occurrences.history.json"); err != nil {
		t.Fatal(err)
	}
}
