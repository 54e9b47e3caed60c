package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/metrics"
)

// TestMLPipelineMetrics runs the pipeline on the sample with bad rows
// added, and checks the data-quality counts of its validation, the
// evaluation gauges of its model and the registry's decision.
func TestMLPipelineMetrics(t *testing.T) {
	good, err := os.ReadFile("../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	// The sample has one implausible row (P000159's hippocampal volume).
	// Added: two repeated ids, two implausible ages (one also with an
	// implausible CDR: the age is the reason, the first rule broken), one
	// implausible MMSE.
	bad := []string{
		lines[1], lines[2],
		"X000001,200,M,14,30,0.5,0,3516,1229.2,0",
		"X000002,200,F,14,30,9,0,3516,1229.2,1",
		"X000003,70,F,14,45,0.5,0,3516,1229.2,1",
	}
	src := filepath.Join(t.TempDir(), "batch.csv")
	if err := os.WriteFile(src, []byte(strings.Join(append(lines, bad...), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	data, err := metrics.NewData(reg)
	if err != nil {
		t.Fatal(err)
	}
	model, err := metrics.NewModel(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := mlEnvFor(t, &activities.ML{Store: t.TempDir(), SourceRoots: []string{os.TempDir()}, Data: data, Model: model})
	env.ExecuteWorkflow(MLPipelineName, MLPipelineInput{Source: src, ModelName: "cohort-dementia"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res MLPipelineResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	// The bad rows dropped, the rest is the sample: its exact evaluation.
	if ev := res.Evaluation; res.Rows != 199 || ev.N != 39 || ev.AUC != 0.96875 {
		t.Fatalf("result: %d rows, evaluation %+v; want the sample's 199 rows, 39 held out, AUC 0.96875", res.Rows, ev)
	}

	const p, s = `pipeline="pipewatch.MLPipeline"`, `step="pipewatch.ml.Validate"`
	want := `
# HELP pipewatch_data_rows_total Rows validated, by outcome (accepted, rejected), count.
# TYPE pipewatch_data_rows_total counter
pipewatch_data_rows_total{outcome="accepted",` + p + `,` + s + `} 199
pipewatch_data_rows_total{outcome="rejected",` + p + `,` + s + `} 6
# HELP pipewatch_data_rows_rejected_total Rows rejected by validation, by reason (the rule that rejected them), count.
# TYPE pipewatch_data_rows_rejected_total counter
pipewatch_data_rows_rejected_total{` + p + `,reason="duplicate_id",` + s + `} 2
pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_age",` + s + `} 2
pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_apoe4_carrier",` + s + `} 0
pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_cdr",` + s + `} 0
pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_education_years",` + s + `} 0
pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_hippocampal_volume_mm3",` + s + `} 1
pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_mmse",` + s + `} 1
pipewatch_data_rows_rejected_total{` + p + `,reason="out_of_range_whole_brain_volume_cm3",` + s + `} 0
# HELP pipewatch_data_quality_checks_total Data-quality checks run on batches, by check and result (pass, fail), count.
# TYPE pipewatch_data_quality_checks_total counter
pipewatch_data_quality_checks_total{check="missing_values",` + p + `,result="fail"} 0
pipewatch_data_quality_checks_total{check="missing_values",` + p + `,result="pass"} 1
pipewatch_data_quality_checks_total{check="schema",` + p + `,result="fail"} 0
pipewatch_data_quality_checks_total{check="schema",` + p + `,result="pass"} 1
pipewatch_data_quality_checks_total{check="unique_ids",` + p + `,result="fail"} 1
pipewatch_data_quality_checks_total{check="unique_ids",` + p + `,result="pass"} 0
pipewatch_data_quality_checks_total{check="value_ranges",` + p + `,result="fail"} 1
pipewatch_data_quality_checks_total{check="value_ranges",` + p + `,result="pass"} 0
# HELP pipewatch_model_promotions_total Model versions registered, by model and decision (promoted, rejected), count.
# TYPE pipewatch_model_promotions_total counter
pipewatch_model_promotions_total{decision="promoted",model="models/cohort-dementia"} 1
`
	names := []string{"pipewatch_data_rows_total", "pipewatch_data_rows_rejected_total", "pipewatch_data_quality_checks_total", "pipewatch_model_promotions_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}

	// The five evaluation gauges of this model version: the evaluation's
	// exact figures.
	version := activities.ShortVersion(res.Model.Version)
	if !strings.HasPrefix(version, "sha256:") || len(version) != len("sha256:")+12 {
		t.Errorf("version label %q, want sha256: and 12 hex digits", version)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "pipewatch_model_evaluation" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["model"] != "models/cohort-dementia" || l["version"] != version {
				t.Errorf("evaluation series with labels %v, want model models/cohort-dementia, version %s", l, version)
			}
			got[l["metric"]] = m.GetGauge().GetValue()
		}
	}
	ev := res.Evaluation
	wantEv := map[string]float64{"auc": ev.AUC, "accuracy": ev.Accuracy, "precision": ev.Precision, "recall": ev.Recall, "brier": ev.Brier}
	if len(got) != 5 {
		t.Errorf("evaluation series %v, want 5", got)
	}
	for k, v := range wantEv {
		if got[k] != v || v == 0 {
			t.Errorf("pipewatch_model_evaluation{metric=%q} = %v, want %v (nonzero)", k, got[k], v)
		}
	}
}

// TestMLPipelineMetricsOnTooManyMissing: a column missing more than 20%
// of its values fails validation: the check fails, and no rows are
// counted (none was kept or rejected).
func TestMLPipelineMetricsOnTooManyMissing(t *testing.T) {
	good, err := os.ReadFile("../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	for i := 1; i <= 60; i++ { // 60 of 200 rows lose their MMSE (column 5), 4 had none: 32%
		f := strings.Split(lines[i], ",")
		f[4] = ""
		lines[i] = strings.Join(f, ",")
	}
	src := filepath.Join(t.TempDir(), "batch.csv")
	if err := os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	data, err := metrics.NewData(reg)
	if err != nil {
		t.Fatal(err)
	}
	env := mlEnvFor(t, &activities.ML{Store: t.TempDir(), SourceRoots: []string{os.TempDir()}, Data: data})
	env.ExecuteWorkflow(MLPipelineName, MLPipelineInput{Source: src})
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "column mmse misses 32.0% of its values") {
		t.Fatalf("error %v, want validation to fail on mmse", err)
	}
	const p = `pipeline="pipewatch.MLPipeline"`
	want := `
# HELP pipewatch_data_quality_checks_total Data-quality checks run on batches, by check and result (pass, fail), count.
# TYPE pipewatch_data_quality_checks_total counter
pipewatch_data_quality_checks_total{check="missing_values",` + p + `,result="fail"} 1
pipewatch_data_quality_checks_total{check="missing_values",` + p + `,result="pass"} 0
pipewatch_data_quality_checks_total{check="schema",` + p + `,result="fail"} 0
pipewatch_data_quality_checks_total{check="schema",` + p + `,result="pass"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pipewatch_data_quality_checks_total", "pipewatch_data_rows_total"); err != nil {
		t.Error(err)
	}
}
