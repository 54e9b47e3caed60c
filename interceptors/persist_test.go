package interceptors

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// flakyPersister fails to make the first fails completions durable, as a
// lineage spool on a full disk would.
type flakyPersister struct {
	BaseObserver
	fails     int
	persisted []string
}

func (p *flakyPersister) PersistActivity(_ context.Context, e *Event) error {
	if p.fails > 0 {
		p.fails--
		return errors.New("append to spool: file too large")
	}
	p.persisted = append(p.persisted, e.Step)
	return nil
}

// A completion that cannot be made durable fails its attempt (retryable),
// so that Temporal runs it again and no lineage is lost; the retry's
// completion is persisted, and the observers see the attempt as failed
// first, then completed.
func TestUndurableCompletionFailsTheAttempt(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	rec, p := &recorder{}, &flakyPersister{fails: 1}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{New(Options{Observers: []Observer{p, rec}})}})
	env.RegisterWorkflowWithOptions(pipelineWorkflow, workflow.RegisterOptions{Name: "train-pipeline"})
	env.RegisterActivityWithOptions(steps{}.featurize, activity.RegisterOptions{Name: "featurize"})
	env.ExecuteWorkflow("train-pipeline", []string{"featurize"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range rec.events {
		if strings.HasPrefix(e, "activity_") {
			steps = append(steps, e)
		}
	}
	want := "activity_started featurize #1,activity_failed featurize #1 err=LineageNotWritten,activity_retried featurize #2,activity_completed featurize #2"
	completed := rec.last[ActivityCompleted]
	if strings.Join(steps, ",") != want || strings.Join(p.persisted, ",") != "featurize" || !completed.Persisted() {
		t.Errorf("events %q, persisted %q\nwant %s", steps, p.persisted, want)
	}
}
