package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/alerts/history"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/dirlock"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/metrics"
	"github.com/pipewatch/pipewatch/sentinel"
	"github.com/pipewatch/pipewatch/workflows"
)

// Options carries what Run takes besides the configuration.
type Options struct {
	// Version is reported in logs and pipewatch_build_info. Empty means "dev".
	Version string
	// Ready, when set, receives the HTTP address once the worker polls and
	// the endpoints serve; tests use it to learn a ":0" port.
	Ready func(httpAddr string)
}

// Run starts the pipewatch worker and blocks until ctx is done, then stops
// gracefully within cfg.ShutdownTimeout: the Temporal worker drains its
// running tasks, the HTTP server finishes its requests, and buffers are
// flushed. Temporal must answer at start; Neo4j may be down (reported by
// /readyz).
func Run(ctx context.Context, cfg Config, logs *logging.Loggers, opts Options) error {
	log := logs.Main.With(zap.String("component", "worker"), zap.String("task_queue", cfg.Temporal.TaskQueue))
	// Certificates first: a bad file stops the start before any
	// connection, naming the setting, the file and the reason.
	if err := checkTLSFiles(cfg); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := AuditConfigChange(logs.Audit, cfg); err != nil {
		return fmt.Errorf("audit configuration: %w", err)
	}
	reg, err := metrics.New(metrics.Options{Version: opts.Version})
	if err != nil {
		return err
	}
	defer closeLogged(log, "metrics", reg.Close)

	pipeline, err := metrics.NewPipeline(reg.Prom)
	if err != nil {
		return err
	}

	dialCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	tc, err := DialTemporal(dialCtx, cfg.Temporal, logging.NewTemporalLogger(logs.Main), reg.MetricsHandler())
	cancel()
	if err != nil {
		return err
	}
	defer tc.Close()

	var usage metrics.ProcessSampler
	samplerCtx, stopSampler := context.WithCancel(context.Background())
	samplerDone := make(chan struct{})
	go func() { defer close(samplerDone); usage.Run(samplerCtx, 5*time.Second) }()
	defer func() { stopSampler(); <-samplerDone }()

	missing, err := retryCheck(ctx, 30*time.Second, func(ctx context.Context) ([]string, error) {
		return MissingSearchAttributes(ctx, tc, cfg.Temporal.Namespace)
	})
	if err != nil {
		return fmt.Errorf("check the namespace's search attributes (not assumed missing: that would change what new runs do): %w", err)
	}
	searchAttributes := len(missing) == 0
	if !searchAttributes {
		log.Warn("search attributes not written by new runs: register them as Keyword (scripts/temporal.sh does) and restart",
			zap.Strings("missing", missing))
	}
	alertLog := logs.Main.With(zap.String("component", "alerts"))
	raiser := &alerts.Raiser{TaskQueue: cfg.Temporal.TaskQueue, Policy: AlertPolicy(cfg.Alerts, searchAttributes)}
	alertMetrics, err := metrics.NewAlerts(reg.Prom)
	if err != nil {
		return err
	}
	channels, err := Notifiers(cfg.Alerts, alertLog)
	if err != nil {
		return err
	}
	notifiers := &alerts.Notifiers{Channels: channels, Log: alertLog, Audit: logs.Audit, Metrics: alertMetrics}
	for ch := range notifiers.Channels { // zeros from the start, so rates and "none sent" show
		for _, kind := range []string{alerts.KindFirst, alerts.KindSummary, alerts.KindEscalation, alerts.KindResolved, alerts.KindClosed} {
			for _, status := range []string{"sent", "failed"} {
				alertMetrics.Notifications.WithLabelValues(ch, kind, status)
			}
			for _, sev := range []alerts.Severity{alerts.Info, alerts.Warning, alerts.Critical} {
				alertMetrics.Undelivered.WithLabelValues(ch, kind, string(sev))
			}
		}
	}
	for _, t := range alerts.Types() {
		for _, sev := range []alerts.Severity{alerts.Info, alerts.Warning, alerts.Critical} {
			alertMetrics.Fires.WithLabelValues(string(t), string(sev))
			alertMetrics.Raised.WithLabelValues(string(t), string(sev))
		}
	}
	var lineageMetrics *metrics.Lineage // set before the writer reads the spool
	spool, err := lineage.OpenSpool(cfg.Lineage.SpoolDir, lineage.SpoolOptions{
		MaxBytes: cfg.Lineage.SpoolMaxBytes,
		OnCorruption: func(c lineage.Corruption) {
			if lineageMetrics != nil {
				lineageMetrics.CorruptRecords.Inc()
			}
			log.Error("lineage spool record damaged, skipped", zap.String("segment", c.Segment),
				zap.Int64("offset", c.Offset), zap.Int64("skipped_bytes", c.Skipped), zap.String("reason", c.Reason))
		},
	})
	if errors.Is(err, dirlock.ErrLocked) {
		return fmt.Errorf("%w (set lineage.spool_dir, --lineage-spool-dir)", err)
	}
	if err != nil {
		return err
	}
	defer closeLogged(log, "lineage spool", spool.Close)
	if lineageMetrics, err = metrics.NewLineage(reg.Prom, spool, cfg.Lineage.SpoolMaxBytes); err != nil {
		return err
	}

	alertObserver := interceptors.NewAlertObserver(raiser, int32(cfg.Alerts.RetryAttempt), alertLog)
	alertObserver.Adopt = sentinel.Adopter(cfg.Sentinel.WorkflowID) // the sentinel resolves what it raised
	logObserver, lineageObserver := interceptors.NewLogObserver(logs.Main), interceptors.NewLineageObserver(spool, logs.Main, lineageMetrics)
	defer lineageObserver.Close() // before the spool closes (a no-op after the stop below)
	defer logObserver.Close()
	pw := interceptors.New(interceptors.Options{
		Observers: []interceptors.Observer{
			logObserver, interceptors.NewMetricsObserver(pipeline), lineageObserver, alertObserver,
		},
		WorkflowFailureAlerts: cfg.Alerts.WorkflowFailures,
		Raiser:                raiser,
		SearchAttributes:      searchAttributes,
		StepSearchAttribute:   cfg.Interceptor.StepSearchAttribute,
		Summaries:             true,
		Usage:                 usage.Load,
	})

	driver, err := OpenNeo4j(cfg.Neo4j)
	if err != nil {
		return err
	}
	defer closeLogged(log, "neo4j driver", func() error { return driver.Close(context.Background()) })
	store := graph.NewStore(driver, cfg.Neo4j.Database)
	notifiers.History = history.NewStore(driver, cfg.Neo4j.Database) // alert records, retried by Temporal while Neo4j is away
	schemaCtx, cancelSchema := context.WithTimeout(ctx, 10*time.Second)
	if err := store.EnsureSchema(schemaCtx); err != nil { // else on the first write that can
		log.Warn("lineage schema not ensured at start (Neo4j down?); the first write will", zap.Error(err))
	}
	cancelSchema()

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on http.addr %s: %w", cfg.HTTP.Addr, err)
	}
	readiness := NewReadiness([]Check{
		{Name: "temporal", Run: func(ctx context.Context) error { return CheckTemporal(ctx, tc, cfg.Temporal.Namespace) }},
		{Name: "neo4j", Run: func(ctx context.Context) error { return CheckNeo4j(ctx, driver, cfg.Neo4j.Database) }},
		{Name: "lineage_spool", Run: func(context.Context) error { return spool.Check() }},
	}, ReadinessOptions{OnCheckError: func(name string, err error) {
		log.Warn("readiness check failed", zap.String("check", name), zap.Error(err))
	}})
	if err := reg.Prom.Register(readiness); err != nil { // pipewatch_readiness_check_ok, for the rules
		return fmt.Errorf("metrics: register readiness: %w", err)
	}
	readinessCtx, stopReadiness := context.WithCancel(ctx)
	readinessDone := make(chan struct{})
	go func() { defer close(readinessDone); readiness.Run(readinessCtx, 10*time.Second) }()
	defer func() { stopReadiness(); <-readinessDone }() // before the clients close
	srv := &http.Server{
		Handler: NewMux(reg.Handler(), readiness),
		// Bounds for slow or idle clients (a scrape of /metrics takes
		// well under a second).
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	w := sdkworker.New(tc, cfg.Temporal.TaskQueue, sdkworker.Options{
		WorkerStopTimeout: cfg.ShutdownTimeout,
		Interceptors:      []interceptor.WorkerInterceptor{pw},
	})
	driftMetrics, err := metrics.NewDrift(reg.Prom)
	if err != nil {
		return err
	}
	dataMetrics, err := metrics.NewData(reg.Prom)
	if err != nil {
		return err
	}
	modelMetrics, err := metrics.NewModel(reg.Prom, pipeline)
	if err != nil {
		return err
	}
	if _, err := metrics.NewHost(reg.Prom, HostPaths(cfg)); err != nil {
		return err
	}
	ml := &activities.ML{Store: cfg.ML.StoreDir, Alerts: raiser, Drift: driftMetrics,
		Data: dataMetrics, Model: modelMetrics,
		SourceRoots: ChannelList(cfg.ML.SourceRoots), MaxSourceBytes: cfg.ML.MaxSourceBytes, Audit: StepAudit(logs.Audit)}
	if n, err := ml.RestoreEvaluations(); err != nil {
		log.Warn("model evaluations not restored from the registry: pipewatch_model_evaluation stays empty until the pipeline evaluates a model", zap.Error(err))
	} else if n > 0 {
		log.Info("model evaluations restored from the registry", zap.Int("versions", n), zap.String("store", cfg.ML.StoreDir))
	}
	Register(w, Steps{Demo: &activities.Demo{}, ML: ml})
	alerts.Register(w, raiser, notifiers)
	fleet, err := metrics.NewFleet(reg.Prom)
	if err != nil {
		return err
	}
	watcher := &sentinel.Sentinel{Raiser: raiser, Fleet: fleet, Lineage: spool, LineageMetrics: lineageMetrics, Log: logs.Main.With(zap.String("component", "sentinel"))}
	sentinel.Register(w, watcher)
	monitor := &alerts.ResourceMonitor{
		Thresholds: alerts.Thresholds{CPU: float64(cfg.Alerts.CPUThreshold), Memory: float64(cfg.Alerts.MemoryThreshold),
			Disk: float64(cfg.Alerts.DiskThreshold), Critical: float64(cfg.Alerts.CriticalThreshold)},
		Every: cfg.Alerts.ResourceInterval, DiskPath: cfg.Lineage.SpoolDir,
		Raise: func(ctx context.Context, a alerts.Alert) error {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return alerts.Raise(rctx, tc, raiser.TaskQueue, raiser.Policy, a)
		},
		OnError: func(err error) { alertLog.Warn("resource check failed", zap.Error(err)) },
	}
	monitorCtx, stopMonitor := context.WithCancel(ctx)
	monitorDone := make(chan struct{})
	go func() { defer close(monitorDone); monitor.Run(monitorCtx) }()
	defer func() { stopMonitor(); <-monitorDone }()
	writerCtx, stopWriter := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	writer := &lineage.Writer{Spool: spool, Store: store, OnError: func(err error) {
		log.Warn("lineage write failed; events stay spooled and are retried", zap.Error(err))
	}, OnWrite: func(events int, took time.Duration, err error) {
		status := "ok"
		if err != nil {
			status = "error"
		} else {
			lineageMetrics.EventsWritten.Add(float64(events))
		}
		lineageMetrics.Writes.WithLabelValues(status).Inc()
		lineageMetrics.WriteDuration.Observe(took.Seconds())
	}, OnDeadLetter: func(r lineage.Run, err error) {
		lineageMetrics.DeadLetters.Inc()
		log.Error("lineage event rejected by Neo4j for good: put in the spool's dead-letter file", zap.String("run_id", r.RunID),
			zap.String("state", r.State), zap.String("file", filepath.Join(cfg.Lineage.SpoolDir, lineage.DeadLetterFile)), zap.Error(err))
	}}
	go func() { defer close(writerDone); writer.Run(writerCtx, cfg.ShutdownTimeout/2) }()
	defer func() { stopWriter(); <-writerDone }() // after the worker drained: its last events get written
	if err := w.Start(); err != nil {
		_ = srv.Close()
		return fmt.Errorf("start temporal worker on task queue %q: %w", cfg.Temporal.TaskQueue, err)
	}
	stopHost, err := watcher.StartHost(tc, cfg.Temporal.TaskQueue)
	if err != nil {
		w.Stop()
		_ = srv.Close()
		return err
	}
	defer stopHost()
	if cfg.Sentinel.Enabled {
		if err := startSentinel(ctx, tc, cfg); err != nil && ctx.Err() == nil {
			w.Stop()
			_ = srv.Close()
			return err
		} // stopped while starting it: the graceful stop below
		// An operator's terminate, or a failure, must not end the only
		// watcher of workers without pipewatch: start it again.
		keepCtx, stopKeep := context.WithCancel(ctx)
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			sentinel.Keep(keepCtx, tc, cfg.Temporal.TaskQueue, cfg.Sentinel.WorkflowID, cfg.Sentinel.Config(cfg.Temporal.Namespace), sentinel.KeepOptions{
				OnRestart: func(found string) {
					log.Warn("the sentinel was not running; started it again", zap.String("workflow_id", cfg.Sentinel.WorkflowID), zap.String("found", found))
				},
				OnError: func(err error) { log.Warn("could not make sure the sentinel runs", zap.Error(err)) },
			})
		}()
		defer func() { stopKeep(); <-kept }()
	}
	log.Info("worker started",
		zap.String("temporal", cfg.Temporal.Address), zap.String("namespace", cfg.Temporal.Namespace),
		zap.String("neo4j", cfg.Neo4j.URI), zap.String("http", ln.Addr().String()))
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("http server on %s: %w", ln.Addr(), err)
	}

	log.Info("worker stopping", zap.Duration("timeout", cfg.ShutdownTimeout))
	t0 := time.Now()
	w.Stop() // waits for running activities up to WorkerStopTimeout
	// Workflow events still queued go to the spool and the log, so the
	// writer's last drain takes them.
	lineageObserver.Close()
	logObserver.Close()
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http server did not stop cleanly", zap.Error(err))
	}
	log.Info("worker stopped", zap.Duration("duration", time.Since(t0)))
	return runErr
}

// retryCheck runs check until it answers, for up to limit: Temporal
// answered the dial, so an error here is passing, and a check that
// failed once must not decide how this worker runs.
func retryCheck[T any](ctx context.Context, limit time.Duration, check func(context.Context) (T, error)) (T, error) {
	deadline := time.Now().Add(limit)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 4*time.Second) {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, err := check(cctx)
		cancel()
		if err == nil || time.Now().Add(wait).After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// startSentinel starts the namespace's sentinel, or hands the running one
// this worker's settings, retrying for half a minute: Temporal answered
// the dial, so a failure here is passing.
func startSentinel(ctx context.Context, tc client.Client, cfg Config) error {
	scfg := cfg.Sentinel.Config(cfg.Temporal.Namespace)
	_, err := retryCheck(ctx, 30*time.Second, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, sentinel.Start(ctx, tc, cfg.Temporal.TaskQueue, cfg.Sentinel.WorkflowID, scfg)
	})
	if err != nil {
		return fmt.Errorf("start the sentinel (sentinel.enabled=false runs the worker without it): %w", err)
	}
	return nil
}

// Steps are the activity implementations a pipewatch worker serves.
type Steps struct {
	Demo *activities.Demo
	// ML are the reference ML pipeline's steps.
	ML *activities.ML
}

// Register registers pipewatch's workflows and the given steps on w under
// their stable names.
func Register(w sdkworker.Registry, steps Steps) {
	w.RegisterWorkflowWithOptions(workflows.DemoWorkflow, workflow.RegisterOptions{Name: workflows.DemoWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.MLPipelineWorkflow, workflow.RegisterOptions{Name: workflows.MLPipelineName})
	w.RegisterWorkflowWithOptions(workflows.DriftMonitorWorkflow, workflow.RegisterOptions{Name: workflows.DriftMonitorName})
	if ml := steps.ML; ml != nil {
		for name, fn := range map[string]any{
			activities.IngestName: ml.Ingest, activities.ValidateName: ml.Validate, activities.FeaturesName: ml.Features,
			activities.TrainName: ml.Train, activities.EvaluateName: ml.Evaluate, activities.RegisterName: ml.Register,
			activities.PredictName: ml.Predict, activities.DriftName: ml.CheckDrift,
		} {
			w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		}
	}
	if steps.Demo != nil {
		w.RegisterActivityWithOptions(steps.Demo.Greet, activity.RegisterOptions{Name: activities.DemoGreetName})
		w.RegisterActivityWithOptions(steps.Demo.Count, activity.RegisterOptions{Name: activities.DemoCountName})
	}
}

// HostPaths are the configured folders whose disks the host metrics
// watch: the logs, the lineage spool and the ML artifact store (data).
func HostPaths(cfg Config) []metrics.HostPath {
	return []metrics.HostPath{{Use: "logs", Path: cfg.Log.Dir}, {Use: "spool", Path: cfg.Lineage.SpoolDir}, {Use: "data", Path: cfg.ML.StoreDir}}
}

// StepAudit writes the ML steps' audit records to audit, the user the
// run's context carries (interceptors.WithUserID) as the actor, or
// "pipewatch" when it carries none.
func StepAudit(audit *logging.Audit) activities.AuditFunc {
	return func(ctx context.Context, event string, details map[string]any) error {
		actor := interceptors.UserID(ctx)
		if actor == "" {
			actor = "pipewatch"
		}
		return audit.Record(logging.AuditEvent(event), actor, details)
	}
}

// AlertPolicy is the alert workflows' policy from a validated
// configuration: Routes first, then critical alerts to CriticalChannels,
// the rest to Channels.
func AlertPolicy(c AlertsConfig, searchAttributes bool) alerts.Policy {
	critical := ChannelList(c.CriticalChannels)
	if len(critical) == 0 {
		critical = ChannelList(c.Channels)
	}
	routes, _ := alerts.ParseRoutes(c.Routes, KnownChannels()) // checked by Validate
	cooldowns, _ := alerts.ParseCooldowns(c.Cooldowns)         // checked by Validate
	return alerts.Policy{
		Cooldown:  c.Cooldown,
		Cooldowns: cooldowns,
		Routes: append(routes,
			alerts.Route{MinSeverity: alerts.Critical, Channels: critical},
			alerts.Route{Channels: ChannelList(c.Channels)},
		),
		Channels: map[string]alerts.ChannelPolicy{
			"log":          {MaxAttempts: 3},
			"webhook":      {MaxAttempts: 8, InitialInterval: time.Second, Timeout: 15 * time.Second},
			"email":        {MaxAttempts: 6, InitialInterval: 5 * time.Second, Timeout: 45 * time.Second},
			"alertmanager": {MaxAttempts: 8, InitialInterval: time.Second, Timeout: 15 * time.Second},
		},
		CloseChannels:    []string{"alertmanager"},
		SearchAttributes: searchAttributes,
	}
}

// Notifiers are the alert channels the configuration sets up; an
// Alertmanager CA bundle that is no PEM is an error naming the file.
func Notifiers(c AlertsConfig, log *zap.Logger) (map[string]alerts.Notifier, error) {
	ns := map[string]alerts.Notifier{"log": alerts.LogNotifier{Log: log}}
	if c.WebhookURL != "" {
		ns["webhook"] = alerts.WebhookNotifier{URL: c.WebhookURL, Slack: c.WebhookSlack}
	}
	if c.SMTPAddr != "" {
		ns["email"] = alerts.EmailNotifier{Addr: c.SMTPAddr, From: c.SMTPFrom, To: ChannelList(c.SMTPTo),
			Username: c.SMTPUser, Password: c.SMTPPassword, AllowPlain: c.SMTPAllowPlain}
	}
	if c.AlertmanagerURL != "" {
		am := alerts.AlertmanagerNotifier{URL: c.AlertmanagerURL, Username: c.AlertmanagerUser, Password: c.AlertmanagerPassword,
			BearerToken: c.AlertmanagerToken}
		if c.AlertmanagerCA != "" {
			pem, err := os.ReadFile(c.AlertmanagerCA)
			if err != nil {
				return nil, fmt.Errorf("alerts.alertmanager_ca %q: %w", c.AlertmanagerCA, err)
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("alerts.alertmanager_ca %q holds no PEM certificate", c.AlertmanagerCA)
			}
			am.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
		}
		ns["alertmanager"] = am
	}
	return ns, nil
}

func closeLogged(log *zap.Logger, what string, closeFn func() error) {
	if err := closeFn(); err != nil {
		log.Warn("close "+what, zap.Error(err))
	}
}
