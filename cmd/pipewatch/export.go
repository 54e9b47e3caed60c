package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/lineage/openlineage"
	"github.com/pipewatch/pipewatch/worker"
)

// exportFlags are the flags of `pipewatch lineage export`.
type exportFlags struct {
	openLineage bool
	since       string
	until       string
	limit       int
	out         string
	url         string
	namespace   string
}

func newLineageExportCmd() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export --openlineage",
		Short: "Write the runs of a time window as OpenLineage RunEvents (JSON lines), or post them to a Marquez-compatible /api/v1/lineage",
		Long: `Write the runs started in [--since, --until) as OpenLineage 2-0-2 RunEvents:
a START and the final COMPLETE, FAIL or ABORT for each run, with its parent
run, its error, and the datasets it read and wrote (schema, data quality,
row counts). JSON lines go to --out (default stdout); with --url each event
is also posted to <url>/api/v1/lineage, with PIPEWATCH_OPENLINEAGE_API_KEY as
a Bearer token when set.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !f.openLineage {
				return errors.New("export: say the format: --openlineage (the only one)")
			}
			since, err := parseTime(f.since, false)
			if err != nil {
				return fmt.Errorf("--since %w", err)
			}
			until := time.Now()
			if f.until != "" {
				if until, err = parseTime(f.until, false); err != nil {
					return fmt.Errorf("--until %w", err)
				}
			}
			if f.limit < 1 {
				return fmt.Errorf("--limit %d is below 1", f.limit)
			}
			store, closeStore, err := lineageStore(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			ctx := cmd.Context()
			runs, err := store.Runs(ctx, since, until, f.limit)
			if err != nil {
				return err
			}
			opts := openlineage.Options{Namespace: f.namespace}
			var events []openlineage.RunEvent
			for _, r := range runs {
				evs, err := openlineage.FromStoredRun(r, opts)
				if err != nil {
					return fmt.Errorf("export run %q: %w", r.RunID, err)
				}
				events = append(events, evs...)
			}
			var w io.Writer = cmd.OutOrStdout()
			if f.out != "" && f.out != "-" {
				file, err := os.Create(f.out)
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer file.Close()
				w = file
			}
			if err := openlineage.WriteJSONLines(w, events); err != nil {
				return err
			}
			if f.url != "" {
				t := &openlineage.HTTPTransport{URL: f.url, APIKey: os.Getenv("PIPEWATCH_OPENLINEAGE_API_KEY")}
				for i, e := range events {
					if err := t.Send(ctx, e); err != nil {
						return fmt.Errorf("posted %d of %d events: %w", i, len(events), err)
					}
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d runs as %d OpenLineage events\n", len(runs), len(events))
			return nil
		},
	}
	cmd.Flags().BoolVar(&f.openLineage, "openlineage", false, "write OpenLineage 2-0-2 RunEvents")
	cmd.Flags().StringVar(&f.since, "since", time.Now().UTC().Add(-24*time.Hour).Format(time.RFC3339), "runs started at or after this time (RFC 3339 or a date)")
	cmd.Flags().StringVar(&f.until, "until", "", "runs started before this time (default now)")
	cmd.Flags().IntVar(&f.limit, "limit", 100000, "at most this many runs")
	cmd.Flags().StringVar(&f.out, "out", "-", "file for the JSON lines; - is stdout")
	cmd.Flags().StringVar(&f.url, "url", "", "also post each event to <url>/api/v1/lineage (Marquez)")
	cmd.Flags().StringVar(&f.namespace, "namespace", "pipewatch", "OpenLineage namespace of jobs and datasets")
	worker.BindFlags(cmd.Flags(), worker.SectionNeo4j)
	return cmd
}
