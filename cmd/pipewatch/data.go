package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/activities/cohort"
)

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "Data for the reference ML pipeline"}
	var opts cohort.Options
	var out string
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Write a deterministic clinical-cohort CSV (same seed, same bytes); --shift makes a drifted batch",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var w io.Writer = cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer f.Close()
				w = f
			}
			return cohort.Generate(w, opts)
		},
	}
	gen.Flags().IntVar(&opts.Rows, "rows", 2000, "patients")
	gen.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed: the same seed gives the same bytes")
	gen.Flags().Float64Var(&opts.Shift, "shift", 0, "drift: 0 the reference population, 1 older and more impaired, up to 3")
	gen.Flags().StringVar(&out, "out", "-", "file to write; - is stdout")
	cmd.AddCommand(gen)
	return cmd
}
