// Command stackprint prints a fingerprint of the user's stack: the nodes
// and relationships of their lineage graph, counted by label and type,
// and the workflows of their Temporal namespace, listed. `make test`
// prints it before and after the tests and fails when they differ: tests
// must leave the user's stack as they found it.
//
// It reads the configuration as the worker does (PIPEWATCH_* variables);
// a part that does not answer is printed as such.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/sentinel"
	"github.com/pipewatch/pipewatch/worker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stackprint:", err)
		os.Exit(1)
	}
}

// fingerprint is what the user's stack holds: graph elements counted,
// workflows listed.
type fingerprint struct {
	Neo4j    map[string]int64 `json:"neo4j"`
	Temporal []string         `json:"temporal"`
}

func run() error {
	cfg, err := worker.Load(worker.Sources{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fp := fingerprint{Neo4j: map[string]int64{}}
	if err := graphCounts(ctx, cfg, fp.Neo4j); err != nil {
		fp.Neo4j["unreachable"] = 1
	}
	if fp.Temporal, err = workflows(ctx, cfg); err != nil {
		fp.Temporal = []string{"unreachable"}
	}
	out, err := json.MarshalIndent(fp, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// graphCounts counts nodes by label and relationships by type, but the
// alert history (Alert nodes, their ABOUT links): the user's own worker
// writes it as its alerts evolve, without the tests (the drift alert of
// `make run` closes five minutes later, during `make test`, and records
// its repeats' runs).
func graphCounts(ctx context.Context, cfg worker.Config, into map[string]int64) error {
	d, err := worker.OpenNeo4j(cfg.Neo4j)
	if err != nil {
		return err
	}
	defer d.Close(ctx)
	for _, q := range []string{
		"MATCH (n) WHERE NOT n:Alert UNWIND labels(n) AS l RETURN 'nodes:' + l AS k, count(*) AS n",
		"MATCH ()-[r]->() WHERE type(r) <> 'ABOUT' RETURN 'relationships:' + type(r) AS k, count(*) AS n",
	} {
		res, err := neo4j.ExecuteQuery(ctx, d, q, nil, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(cfg.Neo4j.Database))
		if err != nil {
			return err
		}
		for _, r := range res.Records {
			k, _ := r.Get("k")
			n, _ := r.Get("n")
			into[k.(string)] = n.(int64)
		}
	}
	return nil
}

// workflows lists the namespace's workflows (type and id), but those
// that come without the tests: the sentinel's runs (it continues as new
// on its own schedule), resource alerts (the user's worker watching its
// host, which the tests load) and runs that schedules start.
func workflows(ctx context.Context, cfg worker.Config) ([]string, error) {
	c, err := worker.DialTemporal(ctx, cfg.Temporal, nil, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []string
	var token []byte
	for {
		resp, err := c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: cfg.Temporal.Namespace, PageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			sa := e.GetSearchAttributes().GetIndexedFields()
			switch {
			case e.GetType().GetName() == sentinel.WorkflowName:
			case sa["AlertType"] != nil && strings.Contains(string(sa["AlertType"].GetData()), string(alerts.ResourceThreshold)):
			case sa["TemporalScheduledById"] != nil:
			default:
				out = append(out, e.GetType().GetName()+" "+e.GetExecution().GetWorkflowId()+" "+e.GetExecution().GetRunId())
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	slices.Sort(out)
	return out, nil
}
