package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/activities/cohort"
)

func mlEnv(t *testing.T, store string) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	return mlEnvFor(t, &activities.ML{Store: store, SourceRoots: []string{"../testdata", os.TempDir()}})
}

// mlEnvFor is mlEnv with the steps of ml.
func mlEnvFor(t *testing.T, ml *activities.ML) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(MLPipelineWorkflow, workflow.RegisterOptions{Name: MLPipelineName})
	env.RegisterWorkflowWithOptions(DriftMonitorWorkflow, workflow.RegisterOptions{Name: DriftMonitorName})
	for name, fn := range map[string]any{
		activities.IngestName: ml.Ingest, activities.ValidateName: ml.Validate, activities.FeaturesName: ml.Features,
		activities.TrainName: ml.Train, activities.EvaluateName: ml.Evaluate, activities.RegisterName: ml.Register,
		activities.PredictName: ml.Predict, activities.DriftName: ml.CheckDrift,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return env
}

func TestMLPipelineOnTheSample(t *testing.T) {
	store := t.TempDir()
	var audited []string
	ml := &activities.ML{Store: store, SourceRoots: []string{"../testdata", os.TempDir()},
		Audit: func(_ context.Context, event string, d map[string]any) error {
			audited = append(audited, fmt.Sprintf("%s %v %v %v %v %v", event, d["step"], d["attempt"], d["purpose"], d["dataset"], d["action"]))
			return nil
		}}
	env := mlEnvFor(t, ml)
	env.ExecuteWorkflow(MLPipelineName, MLPipelineInput{Source: "../testdata/cohort-sample.csv", ModelName: "cohort-dementia"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res MLPipelineResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	// Deterministic data, split and optimizer: exact numbers.
	ev := res.Evaluation
	if res.Rows != 199 || ev.N != 39 || ev.AUC != 0.96875 || res.Registration != (activities.Registration{Version: 1, Promoted: true, Reason: "AUC 0.969 passes the bar 0.75"}) {
		t.Errorf("result: %d rows, evaluation %+v, registration %+v", res.Rows, ev, res.Registration)
	}
	if res.Model.Key != "models/cohort-dementia" || res.Predictions.Key != "cohort/predictions" || *res.Predictions.Facets.Rows != 199 {
		t.Errorf("datasets: %+v %+v", res.Model, res.Predictions)
	}
	// The source read, the registration and the promotion are audited.
	src, _ := filepath.Abs("../testdata/cohort-sample.csv")
	want := []string{
		"data_access pipewatch.ml.Ingest 1 ingest file://" + src + " <nil>",
		"model_deployment pipewatch.ml.Register 1 <nil> <nil> registered",
		"model_deployment pipewatch.ml.Register 1 <nil> <nil> promoted",
	}
	if !slices.Equal(audited, want) {
		t.Errorf("audit records:\n%s\nwant\n%s", strings.Join(audited, "\n"), strings.Join(want, "\n"))
	}
	// The same data again: the same model version, registered once; the
	// read is audited again, the registration not.
	audited = nil
	env = mlEnvFor(t, ml)
	env.ExecuteWorkflow(MLPipelineName, MLPipelineInput{Source: "../testdata/cohort-sample.csv", ModelName: "cohort-dementia"})
	var again MLPipelineResult
	if err := env.GetWorkflowResult(&again); err != nil {
		t.Fatal(err)
	}
	if again.Model.Version != res.Model.Version || again.Registration.Version != 1 || again.Registration.Reason != "already registered" {
		t.Errorf("second run: model %s, registration %+v", again.Model.Version, again.Registration)
	}
	if !slices.Equal(audited, want[:1]) {
		t.Errorf("second run's audit records %q, want %q", audited, want[:1])
	}
}

func TestMLPipelineStopsOnBadInput(t *testing.T) {
	good, err := os.ReadFile("../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(good), "\n", 4)
	row2 := strings.Split(lines[2], ",")
	row2[3] = "twelve" // education_years
	tests := []struct {
		name, csv, want string
	}{
		{"missing column", strings.Replace(string(good), "mmse,", "mmse_score,", 1), `column "mmse": missing from the header`},
		{"non-numeric value", lines[0] + "\n" + lines[1] + "\n" + strings.Join(row2, ",") + "\n",
			`row 2, column "education_years": is not a number`},
		{"empty file", "", "the file is empty (no header, no rows)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "batch.csv")
			if err := os.WriteFile(src, []byte(tt.csv), 0o600); err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(dir, "store")
			env := mlEnv(t, store)
			env.ExecuteWorkflow(MLPipelineName, MLPipelineInput{Source: src})
			err := env.GetWorkflowError()
			var act *temporal.ActivityError
			var app *temporal.ApplicationError
			if !errors.As(err, &act) || !errors.As(act.Unwrap(), &app) || app.Type() != "SchemaError" || !app.NonRetryable() || !strings.HasSuffix(app.Message(), tt.want) {
				t.Fatalf("error %v, want a non-retryable SchemaError saying %s", err, tt.want)
			}
			if entries, _ := os.ReadDir(store); len(entries) != 0 {
				t.Errorf("the store holds %v: something ran after ingest", entries)
			}
		})
	}
}

func TestDriftMonitor(t *testing.T) {
	store := t.TempDir()
	env := mlEnv(t, store)
	env.ExecuteWorkflow(MLPipelineName, MLPipelineInput{Source: "../testdata/cohort-sample.csv"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	clean := filepath.Join(t.TempDir(), "clean.csv")
	f, err := os.Create(clean)
	if err != nil {
		t.Fatal(err)
	}
	if err := cohort.Generate(f, cohort.Options{Rows: 200, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	// The same clean batch with its labels turned around: the features do
	// not move, the model's AUC on the labels does.
	cleanBytes, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	var flippedRows []string
	for i, line := range strings.Split(strings.TrimSpace(string(cleanBytes)), "\n") {
		if i > 0 {
			if strings.HasSuffix(line, ",1") {
				line = strings.TrimSuffix(line, ",1") + ",0"
			} else {
				line = strings.TrimSuffix(line, ",0") + ",1"
			}
		}
		flippedRows = append(flippedRows, line)
	}
	flipped := filepath.Join(t.TempDir(), "flipped.csv")
	if err := os.WriteFile(flipped, []byte(strings.Join(flippedRows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		batch        string
		wantDrift    bool
		wantDrifted  string
		wantDegraded bool
	}{
		{"../testdata/cohort-drifted-sample.csv", true, "age,mmse,hippocampal_volume_mm3,whole_brain_volume_cm3", false},
		{clean, false, "", false},
		{flipped, false, "", true},
	} {
		env := mlEnv(t, store)
		env.ExecuteWorkflow(DriftMonitorName, activities.DriftInput{Batch: tt.batch})
		var rep activities.DriftReport
		if err := env.GetWorkflowResult(&rep); err != nil {
			t.Fatal(err)
		}
		var lines, driftedFeatures []string
		for _, f := range rep.Features {
			lines = append(lines, fmt.Sprintf("%s psi=%.3f ks=%.3f p=%.2g js=%.3f drifted=%v", f.Feature, f.PSI, f.KS, f.KSP, f.JS, f.Drifted))
			if f.Drifted {
				driftedFeatures = append(driftedFeatures, f.Feature)
			}
		}
		t.Logf("%s: share %.2f, AUC %.3f vs %.3f\n%s", filepath.Base(tt.batch), rep.DriftedShare, rep.CurrentAUC, rep.RegisteredAUC, strings.Join(lines, "\n"))
		if rep.DataDrift != tt.wantDrift || strings.Join(driftedFeatures, ",") != tt.wantDrifted || rep.Degraded != tt.wantDegraded || !rep.Labelled {
			t.Errorf("%s: data drift %v (features %v), degraded %v; want %v (%s), degraded %v",
				tt.batch, rep.DataDrift, driftedFeatures, rep.Degraded, tt.wantDrift, tt.wantDrifted, tt.wantDegraded)
		}
	}
}
