//go:build integration

package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/workflows"
)

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	UID        string
	Title      string
	Templating struct {
		List []struct{ Name, Type, Definition string }
	}
	Panels []struct {
		Title   string
		Type    string
		Targets []struct{ Expr, RefID string }
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDashboardQueriesOnRealPrometheus runs the pipewatch worker, the demo
// workflow, the ML pipeline and the drift monitor on a drifted batch, has
// Debian's Prometheus scrape the worker, and evaluates every target of
// every panel of the six dashboards on it, the variables set to all: each
// must return data, but for the documented conditional ones, which must
// still be valid PromQL. Each variable's query must find values.
func TestDashboardQueriesOnRealPrometheus(t *testing.T) {
	files, err := filepath.Glob("grafana/dashboards/*.json")
	if err != nil || len(files) != 6 {
		t.Fatalf("dashboards %v (%v), want six", files, err)
	}
	// conditional are the targets (dashboard uid / panel title / refId) that
	// stay empty unless something happens that a healthy run of the pipelines
	// does not do. They must still be valid PromQL.
	conditional := map[string]string{
		"pipewatch-overview/Step failures per minute by error type/A": "needs a failed step attempt",
		"pipewatch-overview/Pending steps by state (from Temporal)/A": "needs a step that waits for a worker while the sentinel scans",
		"pipewatch-alerts/Sentinel detections per hour/A":             "needs a problem the sentinel detects (a retrying, unstarted or stuck step)",
	}

	var boards []dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		boards = append(boards, d)
	}

	// Prometheus scraping the worker every second, started first so that
	// every series has points from its start.
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus not found: install Debian's prometheus package (make test does)")
	}
	cfg := testenv.Config(t)
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = freePort(t)
	testdata, err := filepath.Abs("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	cfg.ML.StoreDir = t.TempDir()
	cfg.ML.SourceRoots = testdata
	dir := t.TempDir()
	promCfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf("global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\nscrape_configs:\n  - job_name: pipewatch-worker\n    static_configs:\n      - targets: [%q]\n", cfg.HTTP.Addr)
	if err := os.WriteFile(promCfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freePort(t)
	prom := exec.Command(promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = prom.Process.Kill(); _ = prom.Wait() }()
	query := func(expr string) (int, error) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(expr))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var r struct {
			Status, Error string
			Data          struct{ Result []json.RawMessage }
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return 0, err
		}
		if r.Status != "success" {
			return 0, fmt.Errorf("%s", r.Error)
		}
		return len(r.Data.Result), nil
	}
	// seriesOf queries expr until it returns series, for up to 10s: on a
	// loaded machine a scrape of the -race worker can time out, and for
	// the scrape after that every series of the worker is stale.
	seriesOf := func(expr string) (int, error) {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Second) {
			n, err := query(expr)
			if err != nil || n > 0 || time.Now().After(deadline) {
				return n, err
			}
		}
	}

	// The worker, in-process, on its own task queue and port; everything
	// this test starts on the queue ends with it (alerts included).
	testenv.StartWorker(t, cfg)
	ctx := context.Background()
	tc := testenv.Temporal(t, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		open, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "TaskQueue = '" + cfg.Temporal.TaskQueue + "' AND ExecutionStatus = 'Running'"})
		if err != nil {
			t.Logf("list the test's open workflows: %v", err)
			return
		}
		for _, e := range open.GetExecutions() {
			_ = tc.TerminateWorkflow(ctx, e.GetExecution().GetWorkflowId(), "", "test over")
		}
	})

	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue}, workflows.DemoWorkflowName, workflows.DemoInput{Name: "grafana"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The ML pipeline as make run runs it, then a drifted batch through
	// the drift monitor (it raises data_drift).
	res, _ := testenv.RunMLPipeline(t, tc, cfg.Temporal.TaskQueue, filepath.Join(testdata, "cohort-sample.csv"), testenv.Name(t))
	run, err = tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue}, workflows.DriftMonitorName,
		activities.DriftInput{Batch: filepath.Join(testdata, "cohort-drifted-sample.csv")})
	if err != nil {
		t.Fatal(err)
	}
	var rep activities.DriftReport
	if err := run.Get(ctx, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.DataDrift {
		t.Errorf("the drifted batch shows no drift: %+v", rep)
	}

	// The sentinel counts the closed runs: a scan (every 10s) and two
	// scrapes later Prometheus has each, and every series before them.
	for _, p := range []string{workflows.DemoWorkflowName, workflows.MLPipelineName, workflows.DriftMonitorName} {
		expr := fmt.Sprintf(`count_over_time(pipewatch_workflow_outcomes_total{pipeline=%q,status="completed"}[1m]) >= 2`, p)
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
			if n, err := query(expr); err == nil && n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the sentinel's count of the %s run did not reach Prometheus in 60s", p)
			}
		}
	}
	time.Sleep(3 * time.Second) // the last series' second and third points

	// Each variable finds values (label_values(series, label) is
	// count by (label) (series) in PromQL).
	labelValues := regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)
	for _, d := range boards {
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(v.Definition)
			if m == nil {
				t.Errorf("%s: variable %s: %q is not label_values(series, label)", d.UID, v.Name, v.Definition)
				continue
			}
			expr := fmt.Sprintf("count by (%s) (%s)", m[2], strings.ReplaceAll(m[1], "$pipeline", ".*"))
			if n, err := seriesOf(expr); err != nil || n == 0 {
				t.Errorf("%s: variable %s finds no values: %s: %v", d.UID, v.Name, expr, err)
			}
		}
	}
	// The model variable offers the model this run registered.
	if n, err := seriesOf(fmt.Sprintf(`count(pipewatch_model_auc{model=%q})`, res.Model.Key)); err != nil || n == 0 {
		t.Errorf("model %s not among the model variable's values: %v", res.Model.Key, err)
	}

	// Every target of every panel.
	vars := strings.NewReplacer("$pipeline", ".*", "$step", ".*", "$model", ".*")
	var panels, withData int
	var empty, documented []string
	for _, d := range boards {
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			panels++
			full := len(p.Targets) > 0
			for _, target := range p.Targets {
				key := d.UID + "/" + p.Title + "/" + target.RefID
				expr := vars.Replace(target.Expr)
				n, err := seriesOf(expr)
				switch {
				case err != nil:
					t.Errorf("%s: invalid PromQL: %s: %v", key, expr, err)
					full = false
				case n == 0 && conditional[key] != "":
					documented = append(documented, key+": "+conditional[key])
					full = false
				case n == 0:
					empty = append(empty, key+": "+expr)
					full = false
				}
			}
			if full {
				withData++
			}
		}
	}
	// Again with the variables on this run's values: the ML pipeline and
	// the model it registered.
	one := strings.NewReplacer("$pipeline", workflows.MLPipelineName, "$step", ".*", "$model", res.Model.Key)
	filtered := 0
	for _, d := range boards {
		for _, p := range d.Panels {
			for _, target := range p.Targets {
				key := d.UID + "/" + p.Title + "/" + target.RefID
				if conditional[key] != "" || !strings.Contains(target.Expr, "$pipeline") && !strings.Contains(target.Expr, "$model") {
					continue
				}
				filtered++
				expr := one.Replace(target.Expr)
				if n, err := seriesOf(expr); err != nil || n == 0 {
					empty = append(empty, key+" (pipeline "+workflows.MLPipelineName+", model "+res.Model.Key+"): "+expr)
				}
			}
		}
	}
	t.Logf("%d dashboards, %d panels, %d with data in every target; %d targets empty as documented, %d empty without reason; %d targets with a variable checked again with the ML pipeline and its model",
		len(boards), panels, withData, len(documented), len(empty), filtered)
	slices.Sort(documented)
	for _, e := range documented {
		t.Logf("  empty as documented: %s", e)
	}
	if len(empty) > 0 {
		slices.Sort(empty)
		t.Errorf("targets with no data after the demo, the ML pipeline and a drifted batch ran:\n  %s", strings.Join(empty, "\n  "))
	}
	if panels < 60 {
		t.Errorf("%d panels, want the six dashboards' 60+", panels)
	}
}
