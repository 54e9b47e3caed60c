package interceptors_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/metrics"
)

// A team that runs its own worker adds pipewatch with one interceptor, its
// own zap logger and its own Prometheus registry. Here the worker is the
// SDK's test environment; with a real one it reads
//
//	w := worker.New(c, "ml", worker.Options{Interceptors: []interceptor.WorkerInterceptor{pw}})
func Example() {
	reg := prometheus.NewRegistry() // the team's registry, served on its /metrics
	m, err := metrics.NewPipeline(reg)
	if err != nil {
		panic(err)
	}
	logger := zap.NewNop() // the team's logger
	pw := interceptors.New(interceptors.Options{
		Observers: []interceptors.Observer{interceptors.NewLogObserver(logger), interceptors.NewMetricsObserver(m)},
	})

	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{pw}})
	env.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "train"})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "train").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "churn-model"})
	env.ExecuteWorkflow("churn-model")

	v, _ := env.QueryWorkflow(interceptors.ProgressQuery)
	var p interceptors.Progress
	_ = v.Get(&p)
	fmt.Println(p.Pipeline, p.Status, p.Steps[0].Step, p.Steps[0].Status)
	fmt.Println(testutil.ToFloat64(m.StepAttempts.WithLabelValues("churn-model", "train")))
	fmt.Println(testutil.ToFloat64(m.StepOutcomes.WithLabelValues("churn-model", "train", "activity", "completed")))
	// Output:
	// churn-model completed train completed
	// 1
	// 1
}
