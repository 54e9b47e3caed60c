//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/alerts/history"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

// TestAlertHistoryIntegration runs alert workflows on the dev server with
// the history in the tests' Neo4j: a step failure fired three times,
// acknowledged and resolved is one (:Alert) with fires 3, linked to the
// step's run and its pipeline; a data-quality alert fired once closes
// after its cooldown. `alerts history` and `alerts summary` print exactly
// them.
func TestAlertHistoryIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.Temporal(t, cfg)
	d := testenv.Neo4j(t, cfg)
	name := testenv.Name(t)
	pipeline, step := "hist-it."+name, "hist-it.train."+name
	wfRun := "hist-it-run-" + name
	stepRun := lineage.ActivityRunID(wfRun, "5")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The runs the alert is about, as the lineage writer records them.
	base := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	if err := graph.NewStore(d, cfg.Neo4j.Database).WriteRuns(ctx, []lineage.Run{
		{RunID: wfRun, JobKey: pipeline, State: lineage.StateFail, Attempt: 1, StartedAt: base, EndedAt: base.Add(time.Minute), WorkflowID: "wf-" + name},
		{RunID: stepRun, JobKey: step, State: lineage.StateFail, Attempt: 3, StartedAt: base, EndedAt: base.Add(50 * time.Second), WorkflowID: "wf-" + name, ParentRunID: wfRun},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deleteNodes(t, d, cfg, `MATCH (a:Alert {pipeline: $p}) DETACH DELETE a`, map[string]any{"p": pipeline}, 2)
		deleteNodes(t, d, cfg, `MATCH (r:Run) WHERE r.runId IN $ids DETACH DELETE r`, map[string]any{"ids": []string{wfRun, stepRun}}, 2)
		deleteNodes(t, d, cfg, `MATCH (j:Job) WHERE j.key IN $keys DETACH DELETE j`, map[string]any{"keys": []string{pipeline, step}}, 2)
	})

	queue := name
	policy := alerts.Policy{Cooldown: 2 * time.Second}
	w := sdkworker.New(tc, queue, sdkworker.Options{})
	alerts.Register(w, &alerts.Raiser{TaskQueue: queue, Policy: policy}, &alerts.Notifiers{
		Channels: map[string]alerts.Notifier{"log": alerts.LogNotifier{Log: zap.NewNop()}},
		History:  history.NewStore(d, cfg.Neo4j.Database),
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	fail := alerts.Alert{Type: alerts.StepFailure, Severity: alerts.Critical, Labels: map[string]string{"pipeline": pipeline, "step": step},
		Summary: "step train failed after 3 attempts", Source: alerts.Source{WorkflowID: "wf-" + name, RunID: wfRun, ActivityID: "5", Attempt: 3}}
	dq := alerts.Alert{Type: alerts.DataQuality, Severity: alerts.Warning, Labels: map[string]string{"pipeline": pipeline, "check": "nulls"},
		Summary: "12% nulls in amount"}
	for _, id := range []string{fail.WorkflowID(), dq.WorkflowID()} {
		t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), id, "", "test over") }) // ended already unless the test failed
	}
	for i := range 3 {
		a := fail
		a.At, a.Occurrence = base.Add(time.Duration(i)*time.Minute), fmt.Sprintf("o%d", i)
		if err := alerts.Raise(ctx, tc, queue, policy, a); err != nil {
			t.Fatal(err)
		}
	}
	dq.At, dq.Occurrence = base.Add(5*time.Minute), "dq"
	if err := alerts.Raise(ctx, tc, queue, policy, dq); err != nil {
		t.Fatal(err)
	}
	if err := tc.SignalWorkflow(ctx, fail.WorkflowID(), "", alerts.SignalAck, alerts.ActionRequest{By: "ana"}); err != nil {
		t.Fatal(err)
	}
	if err := tc.SignalWorkflow(ctx, fail.WorkflowID(), "", alerts.SignalResolve, alerts.ActionRequest{By: "bo", Reason: "bad batch removed"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []alerts.Alert{fail, dq} { // both workflows end: resolved, closed
		var st alerts.State
		if err := tc.GetWorkflow(ctx, a.WorkflowID(), "").Get(ctx, &st); err != nil {
			t.Fatalf("alert %s: %v", a.Key(), err)
		}
	}

	// Exactly one node per alert, as the workflows left them.
	res, err := neo4j.ExecuteQuery(ctx, d, `
MATCH (a:Alert {pipeline: $p})
OPTIONAL MATCH (a)-[:ABOUT]->(r:Run)
OPTIONAL MATCH (a)-[:ABOUT]->(j:Job)
RETURN a.key AS key, a.state AS state, a.fires AS fires, a.firstFiredAt AS first, a.lastFiredAt AS last, a.resolvedAt AS resolvedAt,
       a.ackedBy AS ackedBy, a.resolvedBy AS resolvedBy, a.resolveReason AS reason, a.closedAt IS NOT NULL AS closed,
       collect(DISTINCT r.runId) AS runs, collect(DISTINCT j.key) AS jobs
ORDER BY a.firstFiredAt`, map[string]any{"p": pipeline}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 {
		t.Fatalf("%d Alert nodes for the pipeline, want 2", len(res.Records))
	}
	got := []string{}
	var resolvedAt time.Time
	for _, r := range res.Records {
		m := r.AsMap()
		first, _ := m["first"].(time.Time)
		last, _ := m["last"].(time.Time)
		if rt, ok := m["resolvedAt"].(time.Time); ok {
			resolvedAt = rt
		}
		got = append(got, fmt.Sprintf("%s %s fires=%d first=%s last=%s resolved=%t acked=%v by=%v reason=%v closed=%v runs=%v jobs=%v",
			m["key"], m["state"], m["fires"], first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339), m["resolvedAt"] != nil,
			m["ackedBy"], m["resolvedBy"], m["reason"], m["closed"], m["runs"], m["jobs"]))
	}
	ts := func(d time.Duration) string { return base.Add(d).Format(time.RFC3339) }
	want := []string{
		fmt.Sprintf("%s resolved fires=3 first=%s last=%s resolved=true acked=ana by=bo reason=bad batch removed closed=false runs=[%s] jobs=[%s]",
			fail.Key(), ts(0), ts(2*time.Minute), stepRun, pipeline),
		fmt.Sprintf("%s closed fires=1 first=%s last=%s resolved=false acked=<nil> by=<nil> reason=<nil> closed=true runs=[] jobs=[%s]",
			dq.Key(), ts(5*time.Minute), ts(5*time.Minute), pipeline),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Alert nodes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ttr := resolvedAt.Sub(base)
	if ttr <= 0 {
		t.Fatalf("resolvedAt %s before the first fire %s", resolvedAt, base)
	}

	// The CLI: history newest first, and the summary.
	since := base.Add(-time.Minute).Format(time.RFC3339)
	lines := strings.Split(strings.TrimSpace(cli(t, cfg, "alerts", "history", "--pipeline", pipeline, "--since", since)), "\n")
	wantLines := [][]string{
		{"OPENED", "KEY", "TYPE", "SEVERITY", "STATE", "FIRES", "LAST", "FIRED", "RESOLVED", "IN", "SUMMARY"},
		append([]string{ts(5 * time.Minute), dq.Key(), "data_quality", "warning", "closed", "1", ts(5 * time.Minute), "-"}, strings.Fields(dq.Summary)...),
		append([]string{ts(0), fail.Key(), "step_failure", "critical", "resolved", "3", ts(2 * time.Minute), formatDuration(ttr)}, strings.Fields(fail.Summary)...),
	}
	if len(lines) != len(wantLines) {
		t.Fatalf("alerts history printed %d lines, want %d:\n%s", len(lines), len(wantLines), strings.Join(lines, "\n"))
	}
	for i, l := range lines {
		if g := strings.Fields(l); strings.Join(g, " ") != strings.Join(wantLines[i], " ") {
			t.Errorf("history line %d: %q\nwant %q", i, g, wantLines[i])
		}
	}
	one := cli(t, cfg, "alerts", "history", "--pipeline", pipeline, "--since", since, "--type", "step_failure", "--json")
	var rows []history.Alert
	if err := json.Unmarshal([]byte(one), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Key != fail.Key() || rows[0].Fires != 3 || rows[0].State != alerts.StatusResolved ||
		!rows[0].ResolvedAt.Equal(resolvedAt) || strings.Join(rows[0].Runs, ",") != stepRun ||
		strings.Join(rows[0].Labels, ",") != "pipeline="+pipeline+",step="+step || rows[0].AckedBy != "ana" {
		t.Errorf("alerts history --type step_failure --json = %+v", rows)
	}

	sum := cli(t, cfg, "alerts", "summary", "--pipeline", pipeline, "--since", since)
	wantSum := [][]string{
		{"alerts", "opened", "since", since, "2", "(4", "fires)"},
		{"resolved", "1,", "mean", "time", "to", "resolve", formatDuration(ttr)},
		{}, {"BY", "TYPE"}, {"data_quality", "1"}, {"step_failure", "1"},
		{}, {"BY", "SEVERITY"}, {"critical", "1"}, {"warning", "1"},
		{}, {"BY", "STATE"}, {"closed", "1"}, {"resolved", "1"},
	}
	if got := strings.Split(strings.TrimSuffix(sum, "\n"), "\n"); len(got) != len(wantSum) {
		t.Errorf("alerts summary printed %d lines, want %d:\n%s", len(got), len(wantSum), sum)
	} else {
		for i, l := range got {
			if g := strings.Fields(l); strings.Join(g, " ") != strings.Join(wantSum[i], " ") {
				t.Errorf("summary line %d: %q\nwant %q", i, g, wantSum[i])
			}
		}
	}
	// The README's Cypher recipes for the alert history.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "### Alert history\n")
	_, block, ok := strings.Cut(section, "```cypher\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README's alert history has no ```cypher block")
	}
	var recipes []string
	for _, stmt := range strings.Split(block, ";\n") {
		if strings.TrimSpace(stmt) != "" {
			recipes = append(recipes, stmt)
		}
	}
	wantRows := []int{2, 1, 1} // both alerts; the step failure's type; the alert about the run's step
	if len(recipes) != len(wantRows) {
		t.Fatalf("README has %d alert history recipes, the test knows %d", len(recipes), len(wantRows))
	}
	for i, r := range recipes {
		res, err := neo4j.ExecuteQuery(ctx, d, r, map[string]any{"pipeline": pipeline, "runId": wfRun}, neo4j.EagerResultTransformer,
			neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database))
		if err != nil {
			t.Errorf("recipe %d: %v\n%s", i+1, err, r)
			continue
		}
		if len(res.Records) != wantRows[i] {
			t.Errorf("recipe %d returned %d rows, want %d:\n%s", i+1, len(res.Records), wantRows[i], r)
		}
	}

	var js struct {
		Alerts, Fires, Resolved     int64
		ByType, BySeverity, ByState map[string]int64
		MeanTimeToResolveSeconds    float64
	}
	if err := json.Unmarshal([]byte(cli(t, cfg, "alerts", "summary", "--pipeline", pipeline, "--since", since, "--json")), &js); err != nil {
		t.Fatal(err)
	}
	if js.Alerts != 2 || js.Fires != 4 || js.Resolved != 1 || js.MeanTimeToResolveSeconds != ttr.Seconds() ||
		fmt.Sprint(js.ByType, js.BySeverity, js.ByState) != "map[data_quality:1 step_failure:1] map[critical:1 warning:1] map[closed:1 resolved:1]" {
		t.Errorf("alerts summary --json = %+v (time to resolve %s)", js, ttr)
	}
}

// TestWorkerWritesAlertHistoryIntegration: the pipewatch worker, as it
// runs, writes its alerts' history into its Neo4j.
func TestWorkerWritesAlertHistoryIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
	cfg.Alerts.Cooldown = time.Second
	testenv.StartWorker(t, cfg)
	tc := testenv.Temporal(t, cfg)
	d := testenv.Neo4j(t, cfg)
	pipeline := "hist-worker-it." + testenv.Name(t)
	a := alerts.Alert{Type: alerts.Custom, Severity: alerts.Info, Labels: map[string]string{"pipeline": pipeline}, Summary: "hello"}
	t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), a.WorkflowID(), "", "test over") })
	t.Cleanup(func() {
		deleteNodes(t, d, cfg, `MATCH (a:Alert {pipeline: $p}) DETACH DELETE a`, map[string]any{"p": pipeline}, 1)
		deleteNodes(t, d, cfg, `MATCH (j:Job {key: $p}) DETACH DELETE j`, map[string]any{"p": pipeline}, 1)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := alerts.Raise(ctx, tc, cfg.Temporal.TaskQueue, worker.AlertPolicy(cfg.Alerts, false), a); err != nil {
		t.Fatal(err)
	}
	var st alerts.State
	if err := tc.GetWorkflow(ctx, a.WorkflowID(), "").Get(ctx, &st); err != nil { // closed after a quiet second
		t.Fatal(err)
	}
	rows, err := history.NewStore(d, cfg.Neo4j.Database).List(ctx, history.Filter{Pipeline: pipeline, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].State != alerts.StatusClosed || rows[0].Fires != 1 || rows[0].Key != a.Key() || rows[0].ClosedAt.IsZero() {
		t.Errorf("history %+v", rows)
	}
}
