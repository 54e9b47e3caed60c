package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/lineage"
)

// Node types in a query result.
const (
	NodeDataset = "dataset" // a dataset version
	NodeRun     = "run"
)

// Node is a dataset version or a run in a query result.
type Node struct {
	// ID is the version id (key@version) or the run id.
	ID string `json:"id"`
	// Type is NodeDataset or NodeRun.
	Type string `json:"type"`
	// Kind is a dataset's kind; Job a run's step or pipeline type.
	Kind lineage.Kind `json:"kind,omitempty"`
	Job  string       `json:"job,omitempty"`
	// Key and Version of a dataset version.
	Key     string `json:"key,omitempty"`
	Version string `json:"version,omitempty"`
	// State, Attempts, WorkflowID and Error of a run.
	State      string `json:"state,omitempty"`
	Attempts   int64  `json:"attempts,omitempty"`
	WorkflowID string `json:"workflowId,omitempty"`
	Error      string `json:"error,omitempty"`
	// At is when a version was produced (or first seen), when a run started.
	At time.Time `json:"at,omitzero"`
	// Depth is the number of runs between the query's subject and this node.
	Depth int `json:"depth"`
	// Facets of a dataset version, as recorded.
	Facets *lineage.Facets `json:"facets,omitempty"`
}

// Edge links a run to a dataset version it read (CONSUMED) or wrote
// (PRODUCED).
type Edge struct {
	// From is a run id, To a version id.
	From string `json:"from"`
	To   string `json:"to"`
	// Type is CONSUMED or PRODUCED.
	Type string `json:"type"`
}

// Graph is a query's answer: its subject, the nodes reached and the edges
// between them.
type Graph struct {
	// Query names the query: upstream, downstream, path, impact, show.
	Query string `json:"query"`
	// Subject is the id the query started from (for path, "from -> to").
	Subject string `json:"subject"`
	Nodes   []Node `json:"nodes"`
	Edges   []Edge `json:"edges"`
}

// Direction of a traversal.
type Direction int

// Upstream walks toward the sources, Downstream toward the consumers.
const (
	Upstream Direction = iota
	Downstream
)

// MaxDepth is the deepest a traversal may go.
const MaxDepth = 100

// QueryOptions narrow a traversal.
type QueryOptions struct {
	// Depth is how many runs deep to go, 1..MaxDepth. Zero means 20.
	Depth int
	// AsOf ignores everything produced after it. Zero means now.
	AsOf time.Time
	// Kinds keeps only dataset versions of these kinds (and the runs
	// linking them); empty keeps all.
	Kinds []lineage.Kind
}

func (o QueryOptions) check() (QueryOptions, error) {
	if o.Depth == 0 {
		o.Depth = 20
	}
	if o.Depth < 1 || o.Depth > MaxDepth {
		return o, fmt.Errorf("lineage: depth %d is outside 1..%d", o.Depth, MaxDepth)
	}
	if o.AsOf.IsZero() {
		o.AsOf = time.Now()
	}
	o.AsOf = o.AsOf.UTC()
	return o, nil
}

// derivation is one DERIVED_FROM edge: run read in and wrote out.
type derivation struct {
	out, in, runID string
}

// far is the end of d a traversal in dir reaches; near the one it came from.
func (d derivation) far(dir Direction) string {
	if dir == Upstream {
		return d.in
	}
	return d.out
}

// reach gives d's run and far end the depth at, unless they have one, and
// says whether the far end is new: a breadth-first search meets each node
// first at its least depth.
func (d derivation) reach(depth map[string]int, dir Direction, at int) bool {
	if _, ok := depth[d.runID]; !ok {
		depth[d.runID] = at
	}
	if _, ok := depth[d.far(dir)]; ok {
		return false
	}
	depth[d.far(dir)] = at
	return true
}

func (d derivation) near(dir Direction) string {
	if dir == Upstream {
		return d.out
	}
	return d.in
}

// stepQuery reads one layer of the traversal: the DERIVED_FROM edges out
// of (upstream) or into (downstream) the frontier.
func stepQuery(dir Direction) string {
	if dir == Upstream {
		return `
MATCH (o:DatasetVersion)-[e:DERIVED_FROM]->(i:DatasetVersion)
WHERE o.id IN $frontier AND e.at <= $asOf
RETURN o.id AS out, i.id AS in, e.runId AS runId`
	}
	return `
MATCH (o:DatasetVersion)-[e:DERIVED_FROM]->(i:DatasetVersion)
WHERE i.id IN $frontier AND e.at <= $asOf
RETURN o.id AS out, i.id AS in, e.runId AS runId`
}

// twoLayers reads two layers of the traversal in one statement: the
// DERIVED_FROM edges out of (upstream) or into (downstream) the frontier,
// and, unless $two is false, those of the versions they reach that are not
// in $seen (the next frontier). A layer by layer search, not a path
// pattern: Cypher's variable-length and ANY SHORTEST patterns enumerate
// paths, which grows exponentially with the depth on a graph with cycles
// (ANY SHORTEST to 15 hops took 90 s on 18 versions and 71 edges).
func twoLayers(dir Direction) string {
	first, second := `(o:DatasetVersion)-[e:DERIVED_FROM]->(n:DatasetVersion) WHERE o.id IN $frontier`,
		`(n)-[e2:DERIVED_FROM]->(i2:DatasetVersion)`
	pair, pair2 := `[o.id, n.id, e.runId]`, `[n.id, i2.id, e2.runId]`
	if dir == Downstream {
		first, second = `(n:DatasetVersion)-[e:DERIVED_FROM]->(i:DatasetVersion) WHERE i.id IN $frontier`,
			`(o2:DatasetVersion)-[e2:DERIVED_FROM]->(n)`
		pair, pair2 = `[n.id, i.id, e.runId]`, `[o2.id, n.id, e2.runId]`
	}
	return `
MATCH ` + first + ` AND e.at <= $asOf
WITH collect(` + pair + `) AS layer1, collect(DISTINCT n) AS reached
CALL (reached) {
  UNWIND reached AS n
  WITH n WHERE $two AND NOT n.id IN $seen
  MATCH ` + second + ` WHERE e2.at <= $asOf
  RETURN collect(` + pair2 + `) AS layer2
}
RETURN layer1, layer2`
}

// Traverse walks from the dataset version, dataset (its latest version as
// of opts.AsOf) or run named by id, breadth first to opts.Depth runs, two
// layers a query.
func (s *Store) Traverse(ctx context.Context, id string, dir Direction, opts QueryOptions) (Graph, error) {
	opts, err := opts.check()
	if err != nil {
		return Graph{}, err
	}
	name := map[Direction]string{Upstream: "upstream", Downstream: "downstream"}[dir]
	g := Graph{Query: name, Subject: id}
	start, err := s.resolve(ctx, id, opts.AsOf)
	if err != nil {
		return g, err
	}
	depth, frontier, level := start.first(dir)
	var edges []derivation
	for level < opts.Depth && len(frontier) > 0 {
		seen := make([]string, 0, len(depth))
		for id := range depth {
			seen = append(seen, id)
		}
		two := level+1 < opts.Depth
		res, err := s.read(ctx, twoLayers(dir), map[string]any{"frontier": frontier, "asOf": opts.AsOf, "seen": seen, "two": two})
		if err != nil {
			return g, fmt.Errorf("lineage: %s of %q: %w", name, id, err)
		}
		for _, layer := range []string{"layer1", "layer2"} {
			var next []string
			var rows []any
			if len(res) == 1 {
				rows, _ = res[0][layer].([]any)
			}
			for _, row := range rows {
				f, _ := row.([]any)
				if len(f) != 3 {
					continue
				}
				d := derivation{out: asString(f[0]), in: asString(f[1]), runID: asString(f[2])}
				edges = append(edges, d)
				if d.reach(depth, dir, level+1) {
					next = append(next, d.far(dir))
				}
			}
			frontier = next
			level++
			if layer == "layer1" && !two {
				break
			}
		}
	}
	// Runs that only read (an evaluation) or only wrote (an ingest from
	// outside) leave no DERIVED_FROM: add them from their own edges.
	links, err := s.ends(ctx, depth, dir, opts.AsOf)
	if err != nil {
		return g, fmt.Errorf("lineage: %s of %q: %w", name, id, err)
	}
	g.Edges = edgesOf(append(start.links, links...), edges)
	if err := s.fill(ctx, &g, depth); err != nil {
		return g, err
	}
	g.keepKinds(opts.Kinds, start)
	return g, nil
}

// ends finds the runs that wrote (upstream) or read (downstream) the
// versions reached, started by asOf, adds those not yet reached to depth one run further,
// and returns their edges.
func (s *Store) ends(ctx context.Context, depth map[string]int, dir Direction, asOf time.Time) ([]Edge, error) {
	var versions []string
	for id, d := range depth {
		if d < MaxDepth {
			versions = append(versions, id)
		}
	}
	rel := "PRODUCED"
	if dir == Downstream {
		rel = "CONSUMED"
	}
	// rel is one of two constants, never a value.
	res, err := s.read(ctx, `
MATCH (r:Run)-[:`+rel+`]->(v:DatasetVersion)
WHERE v.id IN $ids AND r.startedAt <= $asOf
RETURN r.runId AS run, v.id AS version`, map[string]any{"ids": versions, "asOf": asOf})
	if err != nil {
		return nil, err
	}
	var out []Edge
	for _, rec := range res {
		run, version := asString(rec["run"]), asString(rec["version"])
		if _, ok := depth[run]; !ok {
			depth[run] = depth[version] + 1
		}
		out = append(out, Edge{From: run, To: version, Type: rel})
	}
	return out, nil
}

// start is where a traversal begins: dataset versions, or a run and its
// links.
type start struct {
	versions []string
	run      string
	links    []Edge
}

// first is where a walk in dir begins: the depths known so far, the
// versions to walk from and their depth. A run's own inputs (upstream) or
// outputs (downstream) are its first layer.
func (st start) first(dir Direction) (depth map[string]int, frontier []string, level int) {
	depth = map[string]int{}
	for _, v := range st.versions {
		depth[v] = 0
	}
	if st.run == "" {
		return depth, st.versions, 0
	}
	depth[st.run] = 0
	for _, l := range st.links {
		if (dir == Upstream) == (l.Type == "CONSUMED") {
			depth[l.To] = 1
			frontier = append(frontier, l.To)
		}
	}
	return depth, frontier, 1
}

// resolve finds what id names: a dataset version, a dataset (its latest
// version as of asOf) or a run.
func (s *Store) resolve(ctx context.Context, id string, asOf time.Time) (start, error) {
	res, err := s.read(ctx, `
OPTIONAL MATCH (v:DatasetVersion {id: $id})
OPTIONAL MATCH (:Dataset {key: $id})-[:HAS_VERSION]->(dv:DatasetVersion)
WHERE coalesce(dv.producedAt, dv.firstSeen) <= $asOf
WITH v, dv ORDER BY coalesce(dv.producedAt, dv.firstSeen) DESC
WITH v, collect(dv.id)[0] AS latest
OPTIONAL MATCH (r:Run {runId: $id})
OPTIONAL MATCH (r)-[l:CONSUMED|PRODUCED]->(rv:DatasetVersion)
RETURN v.id AS version, latest, r.runId AS run, collect([type(l), rv.id]) AS links`,
		map[string]any{"id": id, "asOf": asOf})
	if err != nil {
		return start{}, fmt.Errorf("lineage: look up %q: %w", id, err)
	}
	if len(res) == 0 {
		return start{}, fmt.Errorf("%q is no dataset version, dataset or run: %w", id, ErrNotFound)
	}
	rec := res[0]
	switch {
	case rec["version"] != nil:
		return start{versions: []string{asString(rec["version"])}}, nil
	case rec["latest"] != nil:
		return start{versions: []string{asString(rec["latest"])}}, nil
	case rec["run"] != nil:
		st := start{run: id}
		links, _ := rec["links"].([]any)
		for _, l := range links {
			pair, _ := l.([]any)
			if len(pair) == 2 && pair[0] != nil {
				st.links = append(st.links, Edge{From: id, To: asString(pair[1]), Type: asString(pair[0])})
			}
		}
		return st, nil
	}
	return start{}, fmt.Errorf("%q is no dataset version, dataset or run: %w", id, ErrNotFound)
}

// edgesOf turns derivations into run edges, each once, in a stable order.
func edgesOf(links []Edge, ds []derivation) []Edge {
	seen := map[Edge]bool{}
	var out []Edge
	add := func(e Edge) {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for _, l := range links {
		add(l)
	}
	for _, d := range ds {
		add(Edge{From: d.runID, To: d.in, Type: "CONSUMED"})
		add(Edge{From: d.runID, To: d.out, Type: "PRODUCED"})
	}
	slices.SortStableFunc(out, func(a, b Edge) int {
		return strings.Compare(a.From+"\x00"+a.Type+"\x00"+a.To, b.From+"\x00"+b.Type+"\x00"+b.To)
	})
	return out
}

// fill reads the nodes named in depth and adds them to g, by depth then id.
func (s *Store) fill(ctx context.Context, g *Graph, depth map[string]int) error {
	ids := make([]string, 0, len(depth))
	for id := range depth {
		ids = append(ids, id)
	}
	res, err := s.read(ctx, `
UNWIND $ids AS id
OPTIONAL MATCH (v:DatasetVersion {id: id})
OPTIONAL MATCH (r:Run {runId: id})-[:INSTANCE_OF]->(j:Job)
WITH id, v, r, j WHERE v IS NOT NULL OR r IS NOT NULL
RETURN id, v IS NOT NULL AS isVersion, v.kind AS kind, v.key AS key, v.version AS version,
       coalesce(v.producedAt, v.firstSeen, r.startedAt) AS at, v.facets AS facets,
       j.key AS job, r.state AS state, r.attempts AS attempts, r.workflowId AS workflowId, r.error AS error`,
		map[string]any{"ids": ids})
	if err != nil {
		return fmt.Errorf("lineage: read %d nodes: %w", len(ids), err)
	}
	for _, rec := range res {
		n := Node{ID: asString(rec["id"]), Depth: depth[asString(rec["id"])]}
		if isVersion, _ := rec["isVersion"].(bool); isVersion {
			n.Type, n.Kind, n.Key, n.Version = NodeDataset, lineage.Kind(asString(rec["kind"])), asString(rec["key"]), asString(rec["version"])
			n.Facets = decodeFacets(asString(rec["facets"]))
		} else {
			n.Type, n.Job, n.State, n.WorkflowID, n.Error = NodeRun, asString(rec["job"]), asString(rec["state"]), asString(rec["workflowId"]), asString(rec["error"])
			n.Attempts, _ = rec["attempts"].(int64)
		}
		n.At, _ = rec["at"].(time.Time)
		g.Nodes = append(g.Nodes, n)
	}
	slices.SortFunc(g.Nodes, func(a, b Node) int {
		if a.Depth != b.Depth {
			return a.Depth - b.Depth
		}
		return strings.Compare(a.ID, b.ID)
	})
	return nil
}

// keepKinds drops dataset versions of other kinds (never the subject) and
// then runs left linked to nothing.
func (g *Graph) keepKinds(kinds []lineage.Kind, st start) {
	if len(kinds) == 0 {
		return
	}
	keep := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Type == NodeDataset && (slices.Contains(kinds, n.Kind) || slices.Contains(st.versions, n.ID)) {
			keep[n.ID] = true
		}
	}
	g.Edges = slices.DeleteFunc(g.Edges, func(e Edge) bool { return !keep[e.To] })
	for _, e := range g.Edges {
		keep[e.From] = true
	}
	g.Nodes = slices.DeleteFunc(g.Nodes, func(n Node) bool { return !keep[n.ID] && n.ID != st.run })
}

// read runs a read query and returns its records as maps.
func (s *Store) read(ctx context.Context, cypher string, params map[string]any) ([]map[string]any, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, cypher, params, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(res.Records))
	for i, r := range res.Records {
		out[i] = r.AsMap()
	}
	return out, nil
}

// Path finds the chain of runs between two dataset versions (or datasets,
// at their latest versions), looking upstream from `from` and, failing
// that, downstream.
func (s *Store) Path(ctx context.Context, from, to string, opts QueryOptions) (Graph, error) {
	opts, err := opts.check()
	if err != nil {
		return Graph{}, err
	}
	g := Graph{Query: "path", Subject: from + " -> " + to}
	src, err := s.resolve(ctx, from, opts.AsOf)
	if err != nil {
		return g, err
	}
	dst, err := s.resolve(ctx, to, opts.AsOf)
	if err != nil {
		return g, err
	}
	if len(src.versions) == 0 || len(dst.versions) == 0 {
		return g, fmt.Errorf("lineage: path needs two datasets or dataset versions, got %q and %q", from, to)
	}
	for _, dir := range []Direction{Upstream, Downstream} {
		chain, err := s.bfsPath(ctx, src.versions[0], dst.versions[0], dir, opts)
		if err != nil {
			return g, err
		}
		if chain == nil {
			continue
		}
		depth := map[string]int{src.versions[0]: 0}
		for i, d := range chain {
			depth[d.runID], depth[d.far(dir)] = i+1, i+1
		}
		g.Edges = edgesOf(nil, chain)
		return g, s.fill(ctx, &g, depth)
	}
	return g, fmt.Errorf("no path between %q and %q within %d runs: %w", from, to, opts.Depth, ErrNotFound)
}

// bfsPath walks from src in dir until it meets dst, and returns the
// derivations along the first path found, from src; nil if none.
func (s *Store) bfsPath(ctx context.Context, src, dst string, dir Direction, opts QueryOptions) ([]derivation, error) {
	parent := map[string]derivation{src: {}}
	frontier := []string{src}
	for level := 0; level < opts.Depth && len(frontier) > 0; level++ {
		res, err := s.read(ctx, stepQuery(dir), map[string]any{"frontier": frontier, "asOf": opts.AsOf})
		if err != nil {
			return nil, fmt.Errorf("lineage: path from %q: %w", src, err)
		}
		var next []string
		for _, rec := range res {
			d := derivation{out: asString(rec["out"]), in: asString(rec["in"]), runID: asString(rec["runId"])}
			far := d.far(dir)
			if _, seen := parent[far]; seen {
				continue
			}
			parent[far] = d
			if far == dst {
				var chain []derivation
				for at := dst; at != src; {
					p := parent[at]
					chain = append(chain, p)
					at = p.near(dir)
				}
				slices.Reverse(chain)
				return chain, nil
			}
			next = append(next, far)
		}
		frontier = next
	}
	return nil, nil
}

// Impact is what a bad dataset version touches downstream.
type Impact struct {
	Graph
	// Datasets counts the downstream versions by kind.
	Datasets map[lineage.Kind]int `json:"datasets"`
	// Runs counts the runs that read the version or anything from it;
	// Failed how many of them failed.
	Runs   int `json:"runs"`
	Failed int `json:"failedRuns"`
	// Jobs lists the step and pipeline types of those runs.
	Jobs []string `json:"jobs"`
}

// Impact walks downstream from id and sums up what it reaches.
func (s *Store) Impact(ctx context.Context, id string, opts QueryOptions) (Impact, error) {
	g, err := s.Traverse(ctx, id, Downstream, opts)
	if err != nil {
		return Impact{Graph: g}, err
	}
	g.Query = "impact"
	imp := Impact{Graph: g, Datasets: map[lineage.Kind]int{}}
	jobs := map[string]bool{}
	for _, n := range g.Nodes {
		switch {
		case n.Type == NodeDataset && n.Depth > 0:
			imp.Datasets[n.Kind]++
		case n.Type == NodeRun:
			imp.Runs++
			if n.State == lineage.StateFail {
				imp.Failed++
			}
			jobs[n.Job] = true
		}
	}
	for j := range jobs {
		imp.Jobs = append(imp.Jobs, j)
	}
	slices.Sort(imp.Jobs)
	return imp, nil
}

// Show returns one node with its neighbours: a dataset version with the
// runs that wrote and read it; a run with what it read and wrote; a
// dataset with its versions' runs.
func (s *Store) Show(ctx context.Context, id string) (Graph, error) {
	g := Graph{Query: "show", Subject: id}
	res, err := s.read(ctx, `
OPTIONAL MATCH (v:DatasetVersion {id: $id})
OPTIONAL MATCH (:Dataset {key: $id})-[:HAS_VERSION]->(dv:DatasetVersion)
WITH v, collect(dv) AS versions
WITH CASE WHEN v IS NULL THEN versions ELSE [v] END AS vs
OPTIONAL MATCH (r:Run {runId: $id})
WITH vs, collect(r) AS rs
UNWIND vs + rs AS n
OPTIONAL MATCH (n)-[l:CONSUMED|PRODUCED]-(m)
RETURN coalesce(n.id, n.runId) AS id, collect(CASE WHEN l IS NULL THEN null ELSE [type(l), coalesce(startNode(l).runId, ''), coalesce(endNode(l).id, '')] END) AS links`,
		map[string]any{"id": id})
	if err != nil {
		return g, fmt.Errorf("lineage: show %q: %w", id, err)
	}
	if len(res) == 0 {
		return g, fmt.Errorf("%q is no dataset version, dataset or run: %w", id, ErrNotFound)
	}
	depth := map[string]int{}
	var edges []Edge
	for _, rec := range res {
		depth[asString(rec["id"])] = 0
		links, _ := rec["links"].([]any)
		for _, l := range links {
			t, _ := l.([]any)
			if len(t) != 3 {
				continue
			}
			e := Edge{From: asString(t[1]), To: asString(t[2]), Type: asString(t[0])}
			edges = append(edges, e)
			for _, end := range []string{e.From, e.To} {
				if _, ok := depth[end]; !ok {
					depth[end] = 1
				}
			}
		}
	}
	g.Edges = edgesOf(edges, nil)
	return g, s.fill(ctx, &g, depth)
}

func decodeFacets(s string) *lineage.Facets {
	if s == "" {
		return nil
	}
	var f lineage.Facets
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil
	}
	return &f
}
