package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/alerts/history"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

// temporalClient dials Temporal with the configuration of cmd's flags, for
// commands that need no Neo4j. The caller closes the client.
func temporalClient(cmd *cobra.Command) (client.Client, worker.Config, error) {
	cfg, err := worker.Load(worker.Sources{Flags: cmd.Flags(), WithoutNeo4j: true})
	if err != nil {
		return nil, cfg, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	c, err := worker.DialTemporal(ctx, cfg.Temporal, quietLogger(), nil)
	return c, cfg, err
}

// lineageStore opens the lineage graph with the configuration of cmd's
// flags; close closes its driver.
func lineageStore(cmd *cobra.Command) (store *graph.Store, close func(), err error) {
	cfg, err := worker.Load(worker.Sources{Flags: cmd.Flags()})
	if err != nil {
		return nil, nil, err
	}
	driver, err := worker.OpenNeo4j(cfg.Neo4j)
	if err != nil {
		return nil, nil, err
	}
	return graph.NewStore(driver, cfg.Neo4j.Database), func() { _ = driver.Close(context.WithoutCancel(cmd.Context())) }, nil
}

// alertWorkflowID accepts a key or a whole workflow id.
func alertWorkflowID(arg string) string {
	if strings.HasPrefix(arg, alerts.WorkflowIDPrefix) {
		return arg
	}
	return alerts.WorkflowIDPrefix + arg
}

func operator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func newAlertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List, show, acknowledge, silence and resolve alerts (alert workflows in Temporal)",
	}
	var state, typ, severity, since string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "Alerts from Temporal visibility: those still running (open, acknowledged, silenced) first, then ended ones (resolved, closed), most recent first",
		Example: `  pipewatch alerts list --state open
  pipewatch alerts list --type data_drift --severity critical --since 2026-11-26 --limit 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			query, err := alertsQuery(state, typ, severity, since)
			if err != nil {
				return err
			}
			c, _, err := temporalClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			var rows []*workflowpb.WorkflowExecutionInfo
			var token []byte
			for len(rows) < limit {
				resp, err := c.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token, PageSize: int32(min(limit, 1000))})
				if err != nil {
					return fmt.Errorf("list alerts (%s): %w", query, err)
				}
				rows = append(rows, resp.GetExecutions()...)
				if token = resp.GetNextPageToken(); len(token) == 0 {
					break
				}
			}
			return writeAlertList(cmd.OutOrStdout(), rows[:min(len(rows), limit)])
		},
	}
	list.Flags().StringVar(&state, "state", "", "only alerts in this state: open, acknowledged, silenced, resolved, closed")
	list.Flags().StringVar(&typ, "type", "", "only alerts of this type: step_failure, workflow_failure, resource_threshold, data_quality, model_degradation, data_drift, custom")
	list.Flags().StringVar(&severity, "severity", "", "only alerts of this severity: info, warning, critical")
	list.Flags().StringVar(&since, "since", "", "only alerts raised since this time (RFC 3339 or a date)")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	worker.BindFlags(list.Flags(), worker.SectionTemporal)

	var asJSON bool
	show := &cobra.Command{
		Use:   "show <key>",
		Short: "An alert's state and history (the alert workflow's query)",
		Example: `  pipewatch alerts show f1259ea67abc3fa0
  pipewatch alerts show pipewatch-alert:f1259ea67abc3fa0 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := temporalClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := alertState(cmd.Context(), c, alertWorkflowID(args[0]))
			if err != nil {
				return fmt.Errorf("alert %s: %w", args[0], err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return writeAlertState(cmd.OutOrStdout(), st)
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print the state as JSON")
	worker.BindFlags(show.Flags(), worker.SectionTemporal)

	signal := func(use, short, example, name string, arg func(cmd *cobra.Command) (any, error)) *cobra.Command {
		c := &cobra.Command{
			Use:     use,
			Short:   short,
			Example: example,
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				payload, err := arg(cmd)
				if err != nil {
					return err
				}
				tc, _, err := temporalClient(cmd)
				if err != nil {
					return err
				}
				defer tc.Close()
				if err := tc.SignalWorkflow(cmd.Context(), alertWorkflowID(args[0]), "", name, payload); err != nil {
					return fmt.Errorf("alert %s: %w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s sent (the worker records it in the audit log)\n", alertWorkflowID(args[0]), strings.Fields(use)[0])
				return nil
			},
		}
		c.Flags().String("by", operator(), "who acts")
		c.Flags().String("reason", "", "why")
		worker.BindFlags(c.Flags(), worker.SectionTemporal)
		return c
	}
	action := func(cmd *cobra.Command) (any, error) {
		by, _ := cmd.Flags().GetString("by")
		reason, _ := cmd.Flags().GetString("reason")
		return alerts.ActionRequest{By: by, Reason: reason}, nil
	}
	silence := signal("silence <key> --for <duration>", "Mute an alert's notifications for a while",
		`  pipewatch alerts silence f1259ea67abc3fa0 --for 2h --by alice`, alerts.SignalSilence, func(cmd *cobra.Command) (any, error) {
			by, _ := cmd.Flags().GetString("by")
			d, _ := cmd.Flags().GetDuration("for")
			if d <= 0 {
				return nil, fmt.Errorf("--for %s: want a positive duration such as 30m or 2h", d)
			}
			return alerts.SilenceRequest{For: d, By: by}, nil
		})
	silence.Flags().Duration("for", 0, "how long to mute it")
	cmd.AddCommand(list, show,
		signal("ack <key>", "Acknowledge an alert: repeats are held back until its severity rises",
			`  pipewatch alerts ack f1259ea67abc3fa0 --reason "node drained"`, alerts.SignalAck, action),
		silence,
		signal("resolve <key>", "Resolve an alert: its channels are told and its workflow ends",
			`  pipewatch alerts resolve f1259ea67abc3fa0 --reason "fixed upstream: bad batch removed"`, alerts.SignalResolve, action),
	)
	cmd.AddCommand(newAlertsHistoryCmd(), newAlertsSummaryCmd(), newAlertsTestCmd())
	return cmd
}

// alertState reads a running alert's state with the query, and an ended
// one's from its result (no worker needed).
func alertState(ctx context.Context, c client.Client, id string) (alerts.State, error) {
	var st alerts.State
	d, err := c.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return st, err
	}
	if d.RawResponse.GetWorkflowExecutionInfo().GetCloseTime() != nil {
		if err := c.GetWorkflow(ctx, id, "").Get(ctx, &st); err != nil {
			return st, fmt.Errorf("read the ended alert's final state: %w", err)
		}
		return st, nil
	}
	v, err := c.QueryWorkflow(ctx, id, "", alerts.QueryState)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// alertsQuery builds the visibility query from checked values only.
func alertsQuery(state, typ, severity, since string) (string, error) {
	q := []string{fmt.Sprintf("WorkflowType = '%s'", alerts.WorkflowName)}
	if state != "" {
		if !slices.Contains([]string{"open", "acknowledged", "silenced", "resolved", "closed"}, state) {
			return "", fmt.Errorf("--state %q is not one of open, acknowledged, silenced, resolved, closed", state)
		}
		q = append(q, fmt.Sprintf("AlertState = '%s'", state))
		if state != "resolved" && state != "closed" {
			// An alert workflow ended by hand (terminated) keeps the state
			// it last wrote, but it is open no longer.
			q = append(q, "ExecutionStatus = 'Running'")
		}
	}
	if typ != "" {
		if !slices.Contains(alerts.Types(), alerts.Type(typ)) {
			return "", fmt.Errorf("--type %q is not an alert type", typ)
		}
		q = append(q, fmt.Sprintf("AlertType = '%s'", typ))
	}
	if severity != "" {
		if alerts.Severity(severity).Rank() == 0 {
			return "", fmt.Errorf("--severity %q is not one of info, warning, critical", severity)
		}
		q = append(q, fmt.Sprintf("AlertSeverity = '%s'", severity))
	}
	if since != "" {
		t, err := parseTime(since, false)
		if err != nil {
			return "", fmt.Errorf("--since %w", err)
		}
		q = append(q, fmt.Sprintf("StartTime >= '%s'", t.UTC().Format(time.RFC3339)))
	}
	return strings.Join(q, " AND "), nil // visibility's own order: running first, then by close time, newest first
}

func writeAlertList(w io.Writer, rows []*workflowpb.WorkflowExecutionInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tSEVERITY\tSTATE\tPIPELINE\tRAISED\tWORKFLOW")
	for _, r := range rows {
		sa := map[string]string{}
		for k, p := range r.GetSearchAttributes().GetIndexedFields() {
			var v string
			if json.Unmarshal(p.GetData(), &v) == nil {
				sa[k] = v
			}
		}
		wf := "running"
		if r.GetCloseTime() != nil {
			wf = "ended " + r.GetCloseTime().AsTime().UTC().Format(time.RFC3339)
			// Ended without closing itself (terminated, say): its last
			// AlertState would read as still open.
			if st := sa["AlertState"]; st != string(alerts.StatusClosed) && st != string(alerts.StatusResolved) {
				sa["AlertState"] = strings.ToLower(strings.TrimPrefix(r.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", strings.TrimPrefix(r.GetExecution().GetWorkflowId(), alerts.WorkflowIDPrefix),
			sa["AlertType"], sa["AlertSeverity"], sa["AlertState"], sa["PipelineName"], r.GetStartTime().AsTime().UTC().Format(time.RFC3339), wf)
	}
	return tw.Flush()
}

func writeAlertState(w io.Writer, st alerts.State) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "key\t%s\ntype\t%s\nseverity\t%s\nstatus\t%s\nsummary\t%s\n", st.Key, st.Type, st.Severity, st.Status, st.Summary)
	fmt.Fprintf(tw, "occurrences\t%d (first %s, last %s)\n", st.Count, st.FirstAt.UTC().Format(time.RFC3339), st.LastAt.UTC().Format(time.RFC3339))
	if !st.SilencedUntil.IsZero() {
		fmt.Fprintf(tw, "silenced until\t%s\n", st.SilencedUntil.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "source\tworkflow %s, run %s\n", st.Source.WorkflowID, st.Source.RunID)
	var labels []string
	for k, v := range st.Labels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	fmt.Fprintf(tw, "labels\t%s\n\nHISTORY\n", strings.Join(labels, " "))
	for _, e := range st.History {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Event, e.Channel, e.Detail)
	}
	return tw.Flush()
}

// alertHistory opens the alert history (Neo4j) with the configuration of
// cmd's flags; close closes its driver.
func alertHistory(cmd *cobra.Command) (store *history.Store, close func(), err error) {
	cfg, err := worker.Load(worker.Sources{Flags: cmd.Flags()})
	if err != nil {
		return nil, nil, err
	}
	driver, err := worker.OpenNeo4j(cfg.Neo4j)
	if err != nil {
		return nil, nil, err
	}
	return history.NewStore(driver, cfg.Neo4j.Database), func() { _ = driver.Close(context.WithoutCancel(cmd.Context())) }, nil
}

// historyFilter checks the history flags and turns them into a filter.
func historyFilter(since, typ, severity, pipeline string, limit int, now time.Time) (history.Filter, error) {
	f := history.Filter{Type: alerts.Type(typ), Severity: alerts.Severity(severity), Pipeline: pipeline, Limit: limit}
	if since != "" {
		t, err := parseSince(since, now)
		if err != nil {
			return f, fmt.Errorf("--since %w", err)
		}
		f.Since = t
	}
	if typ != "" && !slices.Contains(alerts.Types(), f.Type) {
		return f, fmt.Errorf("--type %q is not an alert type", typ)
	}
	if severity != "" && f.Severity.Rank() == 0 {
		return f, fmt.Errorf("--severity %q is not one of info, warning, critical", severity)
	}
	if limit < 1 {
		return f, fmt.Errorf("--limit %d: want at least 1", limit)
	}
	return f, nil
}

func newAlertsHistoryCmd() *cobra.Command {
	var since, typ, severity, pipeline string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Alerts that opened since a time, newest first, from the alert history in Neo4j (outlives Temporal's retention)",
		Example: `  pipewatch alerts history --since 7d
  pipewatch alerts history --since 30d --type step_failure --severity critical --limit 20 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := historyFilter(since, typ, severity, pipeline, limit, time.Now())
			if err != nil {
				return err
			}
			store, closeStore, err := alertHistory(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			rows, err := store.List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			return writeAlertHistory(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().StringVar(&since, "since", "7d", "only alerts opened since: an age (7d, 36h, 90m), an RFC 3339 time or a date (2026-11-26); empty for all")
	cmd.Flags().StringVar(&typ, "type", "", "only alerts of this type: step_failure, workflow_failure, resource_threshold, data_quality, model_degradation, data_drift, custom")
	cmd.Flags().StringVar(&severity, "severity", "", "only alerts of this severity: info, warning, critical")
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "only alerts about this pipeline")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	worker.BindFlags(cmd.Flags(), worker.SectionNeo4j)
	return cmd
}

func writeAlertHistory(w io.Writer, rows []history.Alert) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no alerts match")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPENED\tKEY\tTYPE\tSEVERITY\tSTATE\tFIRES\tLAST FIRED\tRESOLVED IN\tSUMMARY")
	for _, a := range rows {
		resolvedIn := "-"
		if !a.ResolvedAt.IsZero() {
			resolvedIn = formatDuration(a.ResolvedAt.Sub(a.FirstFiredAt))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", a.FirstFiredAt.Format(time.RFC3339), a.Key, a.Type, a.Severity, a.State,
			a.Fires, a.LastFiredAt.Format(time.RFC3339), resolvedIn, a.Summary)
	}
	return tw.Flush()
}

func newAlertsSummaryCmd() *cobra.Command {
	var since, pipeline string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Alerts that opened since a time, counted by type, severity and state, with the mean time to resolve",
		Example: `  pipewatch alerts summary --since 7d
  pipewatch alerts summary --since 2026-11-01 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := historyFilter(since, "", "", pipeline, 1, time.Now())
			if err != nil {
				return err
			}
			store, closeStore, err := alertHistory(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			sum, err := store.Summarize(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return writeAlertSummaryJSON(cmd.OutOrStdout(), sum)
			}
			return writeAlertSummary(cmd.OutOrStdout(), sum)
		},
	}
	cmd.Flags().StringVar(&since, "since", "7d", "only alerts opened since: an age (7d, 36h, 90m), an RFC 3339 time or a date (2026-11-26); empty for all")
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "only alerts about this pipeline")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the mean time to resolve in seconds)")
	worker.BindFlags(cmd.Flags(), worker.SectionNeo4j)
	return cmd
}

func writeAlertSummaryJSON(w io.Writer, s history.Summary) error {
	out := struct {
		Since                    *time.Time       `json:"since"`
		Alerts                   int64            `json:"alerts"`
		Fires                    int64            `json:"fires"`
		ByType                   map[string]int64 `json:"byType"`
		BySeverity               map[string]int64 `json:"bySeverity"`
		ByState                  map[string]int64 `json:"byState"`
		Resolved                 int64            `json:"resolved"`
		MeanTimeToResolveSeconds *float64         `json:"meanTimeToResolveSeconds"`
	}{Alerts: s.Alerts, Fires: s.Fires, ByType: s.ByType, BySeverity: s.BySeverity, ByState: s.ByState, Resolved: s.Resolved}
	if !s.Since.IsZero() {
		t := s.Since.UTC()
		out.Since = &t
	}
	if s.Resolved > 0 {
		sec := s.MeanTimeToResolve.Seconds()
		out.MeanTimeToResolveSeconds = &sec
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeAlertSummary(w io.Writer, s history.Summary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	from := "ever"
	if !s.Since.IsZero() {
		from = "since " + s.Since.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "alerts opened %s\t%d (%d fires)\n", from, s.Alerts, s.Fires)
	mttr := "-"
	if s.Resolved > 0 {
		mttr = formatDuration(s.MeanTimeToResolve)
	}
	fmt.Fprintf(tw, "resolved\t%d, mean time to resolve %s\n", s.Resolved, mttr)
	for _, g := range []struct {
		title  string
		counts map[string]int64
	}{{"BY TYPE", s.ByType}, {"BY SEVERITY", s.BySeverity}, {"BY STATE", s.ByState}} {
		fmt.Fprintf(tw, "\n%s\n", g.title)
		names := make([]string, 0, len(g.counts))
		for k := range g.counts {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			fmt.Fprintf(tw, "%s\t%d\n", k, g.counts[k])
		}
	}
	return tw.Flush()
}
