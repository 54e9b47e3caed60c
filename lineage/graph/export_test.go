package graph

import (
	"context"
	"strings"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/lineage"
)

// Count runs a read query returning one count, for tests to check the
// graph's exact shape.
func Count(ctx context.Context, s *Store, cypher string, params map[string]any) (int64, error) {
	res, err := s.read(ctx, cypher, params)
	if err != nil {
		return 0, err
	}
	if len(res) != 1 || len(res[0]) != 1 {
		return 0, errNotOneCount
	}
	for _, v := range res[0] {
		n, _ := v.(int64)
		return n, nil
	}
	return 0, errNotOneCount
}

var errNotOneCount = errorString("query did not return one count")

type errorString string

func (e errorString) Error() string { return string(e) }

// RunsByJob maps the job of each step run of a workflow run to its run id.
func RunsByJob(ctx context.Context, s *Store, workflowRunID string) (map[string]string, error) {
	res, err := s.read(ctx, `MATCH (r:Run)-[:CHILD_OF]->(:Run {runId: $id}) MATCH (r)-[:INSTANCE_OF]->(j:Job)
RETURN j.key AS job, r.runId AS run`, map[string]any{"id": workflowRunID})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, rec := range res {
		out[asString(rec["job"])] = asString(rec["run"])
	}
	return out, nil
}

// Rows runs a read query and returns its records.
func Rows(ctx context.Context, s *Store, cypher string, params map[string]any) ([]map[string]any, error) {
	return s.read(ctx, cypher, params)
}

// Exec runs a write query, for tests to build graphs.
func Exec(ctx context.Context, s *Store, cypher string, params map[string]any) error {
	_, err := neo4j.ExecuteQuery(ctx, s.driver, cypher, params, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.database), neo4j.ExecuteQueryWithWritersRouting())
	return err
}

// TraverseLayered is Traverse as it was before the walk became one query:
// one query per layer, breadth first. Tests hold the one-query walk to it.
func TraverseLayered(ctx context.Context, s *Store, id string, dir Direction, opts QueryOptions) (Graph, error) {
	opts, err := opts.check()
	if err != nil {
		return Graph{}, err
	}
	g := Graph{Query: map[Direction]string{Upstream: "upstream", Downstream: "downstream"}[dir], Subject: id}
	start, err := s.resolve(ctx, id, opts.AsOf)
	if err != nil {
		return g, err
	}
	depth, frontier, level := start.first(dir)
	var edges []derivation
	for ; level < opts.Depth && len(frontier) > 0; level++ {
		res, err := s.read(ctx, stepQuery(dir), map[string]any{"frontier": frontier, "asOf": opts.AsOf})
		if err != nil {
			return g, err
		}
		var next []string
		for _, rec := range res {
			d := derivation{out: asString(rec["out"]), in: asString(rec["in"]), runID: asString(rec["runId"])}
			edges = append(edges, d)
			if d.reach(depth, dir, level+1) {
				next = append(next, d.far(dir))
			}
		}
		frontier = next
	}
	links, err := s.ends(ctx, depth, dir, opts.AsOf)
	if err != nil {
		return g, err
	}
	g.Edges = edgesOf(append(start.links, links...), edges)
	if err := s.fill(ctx, &g, depth); err != nil {
		return g, err
	}
	g.keepKinds(opts.Kinds, start)
	return g, nil
}

// WriteRunsRolledBack runs WriteRuns' statements on runs in a transaction
// it rolls back: what a write costs before its commit.
func WriteRunsRolledBack(ctx context.Context, s *Store, runs []lineage.Run) error {
	session := s.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: s.database, AccessMode: neo4j.AccessModeWrite})
	defer func() { _ = session.Close(ctx) }()
	tx, err := session.BeginTransaction(ctx)
	if err != nil {
		return err
	}
	rows, ioRows, derivedRows := batchRows(runs)
	if err := runStatements(ctx, tx, writeRuns, rows, ioRows, derivedRows); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Rollback(ctx)
}

// WriteRunsUnlocked is WriteRuns as it was before runs were locked before
// their rank is read (it loses updates under concurrent writers): the
// baseline of the lock's cost.
func WriteRunsUnlocked(ctx context.Context, s *Store, runs []lineage.Run) error {
	unlocked := strings.Replace(strings.Replace(writeRuns, "SET r.pipewatchLock = true\n", "", 1), "REMOVE r.pipewatchLock\n", "", 1)
	if unlocked == writeRuns {
		return errorString("the lock lines are no longer in writeRuns")
	}
	session := s.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: s.database, AccessMode: neo4j.AccessModeWrite})
	defer func() { _ = session.Close(ctx) }()
	rows, ioRows, derivedRows := batchRows(runs)
	_, err := session.ExecuteWrite(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		return nil, runStatements(ctx, tx, unlocked, rows, ioRows, derivedRows)
	})
	return err
}
