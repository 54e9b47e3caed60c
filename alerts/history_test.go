package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// historyLog keeps the records written to it; it fails the first
// failFirst attempts of each.
type historyLog struct {
	mu        sync.Mutex
	records   []Record
	attempts  map[int]int
	failFirst int
}

func (h *historyLog) WriteAlert(_ context.Context, r Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.attempts == nil {
		h.attempts = map[int]int{}
	}
	h.attempts[r.Rev]++
	if h.attempts[r.Rev] <= h.failFirst {
		return errors.New("neo4j: connection refused")
	}
	h.records = append(h.records, r)
	return nil
}

// lines are the records as "rev event state severity fires=N by".
func (h *historyLog) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%d %s %s %s fires=%d %s", r.Rev, r.Event, r.State, r.Severity, r.Fires, r.By)))
	}
	return out
}

func runWithHistory(t *testing.T, h History, signals map[time.Duration][]func(*testsuite.TestWorkflowEnvironment)) (State, *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	ns := &Notifiers{Channels: map[string]Notifier{"log": &recording{}}, History: h}
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
	first.At = env.Now()
	env.ExecuteWorkflow(WorkflowName, Input{Alert: first, Policy: Policy{}})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var st State
	if env.GetWorkflowError() == nil {
		if err := env.GetWorkflowResult(&st); err != nil {
			t.Fatal(err)
		}
	}
	return st, env
}

// Every change of an alert writes a whole record of it, numbered; a store
// that is down is retried until it takes them, and the run ends only then.
func TestAlertWorkflowWritesItsHistory(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name      string
		failFirst int
		signals   map[time.Duration][]func(*testsuite.TestWorkflowEnvironment)
		want      []string
	}{
		{
			name: "one occurrence: fired, then closed after a quiet cooldown",
			want: []string{"1 fired open warning fires=1", "2 closed closed warning fires=1"},
		},
		{
			name: "repeats, a rise in severity, ack, resolve",
			signals: map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
				m:     {fire(Warning, 2)},
				2 * m: {fire(Critical, 1)},
				3 * m: {signal(SignalAck, ActionRequest{By: "ana"})},
				4 * m: {fire(Critical, 2)},
				7 * m: {signal(SignalResolve, ActionRequest{By: "bo", Reason: "fixed"})},
			},
			want: []string{
				"1 fired open warning fires=1",
				"2 escalated open critical fires=4",
				"3 acked acknowledged critical fires=4 ana",
				"4 repeated acknowledged critical fires=6",
				"5 resolved resolved critical fires=6 bo",
			},
		},
		{
			name:      "a store down for the first two tries of each record",
			failFirst: 2,
			signals: map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
				m:     {fire(Warning, 2)},
				2 * m: {signal(SignalSilence, SilenceRequest{For: time.Hour, By: "cy"})},
				3 * m: {signal(SignalResolve, ActionRequest{By: "cy"})},
			},
			want: []string{
				"1 fired open warning fires=1",
				"2 silenced silenced warning fires=3 cy",
				"3 resolved resolved warning fires=3 cy",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &historyLog{failFirst: tt.failFirst}
			st, env := runWithHistory(t, h, tt.signals)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			got := h.lines()
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, e := range st.History {
				if e.Event == "history_failed" {
					t.Errorf("history entry %+v", e)
				}
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			for _, r := range h.records {
				if r.ID != RecordID(st.Key, st.FirstAt) || r.Key != st.Key || r.WorkflowID == "" || r.FirstAt.IsZero() {
					t.Errorf("record %d: id %q key %q workflow %q first %s", r.Rev, r.ID, r.Key, r.WorkflowID, r.FirstAt)
				}
			}
			if n := len(h.records); n > 0 && h.records[n-1].State == StatusSilenced && h.records[n-1].SilencedUntil.IsZero() {
				t.Error("silenced record without its end")
			}
		})
	}
}

// A store down for good: the alert is told all the same; after a day of
// tries the record is given up and noted in the alert's history entries.
func TestAlertWorkflowGivesUpAHistoryRecordAfterADay(t *testing.T) {
	h := &historyLog{failFirst: 1 << 30}
	st, env := runWithHistory(t, h, nil)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, e := range st.History {
		if e.Event == "history_failed" {
			failed = append(failed, strings.SplitN(e.Detail, ":", 2)[0])
		}
	}
	if st.Status != StatusClosed || strings.Join(failed, ",") != "fired #1,closed #2" {
		t.Errorf("status %s, history_failed entries %q; want closed, [fired #1 closed #2]", st.Status, failed)
	}
}

// A fire after resolve opens a new alert at once; the resolved alert's
// last record, not yet written, goes with it to be written again.
func TestAlertWorkflowCarriesUnwrittenRecordsToTheNewAlert(t *testing.T) {
	const m = time.Minute
	h := &historyLog{failFirst: 1 << 30}
	_, env := runWithHistory(t, h, map[time.Duration][]func(*testsuite.TestWorkflowEnvironment){
		m:               {signal(SignalResolve, ActionRequest{By: "ana"})},
		m + time.Second: {fire(Critical, 1)},
	})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow error %v, want continue-as-new", err)
	}
	var in Input
	if err := converterArgs(can, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Unwritten) != 1 || in.Unwritten[0].Event != RecordResolved || in.Unwritten[0].Rev != 2 || in.Unwritten[0].State != StatusResolved ||
		in.Alert.Severity != Critical || in.State != nil {
		t.Errorf("new alert %+v carries %+v; want the resolved record #2", in.Alert, in.Unwritten)
	}
}

func TestRecordID(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 30, 0, 123000000, time.FixedZone("CET", 3600))
	if got, want := RecordID("9b2acaa78992958a", at), "9b2acaa78992958a@2026-11-26T08:30:00.123Z"; got != want {
		t.Errorf("RecordID = %q, want %q", got, want)
	}
}

// Alert workflows recorded before the history records replay unchanged:
// one resolved after repeats, a rise in severity, ack and silence; one
// closed after a quiet cooldown.
func TestAlertWorkflowReplaysHistoryFromBeforeRecords(t *testing.T) {
	for _, file := range []string{"testdata/alert-before-history.resolved.history.json", "testdata/alert-before-history.closed.history.json"} {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}
