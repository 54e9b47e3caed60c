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
	"go.temporal.io/sdk/client"

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
					fmt.Fprintf(out, "  %-*s  sent    %s after the raise\n", width, e.Channel, after)
				} else {
					fmt.Fprintf(out, "  %-*s  FAILED  given up %s after the raise: %s\n", width, e.Channel, after, failureCause(e.Detail))
				}
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
			fmt.Fprintf(out, "  %-*s  NO ANSWER  still trying when the wait ended (pipewatch alerts show %s)\n", width, ch, res.Key)
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
