//go:build integration

package workflows_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/internal/testenv"
)

// TestMLPipelineMetricsOnTheWorkerIntegration runs the pipeline on the
// sample through the real worker and reads its /metrics: the validation's
// rows, reasons and checks, the model's five evaluation figures under its
// short version, the promotion, and the disk of each configured folder;
// promtool finds nothing to say about the exposition.
func TestMLPipelineMetricsOnTheWorkerIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.Temporal.TaskQueue = testenv.Name(t)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.ML.StoreDir = t.TempDir()
	cfg.ML.SourceRoots = os.TempDir()
	cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
	cfg.Log.Dir = t.TempDir()
	addr := testenv.StartWorker(t, cfg)
	tc := testenv.Temporal(t, cfg)
	sample, err := os.ReadFile("../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(t.TempDir(), "cohort.csv")
	if err := os.WriteFile(source, sample, 0o600); err != nil {
		t.Fatal(err)
	}
	model := testenv.Name(t)
	res, _ := testenv.RunMLPipeline(t, tc, cfg.Temporal.TaskQueue, source, model)
	if res.Rows != 199 || !res.Registration.Promoted {
		t.Fatalf("result %+v", res)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	scraped := string(body)
	const p, s = `pipeline="pipewatch.MLPipeline"`, `step="pipewatch.ml.Validate"`
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	m, v := `model="models/`+model+`"`, `version="`+activities.ShortVersion(res.Model.Version)+`"`
	ev := res.Evaluation
	want := []string{
		// The sample's one implausible row: P000159's hippocampal volume.
		`pipewatch_data_rows_total{outcome="accepted",` + p + `,` + s + `} 199`,
		`pipewatch_data_rows_total{outcome="rejected",` + p + `,` + s + `} 1`,
		`pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_hippocampal_volume_mm3",` + s + `} 1`,
		`pipewatch_data_rows_rejected_total{` + p + `,reason="duplicate_id",` + s + `} 0`,
		`pipewatch_data_quality_checks_total{check="schema",` + p + `,result="pass"} 1`,
		`pipewatch_data_quality_checks_total{check="missing_values",` + p + `,result="pass"} 1`,
		`pipewatch_data_quality_checks_total{check="value_ranges",` + p + `,result="fail"} 1`,
		`pipewatch_data_quality_checks_total{check="unique_ids",` + p + `,result="pass"} 1`,
		`pipewatch_model_evaluation{metric="auc",` + m + `,` + v + `} ` + f(ev.AUC),
		`pipewatch_model_evaluation{metric="accuracy",` + m + `,` + v + `} ` + f(ev.Accuracy),
		`pipewatch_model_evaluation{metric="precision",` + m + `,` + v + `} ` + f(ev.Precision),
		`pipewatch_model_evaluation{metric="recall",` + m + `,` + v + `} ` + f(ev.Recall),
		`pipewatch_model_evaluation{metric="brier",` + m + `,` + v + `} ` + f(ev.Brier),
		`pipewatch_model_promotions_total{decision="promoted",` + m + `} 1`,
	}
	for _, line := range want {
		if !strings.Contains(scraped, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if n := strings.Count(scraped, "\npipewatch_model_evaluation{"); n != 5 {
		t.Errorf("%d evaluation series, want 5", n)
	}
	for _, use := range []string{"logs", "spool", "data"} {
		if !strings.Contains(scraped, "\npipewatch_host_disk_free_bytes{use=\""+use+"\"} ") {
			t.Errorf("/metrics lacks the free space of %s", use)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (apt-get install prometheus)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scraped)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics on the worker's /metrics: %v\n%s", err, out)
	}
}
