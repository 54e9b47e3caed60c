//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/workflows"
)

// TestRunDriftSchedule creates the drift monitor's Temporal Schedule with
// the CLI and reads it back from the server.
func TestRunDriftSchedule(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.Temporal(t, cfg)
	queue := testenv.Name(t)
	batch := filepath.Join(t.TempDir(), queue+".csv")
	if err := os.WriteFile(batch, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"run", "drift", "--batch", batch, "--schedule", "1h", "--temporal-task-queue", queue, "--temporal-namespace", cfg.Temporal.Namespace})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := "pipewatch-drift-" + strings.TrimSuffix(filepath.Base(batch), ".csv")
	h := tc.ScheduleClient().GetHandle(context.Background(), id)
	defer func() { _ = h.Delete(context.Background()) }()
	d, err := h.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	action, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.Workflow != workflows.DriftMonitorName || action.TaskQueue != queue ||
		len(d.Schedule.Spec.Intervals) != 1 || d.Schedule.Spec.Intervals[0].Every != time.Hour {
		t.Errorf("schedule: action %+v, spec %+v", d.Schedule.Action, d.Schedule.Spec)
	}
	if !strings.Contains(out.String(), "Schedule "+id+" checks "+batch+" every 1h0m0s") {
		t.Errorf("output: %s", out.String())
	}
	// A second create names the existing schedule.
	root = newRoot()
	root.SetArgs([]string{"run", "drift", "--batch", batch, "--schedule", "1h", "--temporal-task-queue", queue, "--temporal-namespace", cfg.Temporal.Namespace})
	root.SetOut(&out)
	root.SetErr(&out)
	if err := root.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "schedule "+id+" exists already") {
		t.Errorf("second create: %v", err)
	}
}
