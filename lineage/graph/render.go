package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats lists the output formats of Write.
func Formats() []string { return []string{"table", "json", "dot", "svg"} }

// ErrNoGraphviz is returned for SVG output when Graphviz's dot is not on
// PATH.
var ErrNoGraphviz = errors.New("svg output needs Graphviz's `dot` on PATH (Debian: apt-get install graphviz); --format dot writes the same graph as DOT text")

// Write writes g in format: table, json, dot or svg (DOT rendered by
// Graphviz). An Impact's summary goes before its table.
func Write(ctx context.Context, w io.Writer, format string, g Graph, imp *Impact) error {
	switch format {
	case "table":
		return writeTable(w, g, imp)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if imp != nil {
			return enc.Encode(imp)
		}
		return enc.Encode(g)
	case "dot":
		_, err := io.WriteString(w, DOT(g))
		return err
	case "svg":
		dot, err := exec.LookPath("dot")
		if err != nil {
			return ErrNoGraphviz
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, dot, "-Tsvg")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(DOT(g)), w, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("lineage: dot -Tsvg: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	return fmt.Errorf("lineage: format %q is not one of %s", format, strings.Join(Formats(), ", "))
}

func writeTable(w io.Writer, g Graph, imp *Impact) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if imp != nil {
		var kinds []string
		for k, n := range imp.Datasets {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
		slices.Sort(kinds)
		fmt.Fprintf(tw, "impact of %s: %d downstream dataset versions (%s), %d runs (%d failed), jobs: %s\n\n",
			g.Subject, sum(imp.Datasets), strings.Join(kinds, ", "), imp.Runs, imp.Failed, strings.Join(imp.Jobs, ", "))
	}
	fmt.Fprintln(tw, "DEPTH\tTYPE\tKIND/JOB\tID\tSTATE\tAT\tREAD -> WROTE")
	keys := map[string]string{} // version id -> dataset key
	for _, n := range g.Nodes {
		if n.Type == NodeDataset {
			keys[n.ID] = n.Key
		}
	}
	read, wrote := map[string][]string{}, map[string][]string{}
	for _, e := range g.Edges {
		name := keys[e.To]
		if name == "" {
			name = e.To
		}
		if e.Type == "CONSUMED" {
			read[e.From] = append(read[e.From], name)
		} else {
			wrote[e.From] = append(wrote[e.From], name)
		}
	}
	for _, n := range g.Nodes {
		what, id, state, io := string(n.Kind), n.ID, "", ""
		switch n.Type {
		case NodeRun:
			what, state = n.Job, n.State
			if n.Attempts > 1 {
				state += " (" + strconv.FormatInt(n.Attempts, 10) + " attempts)"
			}
			io = strings.Join(read[n.ID], ", ") + " -> " + strings.Join(wrote[n.ID], ", ")
		case NodeDataset:
			id = n.Key + "@" + short(n.Version)
		}
		at := ""
		if !n.At.IsZero() {
			at = n.At.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Depth, n.Type, what, id, state, at, io)
	}
	return tw.Flush()
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// DOT renders g for Graphviz: dataset versions as boxes coloured by kind,
// runs as ellipses (red when failed), arrows in the direction data flows.
func DOT(g Graph) string {
	var b strings.Builder
	b.WriteString("digraph lineage {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n")
	fmt.Fprintf(&b, "  label=%s; labelloc=t;\n", dotQuote(g.Query+" "+g.Subject))
	for _, n := range g.Nodes {
		if n.Type == NodeDataset {
			fmt.Fprintf(&b, "  %s [shape=box, style=filled, fillcolor=%q, label=%s];\n",
				dotQuote(n.ID), kindColor(string(n.Kind)), dotQuote(string(n.Kind)+"\n"+n.Key+"\n"+short(n.Version)))
			continue
		}
		color := "white"
		if n.State == "FAIL" {
			color = "#f4cccc"
		}
		label := n.Job + "\n" + n.State
		if n.Attempts > 1 {
			label += fmt.Sprintf(" · %d attempts", n.Attempts)
		}
		fmt.Fprintf(&b, "  %s [shape=ellipse, style=filled, fillcolor=%q, label=%s];\n", dotQuote(n.ID), color, dotQuote(label))
	}
	for _, e := range g.Edges {
		if e.Type == "CONSUMED" { // data flows from the version into the run
			fmt.Fprintf(&b, "  %s -> %s;\n", dotQuote(e.To), dotQuote(e.From))
		} else {
			fmt.Fprintf(&b, "  %s -> %s;\n", dotQuote(e.From), dotQuote(e.To))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote quotes s as a DOT string: only quotes and backslashes need
// escaping; newlines become DOT line breaks.
func dotQuote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
	return `"` + s + `"`
}

func short(version string) string {
	if i := strings.IndexByte(version, ':'); i >= 0 && len(version) > i+13 {
		return version[:i+13]
	}
	return version
}

func kindColor(kind string) string {
	switch kind {
	case "DataSource":
		return "#d9ead3"
	case "RawData":
		return "#fff2cc"
	case "ValidatedData":
		return "#fce5cd"
	case "FeatureSet":
		return "#cfe2f3"
	case "Model":
		return "#d9d2e9"
	case "Predictions":
		return "#ead1dc"
	}
	return "#eeeeee"
}
