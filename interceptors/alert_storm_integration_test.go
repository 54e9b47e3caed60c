//go:build integration

package interceptors_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/internal/devserver"
)

// TestAlertStormPastTheSignalLimitIntegration fires one alert 1,000
// times, 32 at a time, on a dev server of its own whose runs take at most
// 200 signals: the alert workflow reaches the limit before it can continue
// as new, and Raise used to return the server's refusal, losing the fire
// (make bench's storm lost 15,000 of 25,000 fires, the escalation among
// them). Every fire must be counted, with exactly the first notification,
// the escalation (fire 600, critical) and one summary.
func TestAlertStormPastTheSignalLimitIntegration(t *testing.T) {
	tc, _ := devserver.StartWith(t, alerts.SearchAttributeNames(), "history.maximumSignalsPerExecution=200")
	rec := &webhookReceiver{}
	hook := httptest.NewServer(rec)
	defer hook.Close()
	const queue, fires, escalateAt = "alert-storm", 1000, 600
	policy := alerts.Policy{Cooldown: 30 * time.Second, ContinueAfter: 100, Routes: []alerts.Route{{Channels: []string{"webhook"}}}}
	raiser := &alerts.Raiser{TaskQueue: queue, Policy: policy}
	w := worker.New(tc, queue, worker.Options{})
	alerts.Register(w, raiser, &alerts.Notifiers{Channels: map[string]alerts.Notifier{"webhook": alerts.WebhookNotifier{URL: hook.URL}}})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	storm := alerts.Alert{Type: alerts.DataDrift, Severity: alerts.Warning, Labels: map[string]string{"feature": "mmse"}, Summary: "PSI over 0.25"}
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 32 {
		wg.Go(func() {
			for n := next.Add(1); n <= fires; n = next.Add(1) {
				a := storm
				if n == escalateAt {
					a.Severity, a.Summary = alerts.Critical, "PSI over 0.5"
				}
				if err := alerts.Raise(ctx, tc, queue, policy, a); err != nil {
					t.Errorf("fire %d: %v", n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took >= policy.Cooldown {
		t.Fatalf("the storm took %s, longer than the %s cooldown", took, policy.Cooldown)
	}
	var st alerts.State
	if err := tc.GetWorkflow(ctx, storm.WorkflowID(), "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	got := rec.lines()
	t.Logf("%d fires in %s; notifications %q", fires, time.Since(start).Round(time.Millisecond), got)
	if st.Count != fires {
		t.Errorf("the alert counted %d occurrences, want %d", st.Count, fires)
	}
	// Concurrent fires arrive in any order: the escalation is counted
	// wherever fire 600 landed, the summary closes at the last.
	if len(got) != 3 || !strings.HasPrefix(got[0], "data_drift critical escalation ") ||
		!strings.HasSuffix(got[1], fmt.Sprintf(" count=%d", fires)) || !strings.HasPrefix(got[1], "data_drift critical repeat_summary ") ||
		got[2] != "data_drift warning first repeats=0 count=1" {
		t.Errorf("notifications %q, want the first, the escalation and one summary closing at %d", got, fires)
	}
}
