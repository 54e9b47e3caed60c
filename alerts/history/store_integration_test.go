//go:build integration

package history_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/alerts/history"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/worker"
)

// cleanup deletes the test's Alert nodes (by key) and the nodes its
// records linked them to, checking how many there were.
func cleanup(t *testing.T, d neo4j.DriverWithContext, cfg worker.Config, keys []string, runs []string, jobs []string) {
	t.Helper()
	t.Cleanup(func() {
		for _, q := range []struct {
			cypher string
			params map[string]any
		}{
			{`MATCH (a:Alert) WHERE a.key IN $keys DETACH DELETE a`, map[string]any{"keys": keys}},
			{`MATCH (r:Run) WHERE r.runId IN $ids DETACH DELETE r`, map[string]any{"ids": runs}},
			{`MATCH (j:Job) WHERE j.key IN $keys DETACH DELETE j`, map[string]any{"keys": jobs}},
		} {
			if _, err := neo4j.ExecuteQuery(context.Background(), d, q.cypher, q.params, neo4j.EagerResultTransformer,
				neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database)); err != nil {
				t.Errorf("clean up: %v", err)
			}
		}
	})
}

// Records written twice, and out of order, leave one node as the highest
// revision says, with fires and last fire only growing and a resolved
// alert staying resolved.
func TestWriteAlertIsIdempotentAndOrderedIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	d := testenv.Neo4j(t, cfg)
	s := history.NewStore(d, cfg.Neo4j.Database)
	name := testenv.Name(t)
	key, pipeline, run := "k-"+name, "p-"+name, "r-"+name
	cleanup(t, d, cfg, []string{key}, []string{run}, []string{pipeline})
	first := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	rec := func(rev int, event string, state alerts.Status, fires int) alerts.Record {
		return alerts.Record{ID: alerts.RecordID(key, first), Key: key, WorkflowID: alerts.WorkflowIDPrefix + key, Type: alerts.StepFailure,
			Severity: alerts.Critical, State: state, Summary: "s", Labels: map[string]string{"pipeline": pipeline},
			Source: alerts.Source{RunID: run}, FirstAt: first, LastAt: first.Add(time.Duration(fires) * time.Minute), Fires: fires,
			Event: event, At: first.Add(time.Duration(rev) * time.Hour), By: "ana", Rev: rev}
	}
	ctx := context.Background()
	for _, r := range []alerts.Record{
		rec(1, alerts.RecordFired, alerts.StatusOpen, 1),
		rec(4, alerts.RecordResolved, alerts.StatusResolved, 5),
		rec(2, alerts.RecordAcked, alerts.StatusAcknowledged, 2), // late
		rec(4, alerts.RecordResolved, alerts.StatusResolved, 5),  // again
		rec(3, alerts.RecordRepeated, alerts.StatusAcknowledged, 4),
		rec(1, alerts.RecordFired, alerts.StatusOpen, 1),
	} {
		if err := s.WriteAlert(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(ctx, history.Filter{Pipeline: pipeline, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d alerts, want 1: %+v", len(got), got)
	}
	a := got[0]
	line := fmt.Sprintf("%s %s fires=%d last=%s acked=%s/%s resolved=%s/%s runs=%v", a.ID, a.State, a.Fires, a.LastFiredAt.Format(time.RFC3339),
		a.AckedAt.Format(time.RFC3339), a.AckedBy, a.ResolvedAt.Format(time.RFC3339), a.ResolvedBy, a.Runs)
	want := fmt.Sprintf("%s@2026-11-26T09:00:00Z resolved fires=5 last=2026-11-26T09:05:00Z acked=2026-11-26T11:00:00Z/ana resolved=2026-11-26T13:00:00Z/ana runs=[%s]", key, run)
	if line != want {
		t.Errorf("alert:\n%s\nwant\n%s", line, want)
	}
}

// Records of one alert written at the same time, as an alert workflow's
// history activities run (an ack, then a resolve a few milliseconds
// later), leave the state of the highest revision: a write reads the
// alert's revision only once it holds the alert's lock, so no record
// overwrites a newer one that committed while it waited. Without the
// lock, 18 to 24 of the 30 alerts here ended on an older record.
func TestWriteAlertConcurrentRecordsIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	d := testenv.Neo4j(t, cfg)
	s := history.NewStore(d, cfg.Neo4j.Database)
	name := testenv.Name(t)
	const alertsN, revs = 30, 4
	var keys []string
	for i := range alertsN {
		keys = append(keys, fmt.Sprintf("k%d-%s", i, name))
	}
	cleanup(t, d, cfg, keys, nil, nil)
	ctx := context.Background()
	if err := s.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	states := []alerts.Status{alerts.StatusOpen, alerts.StatusAcknowledged, alerts.StatusSilenced, alerts.StatusClosed}
	events := []string{alerts.RecordFired, alerts.RecordAcked, alerts.RecordSilenced, alerts.RecordClosed}
	for _, key := range keys {
		// The first record creates the node; the rest race on it.
		rec := func(rev int) alerts.Record {
			return alerts.Record{ID: alerts.RecordID(key, first), Key: key, WorkflowID: alerts.WorkflowIDPrefix + key,
				Type: alerts.DataQuality, Severity: alerts.Warning, State: states[rev-1], Summary: "s",
				FirstAt: first, LastAt: first, Fires: 1, Event: events[rev-1], At: first.Add(time.Duration(rev) * time.Minute), Rev: rev}
		}
		if err := s.WriteAlert(ctx, rec(1)); err != nil {
			t.Fatal(err)
		}
		var writes []func() error
		for rev := 2; rev <= revs; rev++ {
			writes = append(writes, func() error { return s.WriteAlert(ctx, rec(rev)) })
		}
		testenv.Together(t, writes...)
	}
	got := testenv.Tally(t, d, cfg, `MATCH (a:Alert) WHERE a.key IN $keys
RETURN a.state + ' rev=' + toString(a.rev) AS line, count(*) AS n ORDER BY line`, map[string]any{"keys": keys})
	if want := []string{fmt.Sprintf("closed rev=%d x%d", revs, alertsN)}; !slices.Equal(got, want) {
		t.Errorf("alerts after concurrent records: %v, want %v", got, want)
	}
}

// flaky is an alert history whose Neo4j is down (a Bolt port nobody
// listens on) until up is set.
type flaky struct {
	down, real *history.Store
	up         atomic.Bool
	mu         sync.Mutex
	failed     int
}

func (f *flaky) WriteAlert(ctx context.Context, r alerts.Record) error {
	if f.up.Load() {
		return f.real.WriteAlert(ctx, r)
	}
	// The driver would retry a refused connection for the whole attempt.
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	err := f.down.WriteAlert(ctx, r)
	f.mu.Lock()
	f.failed++
	f.mu.Unlock()
	return err
}

type notified struct {
	mu    sync.Mutex
	kinds []string
}

func (n *notified) Notify(_ context.Context, x alerts.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.kinds = append(n.kinds, x.Kind)
	return nil
}

func (n *notified) list() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.kinds, ",")
}

// With Neo4j down, an alert is notified at once all the same; its record
// is retried, lands when Neo4j is back, and the workflow ends only then.
func TestAlertHistorySurvivesNeo4jDownIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.Temporal(t, cfg)
	d := testenv.Neo4j(t, cfg)
	name := testenv.Name(t)
	pipeline := "p-" + name

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := l.Addr().String()
	_ = l.Close()
	downCfg := cfg.Neo4j
	downCfg.URI = "bolt://" + deadAddr
	dead, err := worker.OpenNeo4j(downCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dead.Close(context.Background()) }()
	h := &flaky{down: history.NewStore(dead, cfg.Neo4j.Database), real: history.NewStore(d, cfg.Neo4j.Database)}
	n := &notified{}
	queue := name
	policy := alerts.Policy{Cooldown: time.Second}
	w := sdkworker.New(tc, queue, sdkworker.Options{})
	alerts.Register(w, &alerts.Raiser{TaskQueue: queue, Policy: policy}, &alerts.Notifiers{Channels: map[string]alerts.Notifier{"log": n}, History: h})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	a := alerts.Alert{Type: alerts.Custom, Severity: alerts.Warning, Labels: map[string]string{"pipeline": pipeline}, Summary: "disk slow"}
	cleanup(t, d, cfg, []string{a.Key()}, nil, []string{pipeline})
	t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), a.WorkflowID(), "", "test over") })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := alerts.Raise(ctx, tc, queue, policy, a); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); n.list() != "first"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("notifications %q within 5s with Neo4j down, want first", n.list())
		}
	}
	// Past its cooldown the alert is closed, but its workflow waits for
	// the records.
	time.Sleep(4 * time.Second)
	desc, err := tc.DescribeWorkflow(ctx, a.WorkflowID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if desc.RawResponse.GetWorkflowExecutionInfo().GetCloseTime() != nil {
		t.Fatal("alert workflow ended with its records unwritten")
	}
	h.mu.Lock()
	failed := h.failed
	h.mu.Unlock()
	if failed < 2 {
		t.Errorf("%d failed writes while Neo4j was down, want retries", failed)
	}
	h.up.Store(true) // Neo4j is back
	var st alerts.State
	if err := tc.GetWorkflow(ctx, a.WorkflowID(), "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	got, err := h.real.List(ctx, history.Filter{Pipeline: pipeline, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].State != alerts.StatusClosed || got[0].Fires != 1 || got[0].ID != alerts.RecordID(a.Key(), st.FirstAt) {
		t.Errorf("history after Neo4j came back: %+v", got)
	}
	for _, e := range st.History {
		if e.Event == "history_failed" {
			t.Errorf("history entry %+v", e)
		}
	}
}
