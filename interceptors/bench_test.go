package interceptors

import (
	"context"
	"io"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipewatch/pipewatch/metrics"
)

// nopInbound is the rest of the chain: an activity that returns at once.
type nopInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (*nopInbound) Init(interceptor.ActivityOutboundInterceptor) error { return nil }

func (*nopInbound) ExecuteActivity(context.Context, *interceptor.ExecuteActivityInput) (any, error) {
	return nil, nil
}

// BenchmarkInterceptorStep is pipewatch's hot path for one activity
// attempt: the start and end events through the log observer (JSON encoded,
// written to io.Discard) and the metrics observer, resources read with
// metrics.ProcessSampler as the worker does. It
// runs inside a real activity context of the testsuite; no I/O.
func BenchmarkInterceptorStep(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, err := metrics.NewPipeline(reg)
	if err != nil {
		b.Fatal(err)
	}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel)
	var usage metrics.ProcessSampler
	usage.SampleRSS()
	ic := New(Options{
		Observers: []Observer{NewLogObserver(zap.New(core)), NewMetricsObserver(m)},
		Usage:     usage.Load,
	})
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		in := ic.InterceptActivity(ctx, &nopInbound{})
		input := &interceptor.ExecuteActivityInput{}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := in.ExecuteActivity(ctx, input); err != nil {
				return err
			}
		}
		return nil
	}, activity.RegisterOptions{Name: "bench"})
	if _, err := env.ExecuteActivity("bench"); err != nil {
		b.Fatal(err)
	}
}
