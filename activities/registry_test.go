package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/metrics"
)

// A restarted worker shows the evaluations of the registered versions, as
// the worker that evaluated them did: the latest five of each model, every
// metric with its value; no registry shows none, and a broken one is an
// error naming the file.
func TestRestoreEvaluationsFromTheRegistry(t *testing.T) {
	model := func(key string, i int) lineage.Dataset {
		return lineage.Dataset{Kind: lineage.Model, Key: key, Version: lineage.Digest(fmt.Appendf(nil, "%s-%d", key, i))}
	}
	eval := func(i int) Evaluation {
		return Evaluation{AUC: 0.7 + float64(i)/100, Accuracy: 0.8, Precision: 0.6 + float64(i)/100, Recall: 0.5, Brier: 0.125, N: 40}
	}
	head := "# HELP pipewatch_model_evaluation Model quality on the held-out split when the pipeline evaluated it, by model, version (the artifact's short digest; the latest 5 versions per model) and metric (auc, accuracy, precision, recall, brier), ratio.\n# TYPE pipewatch_model_evaluation gauge\n"
	series := func(key string, i int) string {
		var b strings.Builder
		e := eval(i)
		for _, m := range []struct {
			name string
			v    float64
		}{{"accuracy", e.Accuracy}, {"auc", e.AUC}, {"brier", e.Brier}, {"precision", e.Precision}, {"recall", e.Recall}} {
			fmt.Fprintf(&b, "pipewatch_model_evaluation{metric=%q,model=%q,version=%q} %g\n", m.name, key, ShortVersion(model(key, i).Version), m.v)
		}
		return b.String()
	}
	tests := []struct {
		name     string
		registry func(t *testing.T, store string)
		versions int
		want     string // exposition; "" for no series
		err      string
	}{
		{"no registry", func(*testing.T, string) {}, 0, "", ""},
		{"seven versions of one model, one of another", func(t *testing.T, store string) {
			m := &ML{Store: store}
			for i := 1; i <= 7; i++ {
				if _, err := m.Register(context.Background(), RegisterInput{Model: model("models/churn", i), Evaluation: eval(i)}); err != nil {
					t.Fatal(err)
				}
				if i == 4 {
					if _, err := m.Register(context.Background(), RegisterInput{Model: model("models/fraud", 1), Evaluation: eval(1)}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}, 8, head + series("models/churn", 3) + series("models/churn", 4) + series("models/churn", 5) +
			series("models/churn", 6) + series("models/churn", 7) + series("models/fraud", 1), ""},
		{"broken registry", func(t *testing.T, store string) {
			if err := os.WriteFile(filepath.Join(store, "registry.json"), []byte(`[{"version": 1,`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 0, "", "registry.json: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := t.TempDir()
			tt.registry(t, store)
			reg := prometheus.NewRegistry()
			mm, err := metrics.NewModel(reg, nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := (&ML{Store: store, Model: mm}).RestoreEvaluations()
			if tt.err != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.err) || !strings.Contains(err.Error(), store) {
					t.Fatalf("RestoreEvaluations: %v, want an error naming %s and ending %q", err, store, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if n != tt.versions {
				t.Errorf("restored %d versions, want %d", n, tt.versions)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tt.want), "pipewatch_model_evaluation"); err != nil {
				t.Error(err)
			}
		})
	}
}
