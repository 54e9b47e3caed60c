package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/worker"
)

func newDoctorCmd() *cobra.Command {
	var wait time.Duration
	var only []string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that Temporal (namespace describe) and Neo4j (RETURN 1) answer",
		Example: `  pipewatch doctor
  pipewatch doctor --wait 60s             # while the stack starts
  pipewatch doctor --only temporal --temporal-address temporal.internal:7233`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := worker.Load(worker.Sources{Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			checks := map[string]func(context.Context) error{
				"temporal": func(ctx context.Context) error { return checkTemporal(ctx, cfg) },
				"neo4j":    func(ctx context.Context) error { return checkNeo4j(ctx, cfg) },
			}
			names := only
			if len(names) == 0 {
				names = []string{"temporal", "neo4j"}
			}
			var errs []error
			for _, name := range names {
				check, ok := checks[name]
				if !ok {
					return fmt.Errorf("--only %q: want temporal or neo4j", name)
				}
				errs = append(errs, runUntil(cmd.Context(), cmd.OutOrStdout(), name, wait, check))
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "keep trying for this long before reporting a failure")
	cmd.Flags().StringSliceVar(&only, "only", nil, "check only these: temporal, neo4j")
	worker.BindFlags(cmd.Flags(), worker.SectionTemporal, worker.SectionNeo4j)
	return cmd
}

// runUntil runs check until it passes or wait has passed, and prints one
// line with the outcome.
func runUntil(ctx context.Context, out io.Writer, name string, wait time.Duration, check func(context.Context) error) error {
	deadline := time.Now().Add(wait)
	for {
		t0 := time.Now()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			fmt.Fprintf(out, "%-8s ok (%s)\n", name, time.Since(t0).Round(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			fmt.Fprintf(out, "%-8s FAIL: %v\n", name, err)
			return fmt.Errorf("%s is not healthy: %w", name, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func checkTemporal(ctx context.Context, cfg worker.Config) error {
	c, err := worker.DialTemporal(ctx, cfg.Temporal, quietLogger(), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return worker.CheckTemporal(ctx, c, cfg.Temporal.Namespace)
}

func checkNeo4j(ctx context.Context, cfg worker.Config) error {
	d, err := worker.OpenNeo4j(cfg.Neo4j)
	if err != nil {
		return err
	}
	defer d.Close(context.Background())
	return worker.CheckNeo4j(ctx, d, cfg.Neo4j.Database)
}
