package metrics

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Options configures New. The zero value is ready to use.
type Options struct {
	// Version is reported by pipewatch_build_info. Empty means "dev".
	Version string
	// ReportEvery is how often tally flushes the SDK's metrics into the
	// registry. Zero means one second.
	ReportEvery time.Duration
}

// Registry is the Prometheus registry shared by the Temporal SDK (through
// tally) and pipewatch's own metrics.
type Registry struct {
	// Prom is the underlying registry; register pipewatch collectors here.
	Prom *prometheus.Registry

	scope          tally.Scope
	closer         io.Closer
	registerErrors prometheus.Counter
}

// StepBuckets are histogram buckets, in seconds, for durations of ML steps
// and workflows: from 5 ms to 6 hours.
func StepBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
		60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600}
}

// New builds the registry with the Go and process collectors, the tally
// bridge for the Temporal SDK's metrics and pipewatch_build_info.
func New(opts Options) (*Registry, error) {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.ReportEvery == 0 {
		opts.ReportEvery = time.Second
	}
	reg := prometheus.NewRegistry()
	r := &Registry{
		Prom: reg,
		registerErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipewatch_metrics_register_errors_total",
			Help: "Temporal SDK metrics that could not be registered with Prometheus (a name reused with other labels), count.",
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "pipewatch_build_info",
		Help:        "Always 1; the labels tell the pipewatch and Go versions.",
		ConstLabels: prometheus.Labels{"version": opts.Version, "go_version": runtime.Version()},
	})
	build.Set(1)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.registerErrors, build,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register collector: %w", err)
		}
	}

	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              reg,
		Gatherer:                reg,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: StepBuckets(),
		// The SDK registers some names with differing label sets; a panic
		// (tally's default) would take the worker down, so count instead.
		OnRegisterError: func(error) { r.registerErrors.Inc() },
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally's own tally_internal_*_cardinality gauges carry their type
		// in their names, which Prometheus' naming rules (promtool check
		// metrics) refuse; they tell nothing the registry does not.
		OmitCardinalityMetrics: true,
	}, opts.ReportEvery)
	r.scope = sdktally.NewPrometheusNamingScope(scope)
	r.closer = closer
	return r, nil
}

// MetricsHandler is the Temporal SDK metrics handler to pass in
// client.Options.MetricsHandler.
func (r *Registry) MetricsHandler() client.MetricsHandler {
	return sdktally.NewMetricsHandler(r.scope)
}

// Handler serves the registry in the Prometheus exposition format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Prom, promhttp.HandlerOpts{Registry: r.Prom})
}

// Close flushes and stops the tally reporting loop.
func (r *Registry) Close() error {
	if err := r.closer.Close(); err != nil {
		return fmt.Errorf("close tally scope: %w", err)
	}
	return nil
}
