package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/lineage"
)

// MLPipelineName is the registered name of MLPipelineWorkflow.
const MLPipelineName = "pipewatch.MLPipeline"

// MLPipelineInput starts the reference ML pipeline.
type MLPipelineInput struct {
	// Source is the cohort CSV to learn from.
	Source string
	// ModelName names the model across versions (the ModelName search
	// attribute).
	ModelName string
	// MinAUC is the bar for promotion; zero means 0.75.
	MinAUC float64
	// L2 is the training penalty; zero means 0.01.
	L2 float64
}

// MLPipelineResult is what the pipeline made.
type MLPipelineResult struct {
	Model        lineage.Dataset
	Evaluation   activities.Evaluation
	Registration activities.Registration
	Predictions  lineage.Dataset
	Rows         int
}

// stepOptions are each step's timeouts and retries: I/O steps retry
// quickly, training gets time; bad input is never retried (the steps
// return non-retryable errors for it).
func stepOptions(ctx workflow.Context, startToClose time.Duration, attempts int32) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: startToClose,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: attempts},
	})
}

// MLPipelineWorkflow ingests, validates, featurizes, trains, evaluates,
// registers and predicts: the reference workload pipewatch observes end to
// end. Each step passes lineage.Dataset references, so the lineage from the
// source to the predictions is recorded without a line of lineage code
// here.
func MLPipelineWorkflow(ctx workflow.Context, in MLPipelineInput) (MLPipelineResult, error) {
	var res MLPipelineResult
	var ing activities.IngestOutput
	if err := workflow.ExecuteActivity(stepOptions(ctx, 5*time.Minute, 3), activities.IngestName, activities.IngestInput{Source: in.Source}).Get(ctx, &ing); err != nil {
		return res, fmt.Errorf("ingest: %w", err)
	}
	var val activities.ValidateOutput
	if err := workflow.ExecuteActivity(stepOptions(ctx, 5*time.Minute, 3), activities.ValidateName, ing.Raw).Get(ctx, &val); err != nil {
		return res, fmt.Errorf("validate: %w", err)
	}
	var feat activities.FeaturesOutput
	if err := workflow.ExecuteActivity(stepOptions(ctx, 10*time.Minute, 3), activities.FeaturesName, val.Validated).Get(ctx, &feat); err != nil {
		return res, fmt.Errorf("features: %w", err)
	}
	var tr activities.TrainOutput
	if err := workflow.ExecuteActivity(stepOptions(ctx, 30*time.Minute, 2), activities.TrainName,
		activities.TrainInput{Features: feat.Features, ModelName: in.ModelName, L2: in.L2}).Get(ctx, &tr); err != nil {
		return res, fmt.Errorf("train: %w", err)
	}
	res.Model = tr.Model
	pair := activities.EvaluateInput{Model: tr.Model, Features: feat.Features}
	if err := workflow.ExecuteActivity(stepOptions(ctx, 10*time.Minute, 3), activities.EvaluateName, pair).Get(ctx, &res.Evaluation); err != nil {
		return res, fmt.Errorf("evaluate: %w", err)
	}
	if err := workflow.ExecuteActivity(stepOptions(ctx, time.Minute, 5), activities.RegisterName,
		activities.RegisterInput{Model: tr.Model, Reference: val.Validated, Evaluation: res.Evaluation, MinAUC: in.MinAUC}).Get(ctx, &res.Registration); err != nil {
		return res, fmt.Errorf("register: %w", err)
	}
	var pred activities.PredictOutput
	if err := workflow.ExecuteActivity(stepOptions(ctx, 10*time.Minute, 3), activities.PredictName, pair).Get(ctx, &pred); err != nil {
		return res, fmt.Errorf("predict: %w", err)
	}
	res.Predictions, res.Rows = pred.Predictions, pred.Rows
	return res, nil
}

// DriftMonitorName is the registered name of DriftMonitorWorkflow.
const DriftMonitorName = "pipewatch.DriftMonitor"

// DriftMonitorWorkflow checks a new batch against the promoted model's
// training data and labels (activities.ML.CheckDrift), raising data_drift
// and model_degradation alerts; run it on a Temporal Schedule.
func DriftMonitorWorkflow(ctx workflow.Context, in activities.DriftInput) (activities.DriftReport, error) {
	var rep activities.DriftReport
	err := workflow.ExecuteActivity(stepOptions(ctx, 10*time.Minute, 3), activities.DriftName, in).Get(ctx, &rep)
	return rep, err
}
