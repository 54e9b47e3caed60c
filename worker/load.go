package worker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// ConfigFileEnv names the environment variable that points at a YAML file,
// used when --config is not given.
const ConfigFileEnv = "PIPEWATCH_CONFIG"

// Sources are the inputs Load reads on top of the defaults.
type Sources struct {
	// File is a YAML file path. Empty means the value of PIPEWATCH_CONFIG,
	// and no file when that is unset too.
	File string
	// LookupEnv reads the environment. Nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Flags are parsed command-line flags registered with BindFlags. Only
	// flags the user set apply (pflag's Changed); settings of sections not
	// bound still come from the file and the environment. Nil means none.
	Flags *pflag.FlagSet
	// WithoutNeo4j is for commands that only talk to Temporal: a missing
	// Neo4j password is then no error.
	WithoutNeo4j bool
}

// Load builds the configuration: defaults, then the YAML file, then
// PIPEWATCH_* environment variables, then flags; later sources win. It
// validates the result and returns every problem found, each naming the field,
// the source and the bad value (never a secret's value).
func Load(src Sources) (Config, error) {
	lookup := src.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	cfg := DefaultConfig()
	var errs []error

	file := src.File
	if src.Flags != nil && src.Flags.Changed("config") {
		file, _ = src.Flags.GetString("config")
	}
	if file == "" {
		file, _ = lookup(ConfigFileEnv)
	}
	if file != "" {
		if err := applyFile(&cfg, file); err != nil {
			return Config{}, err
		}
	}
	for _, s := range settings() {
		if v, ok := lookup(s.env()); ok {
			if err := s.set(&cfg, v); err != nil {
				errs = append(errs, fmt.Errorf("config: %s (from %s): %w", s.key, s.env(), err))
			}
		}
		if v, ok := flagText(src.Flags, s); ok {
			if err := s.set(&cfg, v); err != nil {
				errs = append(errs, fmt.Errorf("config: %s (from --%s): %w", s.key, s.flag(), err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	check := cfg
	if src.WithoutNeo4j && check.Neo4j.Password == "" {
		check.Neo4j.Password = "unused"
	}
	if err := check.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// applyFile reads a YAML file into cfg, rejecting unknown fields with their
// line number.
func applyFile(cfg *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: read file %q: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config file %q: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file: nothing set
	}
	byKey := map[string]setting{}
	for _, s := range settings() {
		byKey[s.key] = s
	}
	var errs []error
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			where := "the top level"
			if prefix != "" {
				where = strings.TrimSuffix(prefix, ".")
			}
			errs = append(errs, fmt.Errorf("config file %q: line %d: %s must be a mapping", path, n.Line, where))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := prefix + k.Value
			if line, dup := seen[k.Value]; dup {
				errs = append(errs, fmt.Errorf("config file %q: line %d: %s is set again (first on line %d): which is meant?", path, k.Line, key, line))
				continue
			}
			seen[k.Value] = k.Line
			if s, ok := byKey[key]; ok {
				if v.Kind != yaml.ScalarNode {
					errs = append(errs, fmt.Errorf("config file %q: line %d: %s must be a single value", path, v.Line, key))
					continue
				}
				if err := s.set(cfg, v.Value); err != nil {
					errs = append(errs, fmt.Errorf("config file %q: line %d: %s: %w", path, v.Line, key, err))
				}
				continue
			}
			if isSection(key) {
				walk(v, key+".")
				continue
			}
			errs = append(errs, fmt.Errorf("config file %q: line %d: unknown field %q (known: %s)",
				path, k.Line, key, strings.Join(knownUnder(prefix), ", ")))
		}
	}
	walk(doc.Content[0], "")
	return errors.Join(errs...)
}

func isSection(key string) bool {
	for _, s := range settings() {
		if strings.HasPrefix(s.key, key+".") {
			return true
		}
	}
	return false
}

// knownUnder lists the field names directly under a section prefix.
func knownUnder(prefix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range settings() {
		rest, ok := strings.CutPrefix(s.key, prefix)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Print writes the configuration as YAML that Load accepts back, with every
// secret masked.
func Print(w io.Writer, c Config) error {
	var buf bytes.Buffer
	section := ""
	for _, s := range fields() {
		sec, name, nested := strings.Cut(s.key, ".")
		if !nested {
			sec, name = "", s.key
		}
		if sec != section {
			section = sec
			if sec != "" {
				fmt.Fprintf(&buf, "%s:\n", sec)
			}
		}
		indent := ""
		if sec != "" {
			indent = "  "
		}
		v := s.get(&c)
		if s.kind == secret && v != "" {
			v = masked
		}
		fmt.Fprintf(&buf, "%s%s: %s\n", indent, name, strconv.Quote(v))
	}
	_, err := w.Write(buf.Bytes())
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	return nil
}

// masked stands in for a secret that is set.
const masked = "********"

// String renders the configuration with secrets masked, so that printing or
// logging a Config by accident never shows them.
func (c Config) String() string {
	var b strings.Builder
	_ = Print(&b, c)
	return b.String()
}

// GoString masks secrets in %#v too.
func (c Config) GoString() string { return c.String() }

// setting is one configuration field. Its YAML key is dotted
// ("temporal.address"); the flag (--temporal-address) and the environment
// variable (PIPEWATCH_TEMPORAL_ADDRESS) are derived from it, so the three
// sources always agree and share one parser.
type setting struct {
	key  string
	help string
	kind kind
	ref  func(*Config) any // *string, *int64, *bool or *time.Duration
	// fromFile: the value names a file holding the secret at ref (the
	// <secret>_file twin of every secret), as Docker and Kubernetes mount
	// secrets: never on a command line visible in ps.
	fromFile bool
}

func (s setting) flag() string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(s.key)
}

func (s setting) env() string {
	return "PIPEWATCH_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

func (s setting) set(c *Config, raw string) error {
	if s.fromFile {
		path := strings.TrimSpace(raw)
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %q: %w", path, errors.Unwrap(err))
		}
		value := strings.TrimRight(string(b), "\r\n")
		if value == "" {
			return fmt.Errorf("%q is empty", path)
		}
		*s.ref(c).(*string) = value
		return nil
	}
	switch p := s.ref(c).(type) {
	case *string:
		*p = strings.TrimSpace(raw)
	case *int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("invalid integer %q", raw)
		}
		*p = n
	case *time.Duration:
		d, err := parseDuration(raw)
		if err != nil {
			return err
		}
		*p = d
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("invalid boolean %q (want true or false)", raw)
		}
		*p = b
	default:
		return fmt.Errorf("unsupported field type %T", p)
	}
	return nil
}

func (s setting) get(c *Config) string {
	if s.fromFile {
		return "" // what it read is the secret's value
	}
	switch p := s.ref(c).(type) {
	case *string:
		return *p
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *time.Duration:
		return formatDuration(*p)
	case *bool:
		return strconv.FormatBool(*p)
	default:
		return ""
	}
}

// parseDuration accepts Go durations ("36h", "90s") and whole days ("90d").
func parseDuration(raw string) (time.Duration, error) {
	v := strings.TrimSpace(raw)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.ParseUint(days, 10, 32); err == nil {
			if n > uint64(math.MaxInt64/int64(day)) {
				return 0, fmt.Errorf("invalid duration %q: more than %dd (about 292 years) does not fit", raw, math.MaxInt64/int64(day))
			}
			return time.Duration(n) * day, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want Go syntax like 90s or 36h, or whole days like 90d)", raw)
	}
	return d, nil
}

// formatDuration prints whole days as "Nd" and anything else in Go syntax.
func formatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// kind says how a setting is shown and taken as a flag.
type kind int

const (
	plain  kind = iota
	secret      // masked when printed; no default shown; has a _file twin
	list        // comma-separated; a flag given again adds to it
)

// settings lists every configuration field, in the order Print shows them,
// then the <secret>_file twin of every secret.
func settings() []setting {
	all := fields()
	for _, s := range all {
		if s.kind == secret {
			all = append(all, setting{key: s.key + "_file", help: "file holding the " + strings.TrimSuffix(s.help, " (secret)") +
				"; for secrets out of ps and shell history", ref: s.ref, fromFile: true})
		}
	}
	return all
}

// fields lists every configuration field, in the order Print shows them.
func fields() []setting {
	return []setting{
		{"temporal.address", "Temporal frontend host:port", plain, func(c *Config) any { return &c.Temporal.Address }, false},
		{"temporal.namespace", "Temporal namespace", plain, func(c *Config) any { return &c.Temporal.Namespace }, false},
		{"temporal.task_queue", "task queue the worker polls", plain, func(c *Config) any { return &c.Temporal.TaskQueue }, false},
		{"temporal.ui_url", "Temporal Web UI base URL, for printed links", plain, func(c *Config) any { return &c.Temporal.UIURL }, false},
		{"temporal.tls_cert", "PEM client certificate for mTLS", plain, func(c *Config) any { return &c.Temporal.TLSCert }, false},
		{"temporal.tls_key", "PEM client key for mTLS", plain, func(c *Config) any { return &c.Temporal.TLSKey }, false},
		{"temporal.tls_ca", "PEM CA bundle to verify the server (default: system roots)", plain, func(c *Config) any { return &c.Temporal.TLSCA }, false},
		{"temporal.api_key", "Temporal API key (secret)", secret, func(c *Config) any { return &c.Temporal.APIKey }, false},
		{"neo4j.uri", "Neo4j Bolt URI", plain, func(c *Config) any { return &c.Neo4j.URI }, false},
		{"neo4j.auth", "Neo4j authentication: basic or none", plain, func(c *Config) any { return &c.Neo4j.Auth }, false},
		{"neo4j.user", "Neo4j user", plain, func(c *Config) any { return &c.Neo4j.User }, false},
		{"neo4j.password", "Neo4j password (secret)", secret, func(c *Config) any { return &c.Neo4j.Password }, false},
		{"neo4j.database", "Neo4j database for lineage", plain, func(c *Config) any { return &c.Neo4j.Database }, false},
		{"neo4j.tls_ca", "PEM CA bundle to verify a bolt+s:// or neo4j+s:// server (default: system roots)", plain, func(c *Config) any { return &c.Neo4j.TLSCA }, false},
		{"http.addr", "listen address for /metrics, /healthz, /readyz", plain, func(c *Config) any { return &c.HTTP.Addr }, false},
		{"log.dir", "folder for pipewatch.log and audit.log", plain, func(c *Config) any { return &c.Log.Dir }, false},
		{"log.level", "log level: debug, info, warn, error", plain, func(c *Config) any { return &c.Log.Level }, false},
		{"log.console_level", "lowest level also printed to stderr: debug, info, warn, error, off", plain, func(c *Config) any { return &c.Log.ConsoleLevel }, false},
		{"log.max_size_bytes", "rotate a log file at this size", plain, func(c *Config) any { return &c.Log.MaxSizeBytes }, false},
		{"log.retention", "keep rotated main logs this long", plain, func(c *Config) any { return &c.Log.Retention }, false},
		{"log.audit_retention", "keep rotated audit logs this long", plain, func(c *Config) any { return &c.Log.AuditRetention }, false},
		{"log.audit_key", "key that signs audit checkpoints (HMAC-SHA256), so a cut or rewritten audit log is detected (secret)", secret, func(c *Config) any { return &c.Log.AuditKey }, false},
		{"lineage.spool_dir", "folder where lineage events wait for Neo4j", plain, func(c *Config) any { return &c.Lineage.SpoolDir }, false},
		{"lineage.spool_max_bytes", "bound on the lineage spool", plain, func(c *Config) any { return &c.Lineage.SpoolMaxBytes }, false},
		{"ml.store_dir", "artifact folder of the reference ML pipeline", plain, func(c *Config) any { return &c.ML.StoreDir }, false},
		{"ml.source_roots", "folders, comma-separated, that sources named in workflow inputs may be read from", list, func(c *Config) any { return &c.ML.SourceRoots }, false},
		{"ml.max_source_bytes", "bound on a source or batch file", plain, func(c *Config) any { return &c.ML.MaxSourceBytes }, false},
		{"alerts.cooldown", "alert cooldown: repeats within it go into one summary", plain, func(c *Config) any { return &c.Alerts.Cooldown }, false},
		{"alerts.channels", "channels for alerts, comma-separated: log, webhook, email, alertmanager", list, func(c *Config) any { return &c.Alerts.Channels }, false},
		{"alerts.critical_channels", "channels for critical alerts, comma-separated (default: alerts.channels)", list, func(c *Config) any { return &c.Alerts.CriticalChannels }, false},
		{"alerts.routes", "routes by type and severity before the defaults: \"type=data_drift -> email; severity>=critical -> alertmanager\"", plain, func(c *Config) any { return &c.Alerts.Routes }, false},
		{"alerts.cooldowns", "cooldowns by type and severity: \"data_drift=1h, :critical=1m\"", plain, func(c *Config) any { return &c.Alerts.Cooldowns }, false},
		{"alerts.webhook_url", "URL the webhook channel posts to (secret: may hold a token)", secret, func(c *Config) any { return &c.Alerts.WebhookURL }, false},
		{"alerts.webhook_slack", "post a Slack-compatible body", plain, func(c *Config) any { return &c.Alerts.WebhookSlack }, false},
		{"alerts.smtp_addr", "SMTP server host:port for the email channel", plain, func(c *Config) any { return &c.Alerts.SMTPAddr }, false},
		{"alerts.smtp_from", "sender address of alert emails", plain, func(c *Config) any { return &c.Alerts.SMTPFrom }, false},
		{"alerts.smtp_to", "recipients of alert emails, comma-separated", list, func(c *Config) any { return &c.Alerts.SMTPTo }, false},
		{"alerts.smtp_user", "SMTP login (PLAIN auth)", plain, func(c *Config) any { return &c.Alerts.SMTPUser }, false},
		{"alerts.smtp_password", "SMTP password (secret)", secret, func(c *Config) any { return &c.Alerts.SMTPPassword }, false},
		{"alerts.smtp_allow_plain", "send email without TLS when the server offers no STARTTLS", plain, func(c *Config) any { return &c.Alerts.SMTPAllowPlain }, false},
		{"alerts.alertmanager_url", "Prometheus Alertmanager base URL for the alertmanager channel (secret: may hold credentials)", secret, func(c *Config) any { return &c.Alerts.AlertmanagerURL }, false},
		{"alerts.alertmanager_user", "Alertmanager basic-auth user", plain, func(c *Config) any { return &c.Alerts.AlertmanagerUser }, false},
		{"alerts.alertmanager_password", "Alertmanager basic-auth password (secret)", secret, func(c *Config) any { return &c.Alerts.AlertmanagerPassword }, false},
		{"alerts.alertmanager_token", "Alertmanager bearer token (secret)", secret, func(c *Config) any { return &c.Alerts.AlertmanagerToken }, false},
		{"alerts.alertmanager_ca", "PEM CA bundle to verify an https Alertmanager (default: system roots)", plain, func(c *Config) any { return &c.Alerts.AlertmanagerCA }, false},
		{"alerts.cpu_threshold", "host CPU percent that raises a resource_threshold warning; 0 off", plain, func(c *Config) any { return &c.Alerts.CPUThreshold }, false},
		{"alerts.memory_threshold", "host memory percent that raises a warning; 0 off", plain, func(c *Config) any { return &c.Alerts.MemoryThreshold }, false},
		{"alerts.disk_threshold", "percent of the spool's disk that raises a warning; 0 off", plain, func(c *Config) any { return &c.Alerts.DiskThreshold }, false},
		{"alerts.critical_threshold", "percent at which a resource alert is critical", plain, func(c *Config) any { return &c.Alerts.CriticalThreshold }, false},
		{"alerts.resource_interval", "how often host resources are sampled", plain, func(c *Config) any { return &c.Alerts.ResourceInterval }, false},
		{"alerts.retry_attempt", "also alert (warning) when this attempt of a step fails; 0: final failures only", plain, func(c *Config) any { return &c.Alerts.RetryAttempt }, false},
		{"alerts.workflow_failures", "alert when a pipeline run fails", plain, func(c *Config) any { return &c.Alerts.WorkflowFailures }, false},
		{"interceptor.step_search_attribute", "new runs also write PipelineStep each time their step changes: one history event per change", plain, func(c *Config) any { return &c.Interceptor.StepSearchAttribute }, false},
		{"sentinel.enabled", "start the sentinel, the namespace's one watcher of every pipeline through Temporal's records", plain, func(c *Config) any { return &c.Sentinel.Enabled }, false},
		{"sentinel.workflow_id", "the sentinel's workflow id: one per namespace", plain, func(c *Config) any { return &c.Sentinel.WorkflowID }, false},
		{"sentinel.namespace", "namespace the sentinel watches (default: temporal.namespace)", plain, func(c *Config) any { return &c.Sentinel.Namespace }, false},
		{"sentinel.query", "visibility query narrowing the pipelines watched (default: every workflow but pipewatch's own)", plain, func(c *Config) any { return &c.Sentinel.Query }, false},
		{"sentinel.interval", "pause between sentinel scans", plain, func(c *Config) any { return &c.Sentinel.Interval }, false},
		{"sentinel.describe_rate", "bound on the sentinel's describe calls per second", plain, func(c *Config) any { return &c.Sentinel.DescribeRate }, false},
		{"sentinel.step_attempts", "failed attempts (retries left) that make a step a problem", plain, func(c *Config) any { return &c.Sentinel.StepAttempts }, false},
		{"sentinel.failing_for", "how long a step or workflow task may keep failing before it is a problem", plain, func(c *Config) any { return &c.Sentinel.FailingFor }, false},
		{"sentinel.not_started_for", "how long a step or workflow task may wait for a worker", plain, func(c *Config) any { return &c.Sentinel.NotStartedFor }, false},
		{"sentinel.stuck_attempts", "failed workflow task attempts that make a pipeline stuck", plain, func(c *Config) any { return &c.Sentinel.StuckAttempts }, false},
		{"sentinel.terminated_severity", "severity of the alert about a terminated pipeline: info, warning, critical", plain, func(c *Config) any { return &c.Sentinel.TerminatedSeverity }, false},
		{"shutdown_timeout", "bound on the graceful stop", plain, func(c *Config) any { return &c.ShutdownTimeout }, false},
	}
}
