//go:build integration

package graph_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
)

// TestConcurrentWritersIntegration is four workers writing the lineage of
// the same pipelines at once, as a fleet does: the steps of one workflow
// run on different workers, a step's START and its end come from
// different workers, and every batch touches the same jobs, parents and
// datasets in its own random order. Every write must succeed (a deadlock
// Neo4j reports is retried inside WriteRuns) and the graph must hold
// exactly one of everything, each run COMPLETE: nothing lost, nothing
// twice, no state moved back.
func TestConcurrentWritersIntegration(t *testing.T) {
	// A driver of its own, logging at debug level, to count the
	// transactions it retried and why.
	cfg := testenv.Config(t)
	retries := &retryLog{}
	driver, err := neo4j.NewDriverWithContext(cfg.Neo4j.URI, neo4j.BasicAuth(cfg.Neo4j.User, cfg.Neo4j.Password, ""),
		func(c *config.Config) { c.Log = retries })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = driver.Close(context.Background()) })
	store, ctx := graph.NewStore(driver, cfg.Neo4j.Database), context.Background()
	prefix := testenv.Name(t)
	cleanUp(t, store, prefix)

	const workflows, steps, writers, batch = 100, 6, 4, 50
	at := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	var events []lineage.Run
	for w := range workflows {
		wf := fmt.Sprintf("%s/wf%d", prefix, w)
		for s := range steps {
			r := lineage.Run{
				RunID: lineage.ActivityRunID(wf, fmt.Sprint(s)), JobKey: fmt.Sprintf("%s/step%d", prefix, s),
				State: lineage.StateStart, Attempt: 1, StartedAt: at, WorkflowID: wf, ParentRunID: wf,
			}
			events = append(events, r)
			r.State, r.EndedAt = lineage.StateComplete, at.Add(time.Second)
			// Step s reads what step s-1 of the same workflow wrote, from
			// one of 10 datasets shared by all workflows.
			r.Inputs = []lineage.Dataset{{Kind: lineage.RawData, Key: fmt.Sprintf("%s/ds%d", prefix, (w+s)%10), Version: fmt.Sprintf("%d-%d", w, s)}}
			r.Outputs = []lineage.Dataset{{Kind: lineage.RawData, Key: fmt.Sprintf("%s/ds%d", prefix, (w+s+1)%10), Version: fmt.Sprintf("%d-%d", w, s+1)}}
			events = append(events, r)
		}
	}
	// Each event to a random writer; each writer shuffles its share, so a
	// COMPLETE is often written before its START, by another writer.
	rng := rand.New(rand.NewPCG(3, 5))
	shares := make([][]lineage.Run, writers)
	for _, e := range events {
		i := rng.IntN(writers)
		shares[i] = append(shares[i], e)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i, share := range shares {
		rng.Shuffle(len(share), func(a, b int) { share[a], share[b] = share[b], share[a] })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < len(share); j += batch {
				if err := store.WriteRuns(ctx, share[j:min(j+batch, len(share))]); err != nil {
					errs <- fmt.Errorf("writer %d, batch %d: %w", i, j/batch, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	t.Logf("transactions retried: %v", retries.causes())

	for _, c := range []struct {
		name  string
		query string
		want  int64
	}{
		{"step runs", `MATCH (r:Run) WHERE r.runId STARTS WITH $p AND r.runId CONTAINS '/activity/' RETURN count(r)`, workflows * steps},
		{"complete step runs, one attempt", `MATCH (r:Run {state: 'COMPLETE', attempts: 1}) WHERE r.runId CONTAINS '/activity/' AND r.runId STARTS WITH $p RETURN count(r)`, workflows * steps},
		{"workflow runs", `MATCH (r:Run) WHERE r.runId STARTS WITH $p AND NOT r.runId CONTAINS '/activity/' RETURN count(r)`, workflows},
		{"jobs", `MATCH (j:Job) WHERE j.key STARTS WITH $p RETURN count(j)`, steps},
		{"INSTANCE_OF", `MATCH (r:Run)-[e:INSTANCE_OF]->() WHERE r.runId STARTS WITH $p RETURN count(e)`, workflows * steps},
		{"CHILD_OF", `MATCH (r:Run)-[e:CHILD_OF]->() WHERE r.runId STARTS WITH $p RETURN count(e)`, workflows * steps},
		{"datasets", `MATCH (d:Dataset) WHERE d.key STARTS WITH $p RETURN count(d)`, 10},
		// Versions w-0 .. w-6 of each workflow: 7 a workflow.
		{"versions", `MATCH (v:DatasetVersion) WHERE v.id STARTS WITH $p RETURN count(v)`, workflows * (steps + 1)},
		{"HAS_VERSION", `MATCH (d:Dataset)-[e:HAS_VERSION]->() WHERE d.key STARTS WITH $p RETURN count(e)`, workflows * (steps + 1)},
		{"CONSUMED", `MATCH (r:Run)-[e:CONSUMED]->() WHERE r.runId STARTS WITH $p RETURN count(e)`, workflows * steps},
		{"PRODUCED", `MATCH (r:Run)-[e:PRODUCED]->() WHERE r.runId STARTS WITH $p RETURN count(e)`, workflows * steps},
		{"DERIVED_FROM", `MATCH (v:DatasetVersion)-[e:DERIVED_FROM]->() WHERE v.id STARTS WITH $p RETURN count(e)`, workflows * steps},
	} {
		n, err := graph.Count(ctx, store, c.query, map[string]any{"p": prefix})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n != c.want {
			t.Errorf("%s: %d, want %d", c.name, n, c.want)
		}
	}
}

// retryLog is a driver logger that counts "Retrying transaction" lines by
// the Neo4j error code they name.
type retryLog struct {
	mu sync.Mutex
	by map[string]int
}

var retryCode = regexp.MustCompile(`Neo\.[A-Za-z]+Error\.[A-Za-z]+\.[A-Za-z]+`)

func (l *retryLog) Debugf(_, _ string, msg string, args ...any) {
	line := fmt.Sprintf(msg, args...)
	if !strings.HasPrefix(line, "Retrying transaction") {
		return
	}
	code := retryCode.FindString(line)
	if code == "" {
		code = line
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil {
		l.by = map[string]int{}
	}
	l.by[code]++
}

func (l *retryLog) causes() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.by)
}

func (*retryLog) Error(string, string, error)          {}
func (*retryLog) Warnf(string, string, string, ...any) {}
func (*retryLog) Infof(string, string, string, ...any) {}
