package worker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/sentinel"
)

// Config is the whole configuration of a pipewatch worker. Load builds it
// from defaults, an optional YAML file, PIPEWATCH_* environment variables and
// command-line flags, in that order of increasing precedence.
type Config struct {
	// Temporal is how the worker reaches the Temporal frontend.
	Temporal TemporalConfig
	// Neo4j is how the worker reaches the lineage store.
	Neo4j Neo4jConfig
	// HTTP is where /metrics, /healthz and /readyz are served.
	HTTP HTTPConfig
	// Log is where logs go and how long they stay.
	Log LogConfig
	// Lineage is where lineage events wait for Neo4j.
	Lineage LineageConfig
	// Alerts says when alerts are raised and where they go.
	Alerts AlertsConfig
	// ML configures the reference ML pipeline's steps.
	ML MLConfig
	// Sentinel says what the sentinel watches and when it raises alerts.
	Sentinel SentinelConfig
	// Interceptor says what the interceptor adds to pipeline runs beyond
	// its defaults.
	Interceptor InterceptorConfig
	// ShutdownTimeout bounds the graceful stop: draining the worker and
	// flushing buffers. Default 30s.
	ShutdownTimeout time.Duration
}

// TemporalConfig holds the Temporal client settings.
type TemporalConfig struct {
	// Address is the frontend's host:port. Default 127.0.0.1:7233.
	Address string
	// Namespace is the Temporal namespace. Default "default".
	Namespace string
	// TaskQueue is the queue the pipewatch worker polls. Default "pipewatch".
	TaskQueue string
	// UIURL is the Temporal Web UI's base URL, used in printed links.
	// Default http://127.0.0.1:8233.
	UIURL string
	// TLSCert and TLSKey are paths to a PEM client certificate and key for
	// mTLS; both or neither. Empty means no client certificate.
	TLSCert string
	TLSKey  string
	// TLSCA is a PEM bundle to verify the server with; empty means the
	// system roots. Setting it (or the certificate) turns TLS on.
	TLSCA string
	// APIKey authenticates to Temporal Cloud or a server that accepts API
	// keys. Secret: never logged. Setting it turns TLS on.
	APIKey string
}

// Neo4jConfig holds the lineage store's connection settings.
type Neo4jConfig struct {
	// URI is the Bolt URI. Default bolt://127.0.0.1:7687.
	URI string
	// Auth is "basic" (user and password) or "none". Default "basic".
	Auth string
	// User is the Neo4j user. Default "neo4j".
	User string
	// Password is the Neo4j password; required when Auth is "basic".
	// Secret: never logged.
	Password string
	// Database is the database to write lineage into. Default "neo4j".
	Database string
	// TLSCA is a PEM bundle to verify the server's certificate with, for
	// bolt+s:// and neo4j+s:// URIs; empty means the system roots.
	TLSCA string
}

// HTTPConfig holds the settings of the worker's HTTP endpoints.
type HTTPConfig struct {
	// Addr is the listen address for /metrics, /healthz and /readyz.
	// Default 127.0.0.1:9464.
	Addr string
}

// LineageConfig holds the lineage spool's settings.
type LineageConfig struct {
	// SpoolDir holds lineage events until they are in Neo4j; they survive
	// restarts and Neo4j outages. Default .run/spool.
	SpoolDir string
	// SpoolMaxBytes bounds the spool; past it events are refused, logged
	// and /readyz fails from nine tenths on. Default 1 GiB.
	SpoolMaxBytes int64
}

// InterceptorConfig holds the interceptor's opt-in writes.
type InterceptorConfig struct {
	// StepSearchAttribute makes new runs write the PipelineStep search
	// attribute each time their current step changes (with the other
	// search attributes registered): one history event and one visibility
	// write per change, which the cluster pays for. Whether a run writes it
	// is recorded in the run's history, so every worker replays it alike.
	// Default false: the current step is in the run's current details and
	// the pipewatch.progress query, at no event.
	StepSearchAttribute bool
}

// SentinelConfig holds the sentinel's settings: the namespace's one
// watcher of every pipeline, through Temporal's own records (see package
// sentinel). The workflow settings travel in the sentinel's history: the
// worker that starts last hands the running sentinel its values.
type SentinelConfig struct {
	// Enabled starts the sentinel (or hands it this configuration) when
	// the worker starts; every worker registers it either way, so any can
	// run its scans. Default true.
	Enabled bool
	// WorkflowID is the singleton's id. Default pipewatch-sentinel.
	WorkflowID string
	// Namespace is the namespace watched. Default: temporal.namespace.
	Namespace string
	// Query narrows the pipelines watched (a visibility query). Default:
	// every workflow but pipewatch's own.
	Query string
	// Interval between scans. Default 10s.
	Interval time.Duration
	// DescribeRate bounds describe calls per second. Default 50.
	DescribeRate int64
	// StepAttempts: failed attempts of a step with retries left that make
	// it a problem. Default 3.
	StepAttempts int64
	// FailingFor: how long a step (or workflow task) may fail before it is
	// a problem, whatever its attempts. Default 1m.
	FailingFor time.Duration
	// NotStartedFor: how long a step may wait for a worker. Default 1m.
	NotStartedFor time.Duration
	// StuckAttempts: failed workflow task attempts that make a pipeline
	// stuck. Default 3.
	StuckAttempts int64
	// TerminatedSeverity of the alert about a terminated pipeline.
	// Default warning.
	TerminatedSeverity string
}

// MLConfig holds the reference ML pipeline's settings.
type MLConfig struct {
	// StoreDir is the artifact folder: raw, validated, features, models,
	// predictions by content digest, and registry.json. Default
	// .run/artifacts.
	StoreDir string
	// SourceRoots are the folders, comma-separated, that sources and
	// batches named in workflow inputs may be read from (links followed).
	// Default "." (the worker's working folder).
	SourceRoots string
	// MaxSourceBytes bounds a source or batch file. Default 1 GiB.
	MaxSourceBytes int64
}

// AlertsConfig holds the alert settings.
type AlertsConfig struct {
	// Cooldown gathers repeats of an alert into one summary. Default 5m.
	Cooldown time.Duration
	// Channels are the notifiers for alerts, comma-separated: log,
	// webhook. Default log.
	Channels string
	// CriticalChannels are the notifiers for critical alerts. Default:
	// Channels.
	CriticalChannels string
	// Routes send alerts by type and severity before the two defaults
	// above: "type=data_drift,model_degradation -> email; severity>=critical
	// -> alertmanager" (see alerts.ParseRoutes).
	Routes string
	// Cooldowns override Cooldown by type and severity:
	// "data_drift=1h, :critical=1m" (see alerts.ParseCooldowns).
	Cooldowns string
	// WebhookURL is where the webhook channel posts. Secret: such URLs
	// often carry a token.
	WebhookURL string
	// WebhookSlack posts a Slack-compatible body.
	WebhookSlack bool
	// SMTPAddr (host:port), SMTPFrom and SMTPTo (comma-separated) set up
	// the email channel; SMTPUser and SMTPPassword log in (STARTTLS is
	// required unless SMTPAllowPlain).
	SMTPAddr, SMTPFrom, SMTPTo string
	SMTPUser, SMTPPassword     string
	SMTPAllowPlain             bool
	// AlertmanagerURL sets up the alertmanager channel. Secret: such URLs
	// may carry credentials.
	AlertmanagerURL string
	// AlertmanagerUser and AlertmanagerPassword log in to Alertmanager with
	// basic auth; AlertmanagerToken sends a bearer token instead; both
	// secrets (the password and the token). AlertmanagerCA is a PEM bundle
	// to verify an https Alertmanager with (default: the system roots).
	AlertmanagerUser, AlertmanagerPassword, AlertmanagerToken, AlertmanagerCA string
	// CPUThreshold, MemoryThreshold and DiskThreshold (percent of the
	// host, the disk holding the spool) raise resource_threshold warnings,
	// critical from CriticalThreshold; 0 turns one off. Sampled every
	// ResourceInterval. Defaults 90, 90, 90, 97 and 30s.
	CPUThreshold, MemoryThreshold, DiskThreshold, CriticalThreshold int64
	ResourceInterval                                                time.Duration
	// RetryAttempt also raises a warning when this attempt of a step fails
	// with retries left; 0 alerts on final failures only.
	RetryAttempt int64
	// WorkflowFailures raises an alert when a pipeline run fails. Default
	// true.
	WorkflowFailures bool
}

// ChannelList splits a comma-separated channel list.
func ChannelList(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// KnownChannels are the alert channels the worker can notify.
func KnownChannels() []string { return []string{"log", "webhook", "email", "alertmanager"} }

// LogConfig holds the settings of the main and audit logs.
type LogConfig struct {
	// Dir is the folder for pipewatch.log and audit.log. Default .run/logs.
	Dir string
	// Level is debug, info, warn or error. Default info.
	Level string
	// ConsoleLevel is the lowest level also printed to stderr: debug, info,
	// warn, error, or off. Default info.
	ConsoleLevel string
	// MaxSizeBytes rotates a log file when it reaches this size (files also
	// rotate daily). Default 100 MiB.
	MaxSizeBytes int64
	// Retention is how long rotated main log files are kept. Default 90d.
	Retention time.Duration
	// AuditRetention is how long rotated audit log files are kept.
	// Default 2557d (7 years).
	AuditRetention time.Duration
	// AuditKey signs the audit log's checkpoints (HMAC-SHA256), so that
	// whoever holds it detects a log cut short or rewritten (`pipewatch
	// audit verify --key-file`). Empty writes no checkpoints. Secret:
	// never logged; best given as log.audit_key_file.
	AuditKey string
}

// Default values, exported so the README and tests can name them.
const (
	DefaultTemporalAddress = "127.0.0.1:7233"
	DefaultNamespace       = "default"
	DefaultTaskQueue       = "pipewatch"
	DefaultUIURL           = "http://127.0.0.1:8233"
	DefaultNeo4jURI        = "bolt://127.0.0.1:7687"
	DefaultHTTPAddr        = "127.0.0.1:9464"
	DefaultLogDir          = ".run/logs"
	DefaultMaxLogSize      = 100 << 20
	DefaultLogRetention    = 90 * day
	DefaultAuditRetention  = 2557 * day
	DefaultShutdownTimeout = 30 * time.Second
)

const day = 24 * time.Hour

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Temporal: TemporalConfig{Address: DefaultTemporalAddress, Namespace: DefaultNamespace, TaskQueue: DefaultTaskQueue, UIURL: DefaultUIURL},
		Neo4j:    Neo4jConfig{URI: DefaultNeo4jURI, Auth: "basic", User: "neo4j", Database: "neo4j"},
		HTTP:     HTTPConfig{Addr: DefaultHTTPAddr},
		Log: LogConfig{
			Dir: DefaultLogDir, Level: "info", ConsoleLevel: "info", MaxSizeBytes: DefaultMaxLogSize,
			Retention: DefaultLogRetention, AuditRetention: DefaultAuditRetention,
		},
		Lineage: LineageConfig{SpoolDir: ".run/spool", SpoolMaxBytes: 1 << 30},
		ML:      MLConfig{StoreDir: ".run/artifacts", SourceRoots: ".", MaxSourceBytes: 1 << 30},
		Sentinel: SentinelConfig{Enabled: true, WorkflowID: "pipewatch-sentinel", Interval: 10 * time.Second, DescribeRate: 50,
			StepAttempts: 3, FailingFor: time.Minute, NotStartedFor: time.Minute, StuckAttempts: 3, TerminatedSeverity: "warning"},
		Alerts: AlertsConfig{Cooldown: 5 * time.Minute, Channels: "log", WorkflowFailures: true, RetryAttempt: 3,
			CPUThreshold: 90, MemoryThreshold: 90, DiskThreshold: 90, CriticalThreshold: 97, ResourceInterval: 30 * time.Second},
		ShutdownTimeout: DefaultShutdownTimeout,
	}
}

// TLSEnabled reports whether the Temporal connection uses TLS.
func (c TemporalConfig) TLSEnabled() bool {
	return c.TLSCert != "" || c.TLSCA != "" || c.APIKey != ""
}

// Validate checks every field and returns all problems at once, each naming
// the field and the bad value (secrets are named, never shown).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("config: "+format, args...)) }

	if err := checkHostPort(c.Temporal.Address); err != nil {
		bad("temporal.address %q: %v", c.Temporal.Address, err)
	}
	if strings.TrimSpace(c.Temporal.Namespace) == "" {
		bad("temporal.namespace must not be empty")
	}
	if strings.TrimSpace(c.Temporal.TaskQueue) == "" {
		bad("temporal.task_queue must not be empty")
	}
	if u, err := url.Parse(c.Temporal.UIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("temporal.ui_url %q is not an http(s) URL", c.Temporal.UIURL)
	}
	if (c.Temporal.TLSCert == "") != (c.Temporal.TLSKey == "") {
		bad("temporal.tls_cert and temporal.tls_key must be set together (got tls_cert %q, tls_key %q)", c.Temporal.TLSCert, c.Temporal.TLSKey)
	}
	for _, f := range []struct{ name, path string }{
		{"temporal.tls_cert", c.Temporal.TLSCert}, {"temporal.tls_key", c.Temporal.TLSKey}, {"temporal.tls_ca", c.Temporal.TLSCA},
		{"neo4j.tls_ca", c.Neo4j.TLSCA},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			bad("%s %q: file not readable: %v", f.name, f.path, errors.Unwrap(err))
		}
	}

	if u, err := url.Parse(c.Neo4j.URI); err != nil || !slices.Contains(neo4jSchemes(), u.Scheme) || u.Host == "" {
		bad("neo4j.uri %q is not a Bolt URI (want %s://host:port)", c.Neo4j.URI, strings.Join(neo4jSchemes(), "|"))
	} else if c.Neo4j.TLSCA != "" && !strings.HasSuffix(u.Scheme, "+s") {
		bad("neo4j.tls_ca is set, but neo4j.uri %q does not verify certificates: use %s+s://", c.Neo4j.URI, strings.SplitN(u.Scheme, "+", 2)[0])
	}
	switch c.Neo4j.Auth {
	case "basic":
		if c.Neo4j.User == "" {
			bad(`neo4j.user must not be empty when neo4j.auth is "basic"`)
		}
		if c.Neo4j.Password == "" {
			bad(`neo4j.password is required when neo4j.auth is "basic" (set PIPEWATCH_NEO4J_PASSWORD or --neo4j-password)`)
		}
	case "none":
	default:
		bad(`neo4j.auth %q is not one of basic, none`, c.Neo4j.Auth)
	}
	if strings.TrimSpace(c.Neo4j.Database) == "" {
		bad("neo4j.database must not be empty")
	}

	channelLists := []struct{ key, value string }{{"alerts.channels", c.Alerts.Channels}, {"alerts.critical_channels", c.Alerts.CriticalChannels}}
	if routes, err := alerts.ParseRoutes(c.Alerts.Routes, KnownChannels()); err != nil {
		bad("alerts.routes: %v", err)
	} else {
		for _, r := range routes {
			channelLists = append(channelLists, struct{ key, value string }{"alerts.routes", strings.Join(r.Channels, ",")})
		}
	}
	if _, err := alerts.ParseCooldowns(c.Alerts.Cooldowns); err != nil {
		bad("alerts.cooldowns: %v", err)
	}
	for _, f := range channelLists {
		for _, ch := range ChannelList(f.value) {
			if !slices.Contains(KnownChannels(), ch) {
				bad("%s: channel %q is not one of %s", f.key, ch, strings.Join(KnownChannels(), ", "))
			}
			switch {
			case ch == "webhook" && c.Alerts.WebhookURL == "":
				bad("%s names webhook but alerts.webhook_url is empty", f.key)
			case ch == "email" && (c.Alerts.SMTPAddr == "" || c.Alerts.SMTPFrom == "" || len(ChannelList(c.Alerts.SMTPTo)) == 0):
				bad("%s names email but alerts.smtp_addr, alerts.smtp_from and alerts.smtp_to are not all set", f.key)
			case ch == "alertmanager" && c.Alerts.AlertmanagerURL == "":
				bad("%s names alertmanager but alerts.alertmanager_url is empty", f.key)
			}
		}
	}
	if f := ChannelList(c.Alerts.Channels); len(f) == 0 {
		bad("alerts.channels %q names no channel (want log, webhook)", c.Alerts.Channels)
	}
	if c.Alerts.WebhookURL != "" {
		if u, err := url.Parse(c.Alerts.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("alerts.webhook_url is not an http(s) URL")
		}
	}
	if c.Alerts.AlertmanagerURL != "" {
		if u, err := url.Parse(c.Alerts.AlertmanagerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("alerts.alertmanager_url is not an http(s) URL") // secret: not shown
		}
	}
	if c.Alerts.AlertmanagerToken != "" && c.Alerts.AlertmanagerUser != "" {
		bad("alerts.alertmanager_token and alerts.alertmanager_user are both set: choose bearer or basic auth")
	}
	if c.Alerts.AlertmanagerCA != "" {
		if _, err := os.Stat(c.Alerts.AlertmanagerCA); err != nil {
			bad("alerts.alertmanager_ca %q: file not readable: %v", c.Alerts.AlertmanagerCA, errors.Unwrap(err))
		}
	}
	if c.Alerts.SMTPAddr != "" {
		if err := checkHostPort(c.Alerts.SMTPAddr); err != nil {
			bad("alerts.smtp_addr %q: %v", c.Alerts.SMTPAddr, err)
		}
	}
	if c.Alerts.Cooldown < time.Second {
		bad("alerts.cooldown %s is below 1s", formatDuration(c.Alerts.Cooldown))
	}
	for _, f := range []struct {
		key string
		v   int64
	}{{"alerts.cpu_threshold", c.Alerts.CPUThreshold}, {"alerts.memory_threshold", c.Alerts.MemoryThreshold},
		{"alerts.disk_threshold", c.Alerts.DiskThreshold}, {"alerts.critical_threshold", c.Alerts.CriticalThreshold}} {
		if f.v < 0 || f.v > 100 {
			bad("%s %d is not a percentage (0 turns it off)", f.key, f.v)
		}
	}
	if strings.TrimSpace(c.ML.StoreDir) == "" {
		bad("ml.store_dir must not be empty")
	}
	if len(ChannelList(c.ML.SourceRoots)) == 0 {
		bad("ml.source_roots must name at least one folder (sources are read only from there)")
	}
	if c.ML.MaxSourceBytes < 1 {
		bad("ml.max_source_bytes %d must be positive", c.ML.MaxSourceBytes)
	}
	if c.Alerts.ResourceInterval < time.Second {
		bad("alerts.resource_interval %s is below 1s", formatDuration(c.Alerts.ResourceInterval))
	}
	if c.Alerts.RetryAttempt < 0 {
		bad("alerts.retry_attempt %d is negative", c.Alerts.RetryAttempt)
	}
	if strings.TrimSpace(c.Sentinel.WorkflowID) == "" {
		bad("sentinel.workflow_id must not be empty")
	}
	for _, f := range []struct {
		key string
		v   int64
	}{{"sentinel.describe_rate", c.Sentinel.DescribeRate}, {"sentinel.step_attempts", c.Sentinel.StepAttempts}, {"sentinel.stuck_attempts", c.Sentinel.StuckAttempts}} {
		if f.v < 1 {
			bad("%s %d must be at least 1", f.key, f.v)
		}
	}
	for _, f := range []struct {
		key string
		d   time.Duration
	}{{"sentinel.interval", c.Sentinel.Interval}, {"sentinel.failing_for", c.Sentinel.FailingFor}, {"sentinel.not_started_for", c.Sentinel.NotStartedFor}} {
		if f.d < time.Second {
			bad("%s %s is below 1s", f.key, formatDuration(f.d))
		}
	}
	// The rest (severity, query, stuck attempts of 1) as the sentinel checks it.
	rest := sentinel.Config{Query: c.Sentinel.Query, TerminatedSeverity: alerts.Severity(c.Sentinel.TerminatedSeverity),
		StuckAttempts: int32(min(max(c.Sentinel.StuckAttempts, 0), 1<<20))}
	if err := rest.Validate(); err != nil {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				errs = append(errs, fmt.Errorf("config: %w", e))
			}
		} else {
			errs = append(errs, fmt.Errorf("config: %w", err))
		}
	}
	if err := checkHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr %q: %v", c.HTTP.Addr, err)
	}
	if strings.TrimSpace(c.Log.Dir) == "" {
		bad("log.dir must not be empty")
	}
	if !slices.Contains(logLevels(), c.Log.Level) {
		bad("log.level %q is not one of %s", c.Log.Level, strings.Join(logLevels(), ", "))
	}
	if consoleLevels := append(logLevels(), "off"); !slices.Contains(consoleLevels, c.Log.ConsoleLevel) {
		bad("log.console_level %q is not one of %s", c.Log.ConsoleLevel, strings.Join(consoleLevels, ", "))
	}
	if c.Log.MaxSizeBytes < 1<<20 {
		bad("log.max_size_bytes %d is below the minimum of 1048576 (1 MiB)", c.Log.MaxSizeBytes)
	}
	if c.Log.Retention < day {
		bad("log.retention %s is below the minimum of 1d", formatDuration(c.Log.Retention))
	}
	if c.Log.AuditRetention < c.Log.Retention {
		bad("log.audit_retention %s is shorter than log.retention %s: the audit log must be kept at least as long",
			formatDuration(c.Log.AuditRetention), formatDuration(c.Log.Retention))
	}
	if n := len(c.Log.AuditKey); n > 0 && n < minAuditKey {
		// secret: its length is named, never its value
		bad("log.audit_key is %d bytes, below the minimum of %d: make one with `head -c 32 /dev/urandom | base64`", n, minAuditKey)
	}
	if strings.TrimSpace(c.Lineage.SpoolDir) == "" {
		bad("lineage.spool_dir must not be empty")
	}
	if c.Lineage.SpoolMaxBytes < 1<<20 {
		bad("lineage.spool_max_bytes %d is below the minimum of 1048576 (1 MiB)", c.Lineage.SpoolMaxBytes)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout %s must be positive", formatDuration(c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// neo4jSchemes are the URI schemes neo4j-go-driver v5 accepts.
func neo4jSchemes() []string {
	return []string{"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"}
}

// minAuditKey is the shortest log.audit_key accepted, in bytes.
const minAuditKey = 16

// logLevels are the accepted values of log.level.
func logLevels() []string { return []string{"debug", "info", "warn", "error"} }

func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port")
	}
	if port == "" {
		return fmt.Errorf("missing port")
	}
	return nil
}

// Config is the sentinel's configuration from these settings, namespace
// being the worker's when Namespace is empty.
func (c SentinelConfig) Config(namespace string) sentinel.Config {
	ns := c.Namespace
	if ns == "" {
		ns = namespace
	}
	return sentinel.Config{
		Namespace: ns, Query: c.Query, Interval: c.Interval, DescribeRate: float64(c.DescribeRate),
		StepAttempts: int32(min(c.StepAttempts, 1<<20)), FailingFor: c.FailingFor, NotStartedFor: c.NotStartedFor,
		StuckAttempts: int32(min(c.StuckAttempts, 1<<20)), TerminatedSeverity: alerts.Severity(c.TerminatedSeverity),
	}
}
