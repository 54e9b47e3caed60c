package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/pipewatch/pipewatch/lineage"
)

// Registered names of the demo activities.
const (
	DemoGreetName  = "pipewatch.demo.Greet"
	DemoRecordName = "pipewatch.demo.Record"
)

// RunRecorder stores a run in the lineage graph.
type RunRecorder interface {
	RecordRun(ctx context.Context, run lineage.Run) error
}

// Demo holds the demo steps.
type Demo struct {
	// Runs receives the demo's run record.
	Runs RunRecorder
}

// GreetInput is the input of Greet.
type GreetInput struct {
	Name string
}

// Greet builds a greeting; it stands in for a pipeline step that computes.
func (d *Demo) Greet(ctx context.Context, in GreetInput) (string, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return "", fmt.Errorf("greet: name is empty")
	}
	activity.RecordHeartbeat(ctx, 1)
	return "hello, " + name, nil
}

// RecordInput is the input of Record.
type RecordInput struct {
	WorkflowID string
	RunID      string
	JobKey     string
	StartedAt  time.Time
}

// Record writes the finished demo run to the lineage graph.
func (d *Demo) Record(ctx context.Context, in RecordInput) error {
	return d.Runs.RecordRun(ctx, lineage.Run{
		RunID:      in.RunID,
		JobKey:     in.JobKey,
		State:      lineage.StateComplete,
		StartedAt:  in.StartedAt,
		EndedAt:    time.Now().UTC(),
		WorkflowID: in.WorkflowID,
	})
}
