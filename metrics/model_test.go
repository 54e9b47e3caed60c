package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestModelEvaluationKeepsTheLatestFiveVersions(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewModel(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		m.SetEvaluation("models/churn", fmt.Sprintf("sha256:v%d", i), map[string]float64{"auc": float64(i) / 10, "brier": 0.5})
	}
	m.SetEvaluation("models/fraud", "sha256:f1", map[string]float64{"auc": 0.9})
	m.SetEvaluation("models/churn", "sha256:v3", map[string]float64{"auc": 0.33}) // again: the latest now
	m.SetEvaluation("models/churn", "sha256:v7", map[string]float64{"auc": 0.7})  // v2 goes, not v3
	var want strings.Builder
	want.WriteString(`
# HELP pipewatch_model_evaluation Model quality on the held-out split when the pipeline evaluated it, by model, version (the artifact's short digest; the latest 5 versions per model) and metric (auc, accuracy, precision, recall, brier), ratio.
# TYPE pipewatch_model_evaluation gauge
`)
	for _, s := range []struct {
		v     string
		auc   float64
		brier bool
	}{{"v3", 0.33, true}, {"v4", 0.4, true}, {"v5", 0.5, true}, {"v6", 0.6, true}, {"v7", 0.7, false}} {
		fmt.Fprintf(&want, "pipewatch_model_evaluation{metric=\"auc\",model=\"models/churn\",version=\"sha256:%s\"} %g\n", s.v, s.auc)
		if s.brier {
			fmt.Fprintf(&want, "pipewatch_model_evaluation{metric=\"brier\",model=\"models/churn\",version=\"sha256:%s\"} 0.5\n", s.v)
		}
	}
	want.WriteString("pipewatch_model_evaluation{metric=\"auc\",model=\"models/fraud\",version=\"sha256:f1\"} 0.9\n")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want.String()), "pipewatch_model_evaluation"); err != nil {
		t.Error(err)
	}
}
