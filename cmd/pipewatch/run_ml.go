package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/worker"
	"github.com/pipewatch/pipewatch/workflows"
)

func newRunPipelineCmd() *cobra.Command {
	var in workflows.MLPipelineInput
	var follow bool
	cmd := &cobra.Command{
		Use:   "pipeline --data <csv>",
		Short: "Run the reference ML pipeline (ingest → validate → features → train → evaluate → register → predict)",
		Example: `  pipewatch data generate --rows 2000 --seed 1 --out cohort.csv
  pipewatch run pipeline --data cohort.csv --follow
  pipewatch run pipeline --data cohort.csv --model churn --min-auc 0.8 --temporal-task-queue ml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Source == "" {
				return errors.New("--data: name the cohort CSV to learn from (pipewatch data generate makes one)")
			}
			abs, err := filepath.Abs(in.Source)
			if err != nil {
				return fmt.Errorf("--data: %w", err)
			}
			in.Source = abs
			c, cfg, err := temporalClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := interceptors.WithUserID(cmd.Context(), operator()) // who started it: the audit log's actor
			id := "pipewatch-ml-" + time.Now().UTC().Format("20060102-150405.000")
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.Temporal.TaskQueue}, workflows.MLPipelineName, in)
			if err != nil {
				return fmt.Errorf("start the ML pipeline: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "ML pipeline %s started on %s\n", id, in.Source)
			done := make(chan error, 1)
			var res workflows.MLPipelineResult
			go func() { done <- run.Get(ctx, &res) }()
			if follow {
				followProgress(ctx, out, c, id, run.GetRunID(), done)
			}
			if err := <-done; err != nil {
				return fmt.Errorf("ML pipeline %s: %w", id, err)
			}
			ev := res.Evaluation
			fmt.Fprintf(out, "\nModel %s\n", res.Model.VersionID())
			fmt.Fprintf(out, "  held-out AUC %.3f · accuracy %.3f · precision %.3f · recall %.3f · Brier %.3f (n=%d)\n",
				ev.AUC, ev.Accuracy, ev.Precision, ev.Recall, ev.Brier, ev.N)
			fmt.Fprintf(out, "  registry version %d: %s (%s)\n", res.Registration.Version,
				map[bool]string{true: "promoted", false: "not promoted"}[res.Registration.Promoted], res.Registration.Reason)
			fmt.Fprintf(out, "Predictions %s (%d rows)\n\n", res.Predictions.VersionID(), res.Rows)
			fmt.Fprintf(out, "  Temporal UI   %s/namespaces/%s/workflows/%s/%s/history\n",
				cfg.Temporal.UIURL, url.PathEscape(cfg.Temporal.Namespace), url.PathEscape(id), url.PathEscape(run.GetRunID()))
			fmt.Fprintf(out, "  Lineage       pipewatch lineage upstream '%s'\n", res.Predictions.VersionID())
			fmt.Fprintf(out, "  Cypher        MATCH p = (:DatasetVersion {id: '%s'})-[:DERIVED_FROM*1..20]->(:DatasetVersion) RETURN p\n\n",
				strings.ReplaceAll(res.Predictions.VersionID(), "'", "\\\\'"))
			return nil
		},
	}
	cmd.Flags().StringVar(&in.Source, "data", "", "cohort CSV to learn from")
	cmd.Flags().StringVar(&in.ModelName, "model", "cohort-dementia", "model name, kept across versions")
	cmd.Flags().Float64Var(&in.MinAUC, "min-auc", 0.75, "promote the model only from this held-out AUC")
	cmd.Flags().BoolVar(&follow, "follow", false, "show live step progress (from the pipewatch.progress query)")
	worker.BindFlags(cmd.Flags(), worker.SectionTemporal)
	return cmd
}

// followProgress redraws the steps table every half second until done
// has a value (which it puts back).
func followProgress(ctx context.Context, out io.Writer, c client.Client, id, runID string, done chan error) {
	start := time.Now()
	for {
		select {
		case err := <-done:
			printSteps(ctx, out, c, id, runID, time.Since(start))
			done <- err
			return
		case <-time.After(500 * time.Millisecond):
			printSteps(ctx, out, c, id, runID, time.Since(start))
		}
	}
}

func printSteps(ctx context.Context, out io.Writer, c client.Client, id, runID string, elapsed time.Duration) {
	p, err := interceptors.QueryProgress(ctx, c, id, runID)
	if err != nil {
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\n[%s] %s\n  STEP\tSTATUS\tATTEMPTS\tELAPSED\tRECORDS\tERROR\n", elapsed.Round(100*time.Millisecond), p.Status)
	for _, s := range p.Steps {
		d := s.Duration
		if s.Status == "running" && !s.Started.IsZero() {
			d = time.Since(s.Started)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%d\t%s\n", strings.TrimPrefix(s.Step, "pipewatch.ml."), s.Status, s.Attempts, d.Round(time.Millisecond), s.Records, s.Error)
	}
	_ = tw.Flush()
}

func newRunDriftCmd() *cobra.Command {
	var in activities.DriftInput
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "drift --batch <csv> [--schedule 1h]",
		Short: "Check a batch for data drift and model degradation now, or on a Temporal Schedule",
		Example: `  pipewatch data generate --rows 500 --seed 2 --shift 1 --out drifted.csv
  pipewatch run drift --batch drifted.csv                  # now, against the model run pipeline registered
  pipewatch run drift --batch /data/incoming.csv --schedule 1h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Batch == "" {
				return errors.New("--batch: name the CSV of new data to check")
			}
			abs, err := filepath.Abs(in.Batch)
			if err != nil {
				return fmt.Errorf("--batch: %w", err)
			}
			in.Batch = abs
			c, cfg, err := temporalClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := interceptors.WithUserID(cmd.Context(), operator()) // who started it: the audit log's actor
			out := cmd.OutOrStdout()
			if every > 0 {
				id := "pipewatch-drift-" + strings.TrimSuffix(filepath.Base(in.Batch), filepath.Ext(in.Batch))
				_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
					ID:   id,
					Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}},
					Action: &client.ScheduleWorkflowAction{
						ID: id, Workflow: workflows.DriftMonitorName, Args: []any{in}, TaskQueue: cfg.Temporal.TaskQueue,
					},
					Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
				})
				if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
					return fmt.Errorf("schedule %s exists already: delete it first (temporal schedule delete --schedule-id %s)", id, id)
				}
				if err != nil {
					return fmt.Errorf("create schedule %s: %w", id, err)
				}
				fmt.Fprintf(out, "Schedule %s checks %s every %s: %s/namespaces/%s/schedules/%s\n", id, in.Batch, every,
					cfg.Temporal.UIURL, url.PathEscape(cfg.Temporal.Namespace), url.PathEscape(id))
				return nil
			}
			id := "pipewatch-drift-" + time.Now().UTC().Format("20060102-150405.000")
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.Temporal.TaskQueue}, workflows.DriftMonitorName, in)
			if err != nil {
				return fmt.Errorf("start the drift monitor: %w", err)
			}
			var rep activities.DriftReport
			if err := run.Get(ctx, &rep); err != nil {
				return fmt.Errorf("drift monitor %s: %w", id, err)
			}
			return writeDriftReport(out, in.Batch, rep)
		},
	}
	cmd.Flags().StringVar(&in.Batch, "batch", "", "CSV of new data to check")
	cmd.Flags().DurationVar(&every, "schedule", 0, "check on a Temporal Schedule this often instead of once")
	worker.BindFlags(cmd.Flags(), worker.SectionTemporal)
	return cmd
}

func writeDriftReport(out io.Writer, batch string, rep activities.DriftReport) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nDrift of %s against %s\n  FEATURE\tPSI\tKS\tKS p\tJS\tDRIFTED\n", filepath.Base(batch), rep.Model.Key)
	for _, f := range rep.Features {
		mark := ""
		switch {
		case f.Drifted:
			mark = "yes"
		case f.Moderate:
			mark = "moderate PSI"
		}
		fmt.Fprintf(tw, "  %s\t%.3f\t%.3f\t%.2g\t%.3f\t%s\n", f.Feature, f.PSI, f.KS, f.KSP, f.JS, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "no data drift"
	if rep.DataDrift {
		verdict = fmt.Sprintf("DATA DRIFT: %.0f%% of features drifted; a %s alert was raised", 100*rep.DriftedShare, alerts.DataDrift)
	}
	fmt.Fprintf(out, "  %s\n", verdict)
	if rep.Labelled {
		fmt.Fprintf(out, "  model AUC %.3f on this batch, %.3f at registration", rep.CurrentAUC, rep.RegisteredAUC)
		if rep.Degraded {
			fmt.Fprintf(out, ": DEGRADED, a %s alert was raised", alerts.ModelDegradation)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out)
	return nil
}
