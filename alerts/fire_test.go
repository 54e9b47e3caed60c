package alerts

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// scriptedStarter answers SignalWithStartWorkflow with its errors in turn,
// then with success, and counts the calls.
type scriptedStarter struct {
	errs  []error
	calls int
}

func (s *scriptedStarter) SignalWithStartWorkflow(context.Context, string, string, any, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
	s.calls++
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return nil, err
	}
	return nil, nil
}

// A storm of fires brought the alert workflow's run to the server's
// 10,000 signals before it could continue as new; Raise returned the
// server's InvalidArgument and the fire was lost, the escalation with it
// (make bench: "the alert counted 10000 occurrences, want 25000").
func TestRaiseWaitsOutTheSignalLimit(t *testing.T) {
	limit := serviceerror.NewInvalidArgument("exceeded workflow execution limit for signal events")
	other := serviceerror.NewInvalidArgument("blob size exceeds limit")
	a := Alert{Type: DataDrift, Severity: Warning, Summary: "PSI over 0.25"}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		errs      []error
		wantCalls int
		wantErr   string // a part of it; empty: none
	}{
		{"taken at once", context.Background(), nil, 1, ""},
		{"taken by the next run after three refusals", context.Background(), []error{limit, limit, limit}, 4, ""},
		{"another invalid argument is no limit", context.Background(), []error{other}, 1, "blob size exceeds limit"},
		{"the caller gives up", cancelled, []error{limit}, 1, "is at the server's signal limit, waiting for its next run: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scriptedStarter{errs: tt.errs}
			err := Raise(tt.ctx, s, "alerts", Policy{}, a)
			if s.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", s.calls, tt.wantCalls)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Raise = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Raise = %v, want an error with %q", err, tt.wantErr)
			}
			if tt.ctx.Err() != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Raise = %v, want it to wrap context.Canceled", err)
			}
		})
	}
}

func TestSignalLimitIsKnownThroughWrapping(t *testing.T) {
	err := errors.Join(errors.New("x"), serviceerror.NewInvalidArgument("exceeded workflow execution limit for signal events"))
	if !signalLimit(err) || signalLimit(serviceerror.NewResourceExhausted(0, "limit for signal events")) {
		t.Fatal("signalLimit: wrong answer")
	}
}
