package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/worker"
)

// newAlertsTestCmd is pipewatch alerts test: a test alert through a
// worker's own routes and channels, and what became of it on each channel.
func newAlertsTestCmd() *cobra.Command {
	var severity string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Send a test alert through a worker's routes and channels and report each channel's delivery",
		Long: `Starts a workflow on the worker's task queue that raises a test alert (type
custom, label test=<id>) with that worker's routes, so the alert goes where a
real alert of that severity would, through the worker's own channel settings.
Waits until every channel it was routed to has sent it or given it up (after
the channel's retries), prints each, then resolves the test alert. Exits 1
unless every channel sent it.`,
		Example: `  pipewatch alerts test
  pipewatch alerts test --severity critical --timeout 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sev := alerts.Severity(severity)
			if sev.Rank() == 0 {
				return fmt.Errorf("--severity %q is not one of info, warning, critical", severity)
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout %s: want a positive duration such as 5m", timeout)
			}
			c, cfg, err := temporalClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return alertTest(ctx, cmd.OutOrStdout(), c, cfg.Temporal.TaskQueue, alerts.TestInput{ID: testID(), Severity: sev, By: operator()})
		},
	}
	cmd.Flags().StringVar(&severity, "severity", "warning", "route the test alert as an alert of this severity: info, warning, critical")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "give up waiting for the channels after this long (an email channel retries for about 3 minutes)")
	worker.BindFlags(cmd.Flags(), worker.SectionTemporal)
	return cmd
}

// failureCause is the channel's own words in a notify_failed detail
// ("first #1: activity error (…): webhook: … answered 403 Forbidden: (type:
// AlertNotification, retryable: false)"), without the kind and sequence,
// Temporal's activity wrapper and the failure's type.
func failureCause(detail string) string {
	if _, rest, ok := strings.Cut(detail, ": "); ok && strings.Contains(detail[:len(detail)-len(rest)], " #") {
		detail = rest
	}
	if strings.HasPrefix(detail, "activity error (") {
		if _, rest, ok := strings.Cut(detail, "): "); ok {
			detail = rest
		}
	}
	detail = failureType.ReplaceAllString(detail, "")
	return strings.TrimRight(detail, ": ")
}

// failureType is the "(type: X, retryable: Y)" Temporal appends.
var failureType = regexp.MustCompile(`\s*\(type: [^()]*, retryable: (true|false)\)$`)

// testID names one test: 8 random hex digits.
func testID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// alertTest raises the test alert on a worker of taskQueue, reports each
// routed channel's outcome as it comes, and resolves the alert.
func alertTest(ctx context.Context, out io.Writer, c client.Client, taskQueue string, in alerts.TestInput) error {
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(startCtx, client.StartWorkflowOptions{
		ID: "pipewatch-alert-test-" + in.ID, TaskQueue: taskQueue, WorkflowExecutionTimeout: time.Minute,
		StaticSummary: "pipewatch alerts test by " + in.By,
	}, alerts.TestWorkflowName, in)
	if err != nil {
		return fmt.Errorf("start the test on task queue %s: %w", taskQueue, err)
	}
	var res alerts.TestResult
	if err := run.Get(startCtx, &res); err != nil {
		return fmt.Errorf("no pipewatch worker on task queue %s raised the test alert within a minute (is one running? pipewatch doctor says): %w", taskQueue, err)
	}
	id := alerts.WorkflowIDPrefix + res.Key
	fmt.Fprintf(out, "test alert %s (%s), routed by the worker to %s\n", res.Key, in.Severity, strings.Join(res.Channels, ", "))

	width := 0 // the channels' column, printed as each outcome comes
	for _, ch := range res.Channels {
		width = max(width, len(ch))
	}
	outcome := map[string]alerts.Entry{}
	var first time.Time
	retries := newRetryWatch(c, id)
	for len(outcome) < len(res.Channels) && ctx.Err() == nil {
		if st, err := alertState(ctx, c, id); err == nil {
			first = st.FirstAt
			for _, e := range st.History {
				if _, done := outcome[e.Channel]; done || !slices.Contains(res.Channels, e.Channel) ||
					(e.Event != "notified" && e.Event != "notify_failed") || !strings.HasPrefix(e.Detail, alerts.KindFirst+" #") {
					continue
				}
				outcome[e.Channel] = e
				after := e.At.Sub(first).Round(100 * time.Millisecond)
				if e.Event == "notified" {
					fmt.Fprintf(out, "  %-*s  %-9s  %s after the raise\n", width, e.Channel, "sent", after)
				} else {
					fmt.Fprintf(out, "  %-*s  %-9s  given up %s after the raise: %s\n", width, e.Channel, "FAILED", after, failureCause(e.Detail))
				}
			}
			for _, r := range retries.failed(ctx) {
				if _, done := outcome[r.channel]; done || !slices.Contains(res.Channels, r.channel) {
					continue
				}
				fmt.Fprintf(out, "  %-*s  %-9s  attempt %d of %d failed: %s; next in %s\n", width, r.channel, "retrying", r.attempt, r.of, r.cause, r.next)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	var failed []string
	for _, ch := range res.Channels {
		e, ok := outcome[ch]
		switch {
		case !ok:
			fmt.Fprintf(out, "  %-*s  %-9s  still trying when the wait ended (pipewatch alerts show %s)\n", width, ch, "NO ANSWER", res.Key)
			failed = append(failed, ch)
		case e.Event != "notified":
			failed = append(failed, ch)
		}
	}

	// Resolved, so it is not left open: its channels are told it is over.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if err := c.SignalWorkflow(rctx, id, "", alerts.SignalResolve, alerts.ActionRequest{By: in.By, Reason: "pipewatch alerts test over"}); err != nil {
		fmt.Fprintf(out, "could not resolve the test alert (pipewatch alerts resolve %s): %v\n", res.Key, err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d channels did not deliver the test alert: %s", len(failed), len(res.Channels), strings.Join(failed, ", "))
	}
	fmt.Fprintf(out, "every channel delivered it; resolved\n")
	return nil
}

// retryWatch finds the failed attempts of the test alert's first
// notifications while their channels retry: Temporal keeps them only in
// the pending activity (its attempt and last failure), never in the
// history, so without this a failing channel is silent for minutes.
type retryWatch struct {
	c         client.Client
	id        string
	channelOf map[string]string // activity id -> channel, of the first notifications
	reported  map[string]int32  // channel -> the last failed attempt reported
}

func newRetryWatch(c client.Client, id string) *retryWatch {
	return &retryWatch{c: c, id: id, channelOf: map[string]string{}, reported: map[string]int32{}}
}

// retryNote is one failed attempt of a channel that will try again.
type retryNote struct {
	channel     string
	attempt, of int32
	cause       string
	next        time.Duration
}

// failed returns the attempts that failed since the last call, the latest
// of each channel (one polled between attempts may skip one). Errors
// leave it for the next call: the outcome does not depend on it.
func (w *retryWatch) failed(ctx context.Context) []retryNote {
	d, err := w.c.DescribeWorkflow(ctx, w.id, "")
	if err != nil {
		return nil
	}
	var notes []retryNote
	for _, pa := range d.RawResponse.GetPendingActivities() {
		if pa.GetActivityType().GetName() != alerts.NotifyActivityName || pa.GetAttempt() < 2 || pa.GetLastFailure() == nil {
			continue
		}
		ch, ok := w.channelOf[pa.GetActivityId()]
		if !ok {
			w.readChannels(ctx)
			if ch, ok = w.channelOf[pa.GetActivityId()]; !ok {
				continue
			}
		}
		failedAttempt := pa.GetAttempt() - 1
		if w.reported[ch] >= failedAttempt {
			continue
		}
		w.reported[ch] = failedAttempt
		next := time.Duration(0)
		if at := pa.GetNextAttemptScheduleTime(); at != nil {
			next = max(time.Until(at.AsTime()), 0).Round(100 * time.Millisecond)
		}
		notes = append(notes, retryNote{channel: ch, attempt: failedAttempt, of: pa.GetMaximumAttempts(),
			cause: failureCause(pa.GetLastFailure().GetMessage()), next: next})
	}
	slices.SortFunc(notes, func(a, b retryNote) int { return strings.Compare(a.channel, b.channel) })
	return notes
}

// readChannels maps the alert's first notifications' activity ids to
// their channels, from the scheduled events' input.
func (w *retryWatch) readChannels(ctx context.Context) {
	it := w.c.GetWorkflowHistory(ctx, w.id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	dc := converter.GetDefaultDataConverter()
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return
		}
		sched := e.GetActivityTaskScheduledEventAttributes()
		if sched == nil || sched.GetActivityType().GetName() != alerts.NotifyActivityName {
			continue
		}
		var n alerts.Notification
		if err := dc.FromPayloads(sched.GetInput(), &n); err == nil && n.Kind == alerts.KindFirst {
			w.channelOf[sched.GetActivityId()] = n.Channel
		}
	}
}
