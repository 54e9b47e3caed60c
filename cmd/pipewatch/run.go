package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/worker"
	"github.com/pipewatch/pipewatch/workflows"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "run", Short: "Start pipelines on a running pipewatch worker"}
	cmd.AddCommand(newRunDemoCmd(), newRunPipelineCmd(), newRunDriftCmd())
	return cmd
}

func newRunDemoCmd() *cobra.Command {
	var name string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the demo workflow, wait for it, and print where to look",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, cfg, err := temporalClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := interceptors.WithUserID(cmd.Context(), operator()) // who started it: the audit log's actor
			id := "pipewatch-demo-" + time.Now().UTC().Format("20060102-150405.000")
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                       id,
				TaskQueue:                cfg.Temporal.TaskQueue,
				WorkflowExecutionTimeout: timeout,
			}, workflows.DemoWorkflowName, workflows.DemoInput{Name: name})
			if err != nil {
				return fmt.Errorf("start demo workflow: %w", err)
			}
			var res workflows.DemoResult
			if err := run.Get(ctx, &res); err != nil {
				return fmt.Errorf("demo workflow %s: %w (is `pipewatch worker` running on task queue %q?)", id, err, cfg.Temporal.TaskQueue)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "\nDemo workflow %s completed: %q, %d letters\n\n", id, res.Greeting, res.Letters)
			if err := printProgress(ctx, out, c, id, run.GetRunID()); err != nil {
				return err
			}
			fmt.Fprintf(out, "  Temporal UI   %s/namespaces/%s/workflows/%s/%s/history\n",
				cfg.Temporal.UIURL, url.PathEscape(cfg.Temporal.Namespace), url.PathEscape(id), url.PathEscape(run.GetRunID()))
			fmt.Fprintf(out, "  Metrics       http://%s/metrics\n", cfg.HTTP.Addr)
			fmt.Fprintf(out, "  Readiness     http://%s/readyz\n", cfg.HTTP.Addr)
			fmt.Fprintf(out, "  Lineage       paste into Neo4j Browser or cypher-shell (%s, user %s):\n", cfg.Neo4j.URI, cfg.Neo4j.User)
			fmt.Fprintf(out, "    MATCH (r:Run {runId: '%s'})-[:INSTANCE_OF]->(j:Job) OPTIONAL MATCH (s:Run)-[:CHILD_OF]->(r) RETURN r, j, s\n\n", res.RunID)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "pipewatch", "who the demo greets")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up on the workflow after this long")
	// It prints where to look: the worker's HTTP address and Neo4j.
	worker.BindFlags(cmd.Flags(), worker.SectionTemporal, worker.SectionHTTP, "neo4j.uri", "neo4j.user")
	return cmd
}

// printProgress prints the run's steps from the pipewatch.progress query.
func printProgress(ctx context.Context, out io.Writer, c client.Client, id, runID string) error {
	p, err := interceptors.QueryProgress(ctx, c, id, runID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  STEP\tSTATUS\tATTEMPTS\tDURATION\tERROR\n")
	for _, s := range p.Steps {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", s.Step, s.Status, s.Attempts, s.Duration.Round(time.Millisecond), s.Error)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print progress: %w", err)
	}
	fmt.Fprintln(out)
	return nil
}

// quietLogger drops the Temporal SDK's client logs in short-lived commands.
func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
}
