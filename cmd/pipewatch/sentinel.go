package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/pipewatch/pipewatch/sentinel"
	"github.com/pipewatch/pipewatch/worker"
)

func newSentinelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sentinel",
		Short: "The sentinel: the namespace's one watcher of every pipeline, through Temporal's own records",
	}
	var (
		asJSON bool
		wait   time.Duration
	)
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the sentinel's latest scan and the problems open now",
		Example: `  pipewatch sentinel status
  pipewatch sentinel status --wait 60s   # until a scan is fresh, e.g. right after starting a worker
  pipewatch sentinel status --json
  pipewatch sentinel status --temporal-namespace ml --sentinel-workflow-id pipewatch-sentinel-ml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, cfg, err := temporalClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			id := cfg.Sentinel.WorkflowID
			d, err := c.DescribeWorkflow(cmd.Context(), id, "")
			if err != nil {
				return fmt.Errorf("sentinel %s in namespace %s: %w (a pipewatch worker with sentinel.enabled starts it)", id, cfg.Temporal.Namespace, err)
			}
			info := d.RawResponse.GetWorkflowExecutionInfo()
			if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return fmt.Errorf("sentinel %s is not running (%s): start a pipewatch worker with sentinel.enabled", id, info.GetStatus())
			}
			ask := func() (sentinel.Status, error) {
				var st sentinel.Status
				qctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
				defer cancel()
				v, err := c.QueryWorkflow(qctx, id, "", sentinel.QueryStatus)
				if err != nil {
					pollers := "unknown"
					if tq, terr := c.DescribeTaskQueue(cmd.Context(), info.GetTaskQueue(), enumspb.TASK_QUEUE_TYPE_WORKFLOW); terr == nil {
						pollers = fmt.Sprint(len(tq.GetPollers()))
					}
					return st, fmt.Errorf("ask sentinel %s, which runs on task queue %s (%s workflow pollers): %w", id, info.GetTaskQueue(), pollers, err)
				}
				if err := v.Get(&st); err != nil {
					return st, fmt.Errorf("decode the sentinel's status: %w", err)
				}
				return st, nil
			}
			st, err := ask()
			// --wait: until the last scan is fresh (a worker just started
			// adopts the sentinel from one that stopped) or the time is up.
			for deadline := time.Now().Add(wait); err == nil && stale(st, time.Now()) && time.Now().Before(deadline); {
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(time.Second):
				}
				st, err = ask()
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return printSentinelStatus(cmd.OutOrStdout(), cfg.Sentinel.WorkflowID, st, time.Now())
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	status.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for a fresh scan (one within two intervals)")
	worker.BindFlags(status.Flags(), worker.SectionTemporal, "sentinel.workflow_id")
	cmd.AddCommand(status)
	return cmd
}

// stale tells whether the sentinel's last scan is older than two intervals
// (or none finished yet): no worker is scanning for it right now.
func stale(st sentinel.Status, now time.Time) bool {
	every := st.Config.Interval
	if every <= 0 {
		every = sentinel.DefaultInterval
	}
	return st.Last.At.IsZero() || now.Sub(st.Last.At) > 2*every+5*time.Second
}

// printSentinelStatus prints the status as a person reads it.
func printSentinelStatus(out io.Writer, id string, st sentinel.Status, now time.Time) error {
	l := st.Last
	scope := st.Config.Query
	if scope == "" {
		scope = "every workflow but pipewatch's own"
	}
	fmt.Fprintf(out, "Sentinel %s: %d scans, every %s; watching %s", id, st.Scans, st.Config.Interval, scope)
	if st.Config.Namespace != "" {
		fmt.Fprintf(out, " in namespace %s", st.Config.Namespace)
	}
	fmt.Fprintln(out)
	if l.At.IsZero() {
		fmt.Fprintln(out, "No scan has finished yet.")
	} else {
		fmt.Fprintf(out, "Last scan %s ago on %s, took %s: %d open (%d described, %d describe errors), %d closed, %d raised, %d resolved\n",
			now.Sub(l.At).Round(time.Second), l.Worker, l.Took.Round(time.Millisecond), l.Open, l.Described, l.DescribeErrors, l.Closed, l.Raised, l.Resolved)
		if stale(st, now) {
			fmt.Fprintf(out, "STALE: no scan for %s: no worker is scanning for the sentinel (%s stopped?); a running pipewatch worker with sentinel.enabled adopts it within about 30 s, and scans catch up on what closed meanwhile\n",
				now.Sub(l.At).Round(time.Second), l.Worker)
		}
	}
	if n := st.LineageWaiting; n > 0 {
		fmt.Fprintf(out, "LINEAGE: %d events of closed runs wait for the lineage spool, which refused them (a full disk? see the worker's log); every scan offers them again, and past %d the oldest are given up\n",
			n, sentinel.MaxUnspooled)
	}
	if len(st.Problems) == 0 {
		fmt.Fprintln(out, "No problems open.")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPROBLEM\tPIPELINE\tSTEP\tWORKFLOW\tSINCE\tSUMMARY")
	for _, p := range st.Problems {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Problem, p.Pipeline, p.Step, p.WorkflowID, now.Sub(p.Since).Round(time.Second), p.Summary)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print problems: %w", err)
	}
	return nil
}
