package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

func newStatsCmd() *cobra.Command {
	var pipeline, step, since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Processing statistics per pipeline and step, from the runs in the lineage store",
		Long: `Processing statistics per pipeline and step, from the run records in the
lineage store (Neo4j), which outlive Temporal's retention: ended runs,
failures, failure rate, and the mean, min, max, median and 95th percentile
duration of the completed runs (first attempt's start to last attempt's
end). A row with no step is the pipeline's own workflow runs.`,
		Example: `  pipewatch stats --since 7d
  pipewatch stats --pipeline ml.pipeline --step ml.train --since 30d
  pipewatch stats --since 2026-11-01 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := graph.StatsFilter{Pipeline: pipeline, Step: step}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return fmt.Errorf("--since %w", err)
				}
				f.Since = t
			}
			store, closeStore, err := lineageStore(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			rows, err := store.Stats(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return writeStatsJSON(cmd.OutOrStdout(), rows)
			}
			return writeStats(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "only this pipeline (workflow type) and its steps")
	cmd.Flags().StringVar(&step, "step", "", "only this step (activity type)")
	cmd.Flags().StringVar(&since, "since", "", "only runs started since: an age (7d, 36h, 90m), an RFC 3339 time or a date (2026-11-26)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (durations in seconds)")
	worker.BindFlags(cmd.Flags(), worker.SectionNeo4j)
	return cmd
}

// statsRow is a row of `pipewatch stats --json`; durations are seconds,
// null when no run completed.
type statsRow struct {
	Pipeline      string   `json:"pipeline"`
	Step          string   `json:"step"`
	Runs          int64    `json:"runs"`
	Failures      int64    `json:"failures"`
	Aborted       int64    `json:"aborted"`
	FailureRate   float64  `json:"failureRate"`
	Completed     int64    `json:"completed"`
	MeanSeconds   *float64 `json:"meanSeconds"`
	MinSeconds    *float64 `json:"minSeconds"`
	MaxSeconds    *float64 `json:"maxSeconds"`
	MedianSeconds *float64 `json:"medianSeconds"`
	P95Seconds    *float64 `json:"p95Seconds"`
}

func writeStatsJSON(w io.Writer, rows []graph.StepStats) error {
	out := make([]statsRow, len(rows))
	for i, r := range rows {
		out[i] = statsRow{Pipeline: r.Pipeline, Step: r.Step, Runs: r.Runs, Failures: r.Failures, Aborted: r.Aborted,
			FailureRate: r.FailureRate, Completed: r.Completed}
		if r.Completed > 0 {
			sec := func(d time.Duration) *float64 { s := d.Seconds(); return &s }
			out[i].MeanSeconds, out[i].MinSeconds, out[i].MaxSeconds = sec(r.Mean), sec(r.Min), sec(r.Max)
			out[i].MedianSeconds, out[i].P95Seconds = sec(r.Median), sec(r.P95)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeStats(w io.Writer, rows []graph.StepStats) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no ended runs match")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tSTEP\tRUNS\tFAILED\tABORTED\tFAILURE RATE\tMEAN\tMIN\tMAX\tMEDIAN\tP95")
	for _, r := range rows {
		step := r.Step
		if step == "" {
			step = "(workflow)"
		}
		ds := []string{"-", "-", "-", "-", "-"}
		if r.Completed > 0 {
			for i, d := range []time.Duration{r.Mean, r.Min, r.Max, r.Median, r.P95} {
				ds[i] = formatDuration(d)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f%%\t%s\t%s\t%s\t%s\t%s\n", r.Pipeline, step, r.Runs, r.Failures, r.Aborted,
			100*r.FailureRate, ds[0], ds[1], ds[2], ds[3], ds[4])
	}
	return tw.Flush()
}

// formatDuration shows d to the millisecond (to the microsecond below one).
func formatDuration(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}
