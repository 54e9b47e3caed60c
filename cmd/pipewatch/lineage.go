package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/worker"
)

// lineageFlags are the flags every lineage query takes.
type lineageFlags struct {
	depth  int
	asOf   string
	kinds  []string
	format string
}

func (f *lineageFlags) bind(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.depth, "depth", 20, fmt.Sprintf("how many runs deep to go, 1..%d", graph.MaxDepth))
	cmd.Flags().StringVar(&f.asOf, "as-of", "", "ignore what was produced after this time (RFC 3339, or a date: 2026-11-26)")
	cmd.Flags().StringSliceVar(&f.kinds, "kind", nil, "keep only datasets of these kinds: "+kindNames())
	cmd.Flags().StringVar(&f.format, "format", "table", "output: "+strings.Join(graph.Formats(), ", "))
	worker.BindFlags(cmd.Flags(), worker.SectionNeo4j)
}

func kindNames() string {
	var names []string
	for _, k := range lineage.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// options checks the flags and turns them into query options.
func (f *lineageFlags) options() (graph.QueryOptions, error) {
	opts := graph.QueryOptions{Depth: f.depth}
	if f.depth < 1 || f.depth > graph.MaxDepth {
		return opts, fmt.Errorf("--depth %d is outside 1..%d", f.depth, graph.MaxDepth)
	}
	if f.asOf != "" {
		t, err := parseTime(f.asOf, true)
		if err != nil {
			return opts, fmt.Errorf("--as-of %w", err)
		}
		opts.AsOf = t
	}
	for _, k := range f.kinds {
		kind, err := lineage.ParseKind(k)
		if err != nil {
			return opts, fmt.Errorf("--kind: %w", err)
		}
		opts.Kinds = append(opts.Kinds, kind)
	}
	if !slices.Contains(graph.Formats(), f.format) {
		return opts, fmt.Errorf("--format %q is not one of %s", f.format, strings.Join(graph.Formats(), ", "))
	}
	return opts, nil
}

// parseTime reads RFC 3339 or a date: the start of that day UTC, or its
// end when endOfDay.
func parseTime(s string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if endOfDay {
			d = d.Add(24*time.Hour - time.Nanosecond)
		}
		return d, nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-11-26T09:30:00Z) or a date (2026-11-26)", s)
}

func newLineageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lineage",
		Short: "Query the lineage graph in Neo4j: upstream, downstream, path, impact, show",
		Long: `Query the lineage graph in Neo4j.

An <id> is a dataset version (key@version), a dataset key (its latest
version, as of --as-of), or a run id (a workflow run id, or
<workflow run id>/activity/<activity id> for a step).`,
	}
	query := func(use, short, example string, args int, run func(ctx context.Context, s *graph.Store, args []string, opts graph.QueryOptions) (graph.Graph, *graph.Impact, error)) *cobra.Command {
		var f lineageFlags
		c := &cobra.Command{
			Use:     use,
			Short:   short,
			Example: example,
			Args:    cobra.ExactArgs(args),
			RunE: func(cmd *cobra.Command, args []string) error {
				opts, err := f.options()
				if err != nil {
					return err
				}
				store, closeStore, err := lineageStore(cmd)
				if err != nil {
					return err
				}
				defer closeStore()
				ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
				defer cancel()
				g, imp, err := run(ctx, store, args, opts)
				if err != nil {
					return err
				}
				return graph.Write(ctx, cmd.OutOrStdout(), f.format, g, imp)
			},
		}
		f.bind(c)
		return c
	}
	cmd.AddCommand(
		newLineageExportCmd(),
		query("upstream <id>", "Everything <id> was derived from, back to its data sources, with the runs between",
			`  pipewatch lineage upstream cohort/predictions                 # its latest version
  pipewatch lineage upstream 'cohort/predictions@sha256:…' --kind DataSource,RawData --depth 10
  pipewatch lineage upstream models/cohort-dementia --as-of 2026-11-26 --format svg > lineage.svg`, 1,
			func(ctx context.Context, s *graph.Store, args []string, opts graph.QueryOptions) (graph.Graph, *graph.Impact, error) {
				g, err := s.Traverse(ctx, args[0], graph.Upstream, opts)
				return g, nil, err
			}),
		query("downstream <id>", "Everything derived from <id>, with the runs between",
			`  pipewatch lineage downstream cohort/raw
  pipewatch lineage downstream 'file:///data/cohort.csv' --kind Model,Predictions --format json`, 1,
			func(ctx context.Context, s *graph.Store, args []string, opts graph.QueryOptions) (graph.Graph, *graph.Impact, error) {
				g, err := s.Traverse(ctx, args[0], graph.Downstream, opts)
				return g, nil, err
			}),
		query("path <from> <to>", "The chain of runs between two datasets or dataset versions",
			`  pipewatch lineage path cohort/raw cohort/predictions`, 2,
			func(ctx context.Context, s *graph.Store, args []string, opts graph.QueryOptions) (graph.Graph, *graph.Impact, error) {
				g, err := s.Path(ctx, args[0], args[1], opts)
				return g, nil, err
			}),
		query("impact <id>", "What a bad dataset version touches downstream: datasets by kind, runs, jobs",
			`  pipewatch lineage impact 'cohort/validated@sha256:…'`, 1,
			func(ctx context.Context, s *graph.Store, args []string, opts graph.QueryOptions) (graph.Graph, *graph.Impact, error) {
				imp, err := s.Impact(ctx, args[0], opts)
				return imp.Graph, &imp, err
			}),
		query("show <id>", "One dataset version, dataset or run with what it links to",
			`  pipewatch lineage show models/cohort-dementia
  pipewatch lineage show '<workflow run id>/activity/<activity id>'   # a step's run`, 1,
			func(ctx context.Context, s *graph.Store, args []string, _ graph.QueryOptions) (graph.Graph, *graph.Impact, error) {
				g, err := s.Show(ctx, args[0])
				return g, nil, err
			}),
	)
	return cmd
}
