package worker

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// env returns a LookupEnv over a fixed map, so tests never read the real
// environment.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pipewatch.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestLoadErrors(t *testing.T) {
	const pw = "PIPEWATCH_NEO4J_PASSWORD"
	tests := []struct {
		name string
		file string // YAML body; "" means no file
		env  map[string]string
		args []string
		want string // the exact error, with FILE standing for the file's path
	}{
		{
			name: "unknown field in a section",
			file: "temporal:\n  address: 127.0.0.1:7233\n  colour: blue\n",
			env:  map[string]string{pw: "x"},
			want: `config file "FILE": line 3: unknown field "temporal.colour" (known: address, api_key, api_key_file, namespace, task_queue, tls_ca, tls_cert, tls_key, ui_url)`,
		},
		{
			name: "unknown top-level field",
			file: "neo4j:\n  user: neo4j\nmetrics: on\n",
			env:  map[string]string{pw: "x"},
			want: `config file "FILE": line 3: unknown field "metrics" (known: alerts, http, interceptor, lineage, log, ml, neo4j, sentinel, shutdown_timeout, temporal)`,
		},
		{
			name: "bad duration in the file",
			file: "log:\n  retention: 90 days\n",
			env:  map[string]string{pw: "x"},
			want: `config file "FILE": line 2: log.retention: invalid duration "90 days" (want Go syntax like 90s or 36h, or whole days like 90d)`,
		},
		{
			name: "bad duration in the environment",
			env:  map[string]string{pw: "x", "PIPEWATCH_SHUTDOWN_TIMEOUT": "soon"},
			want: `config: shutdown_timeout (from PIPEWATCH_SHUTDOWN_TIMEOUT): invalid duration "soon" (want Go syntax like 90s or 36h, or whole days like 90d)`,
		},
		{
			// A bad typed flag is refused as it is parsed (TestFlagErrors);
			// a secret's file is read here, once.
			name: "a missing secret file in a flag",
			env:  map[string]string{pw: "x"},
			args: []string{"--alerts-smtp-password-file=/nonexistent/smtp"},
			want: `config: alerts.smtp_password_file (from --alerts-smtp-password-file): read "/nonexistent/smtp": no such file or directory`,
		},
		{
			name: "missing password when auth is on",
			want: `config: neo4j.password is required when neo4j.auth is "basic" (set PIPEWATCH_NEO4J_PASSWORD or --neo4j-password)`,
		},
		{
			name: "bad auth mode",
			env:  map[string]string{"PIPEWATCH_NEO4J_AUTH": "kerberos"},
			want: `config: neo4j.auth "kerberos" is not one of basic, none`,
		},
		{
			name: "bad level and bad uri reported together",
			env:  map[string]string{pw: "x", "PIPEWATCH_LOG_LEVEL": "loud", "PIPEWATCH_NEO4J_URI": "http://db:7474"},
			want: "config: neo4j.uri \"http://db:7474\" is not a Bolt URI (want bolt|bolt+s|bolt+ssc|neo4j|neo4j+s|neo4j+ssc://host:port)\n" +
				`config: log.level "loud" is not one of debug, info, warn, error`,
		},
		{
			name: "a Neo4j CA with a URI that does not verify",
			env:  map[string]string{pw: "x", "PIPEWATCH_NEO4J_URI": "neo4j+ssc://db:7687", "PIPEWATCH_NEO4J_TLS_CA": "config_test.go"},
			want: `config: neo4j.tls_ca is set, but neo4j.uri "neo4j+ssc://db:7687" does not verify certificates: use neo4j+s://`,
		},
		{
			name: "bad console level",
			env:  map[string]string{pw: "x"},
			args: []string{"--log-console-level=quiet"},
			want: `config: log.console_level "quiet" is not one of debug, info, warn, error, off`,
		},
		{
			name: "alert routing names a channel that is not configured",
			env:  map[string]string{pw: "x", "PIPEWATCH_ALERTS_CHANNELS": "log,webhook", "PIPEWATCH_ALERTS_CRITICAL_CHANNELS": "pager"},
			want: "config: alerts.channels names webhook but alerts.webhook_url is empty\n" +
				`config: alerts.critical_channels: channel "pager" is not one of log, webhook, email, alertmanager`,
		},
		{
			name: "email and alertmanager channels need their settings",
			env:  map[string]string{pw: "x", "PIPEWATCH_ALERTS_CHANNELS": "email", "PIPEWATCH_ALERTS_CRITICAL_CHANNELS": "alertmanager", "PIPEWATCH_ALERTS_SMTP_ADDR": "mail.internal"},
			want: "config: alerts.channels names email but alerts.smtp_addr, alerts.smtp_from and alerts.smtp_to are not all set\n" +
				"config: alerts.critical_channels names alertmanager but alerts.alertmanager_url is empty\n" +
				`config: alerts.smtp_addr "mail.internal": want host:port`,
		},
		{
			name: "alert routes and cooldowns are parsed at start",
			env: map[string]string{pw: "x", "PIPEWATCH_ALERTS_ROUTES": "type=data_drift -> email; * -> pager",
				"PIPEWATCH_ALERTS_COOLDOWNS": "data_drift=1h, drift=5m"},
			want: "config: alerts.routes: route 2 \"* -> pager\": channel \"pager\" is not one of log, webhook, email, alertmanager\n" +
				"config: alerts.cooldowns: cooldown \"drift=5m\": type \"drift\" is not an alert type",
		},
		{
			name: "a route's channel needs its settings",
			env:  map[string]string{pw: "x", "PIPEWATCH_ALERTS_ROUTES": "type=data_drift -> email"},
			want: "config: alerts.routes names email but alerts.smtp_addr, alerts.smtp_from and alerts.smtp_to are not all set",
		},
		{
			name: "alert webhook URL is checked without showing it",
			env:  map[string]string{pw: "x", "PIPEWATCH_ALERTS_WEBHOOK_URL": "hooks.slack.com/services/T0/B0/s3cret"},
			want: "config: alerts.webhook_url is not an http(s) URL",
		},
		{
			name: "bad boolean",
			env:  map[string]string{pw: "x", "PIPEWATCH_ALERTS_WEBHOOK_SLACK": "yes please"},
			want: "config: alerts.webhook_slack (from PIPEWATCH_ALERTS_WEBHOOK_SLACK): invalid boolean \"yes please\" (want true or false)",
		},
		{
			name: "cert without key",
			env:  map[string]string{pw: "x", "PIPEWATCH_TEMPORAL_TLS_CERT": "/nonexistent/client.pem"},
			want: "config: temporal.tls_cert and temporal.tls_key must be set together (got tls_cert \"/nonexistent/client.pem\", tls_key \"\")\n" +
				`config: temporal.tls_cert "/nonexistent/client.pem": file not readable: no such file or directory`,
		},
		{
			name: "audit kept shorter than the main log",
			env:  map[string]string{pw: "x", "PIPEWATCH_LOG_AUDIT_RETENTION": "30d"},
			want: `config: log.audit_retention 30d is shorter than log.retention 90d: the audit log must be kept at least as long`,
		},
		{
			name: "bad address",
			env:  map[string]string{pw: "x", "PIPEWATCH_TEMPORAL_ADDRESS": "localhost"},
			want: `config: temporal.address "localhost": want host:port`,
		},
		{
			name: "sentinel settings are checked at start",
			env: map[string]string{pw: "x", "PIPEWATCH_SENTINEL_INTERVAL": "500ms", "PIPEWATCH_SENTINEL_STEP_ATTEMPTS": "0",
				"PIPEWATCH_SENTINEL_TERMINATED_SEVERITY": "loud", "PIPEWATCH_SENTINEL_QUERY": "(TaskQueue = 'ml'"},
			want: "config: sentinel.step_attempts 0 must be at least 1\n" +
				"config: sentinel.interval 500ms is below 1s\n" +
				"config: sentinel.terminated_severity \"loud\" is not one of info, warning, critical\n" +
				"config: sentinel.query \"(TaskQueue = 'ml'\" has unbalanced parentheses",
		},
		{
			name: "a day count too large for a duration",
			env:  map[string]string{pw: "x", "PIPEWATCH_LOG_AUDIT_RETENTION": "213505d"},
			want: `config: log.audit_retention (from PIPEWATCH_LOG_AUDIT_RETENTION): invalid duration "213505d": more than 106751d (about 292 years) does not fit`,
		},
		{
			name: "a key set twice in the file",
			file: "log:\n  retention: 30d\n  level: warn\n  retention: 90d\n",
			env:  map[string]string{pw: "x"},
			want: `config file "FILE": line 4: log.retention is set again (first on line 2): which is meant?`,
		},
		{
			name: "not a mapping",
			file: "temporal: 127.0.0.1:7233\n",
			env:  map[string]string{pw: "x"},
			want: `config file "FILE": line 1: temporal must be a mapping`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Sources{LookupEnv: env(tt.env), Flags: flags(t, tt.args...)}
			want := tt.want
			if tt.file != "" {
				src.File = writeFile(t, tt.file)
				want = strings.ReplaceAll(want, "FILE", src.File)
			}
			_, err := Load(src)
			if err == nil {
				t.Fatalf("Load succeeded, want error %q", want)
			}
			if err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
		})
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, `
temporal:
  address: file:7233
  namespace: from-file
  task_queue: from-file
neo4j:
  password: file-secret
log:
  retention: 30d
`)
	src := Sources{
		File: file,
		LookupEnv: env(map[string]string{
			"PIPEWATCH_TEMPORAL_NAMESPACE":  "from-env",
			"PIPEWATCH_TEMPORAL_TASK_QUEUE": "from-env",
			"PIPEWATCH_LOG_MAX_SIZE_BYTES":  "2097152",
		}),
		Flags: flags(t, "--temporal-task-queue", "from-flag", "--http-addr", ":9000"),
	}
	got, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Temporal.Address = "file:7233"
	want.Temporal.Namespace = "from-env"
	want.Temporal.TaskQueue = "from-flag"
	want.Neo4j.Password = "file-secret"
	want.Log.Retention = 30 * 24 * time.Hour
	want.Log.MaxSizeBytes = 2 << 20
	want.HTTP.Addr = ":9000"
	if got != want {
		t.Errorf("Load:\n got %#v\nwant %#v", got, want)
	}
	if got.Neo4j.Password != "file-secret" {
		t.Errorf("password = %q, want the file's", got.Neo4j.Password)
	}
}

func TestConfigFileFromEnv(t *testing.T) {
	file := writeFile(t, "neo4j:\n  auth: none\n")
	got, err := Load(Sources{LookupEnv: env(map[string]string{ConfigFileEnv: file})})
	if err != nil {
		t.Fatal(err)
	}
	if got.Neo4j.Auth != "none" {
		t.Errorf("neo4j.auth = %q, want none (from %s)", got.Neo4j.Auth, ConfigFileEnv)
	}
}

func TestSecretsMasked(t *testing.T) {
	const pw, key = "s3cr3t-neo4j-pw", "tmprl-api-key-XYZ"
	cfg, err := Load(Sources{LookupEnv: env(map[string]string{
		"PIPEWATCH_NEO4J_PASSWORD":   pw,
		"PIPEWATCH_TEMPORAL_API_KEY": key,
	})})
	if err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	if err := Print(&printed, cfg); err != nil {
		t.Fatal(err)
	}
	renderings := map[string]string{
		"Print": printed.String(),
		"%v":    fmt.Sprintf("%v", cfg),
		"%+v":   fmt.Sprintf("%+v", cfg),
		"%#v":   fmt.Sprintf("%#v", cfg),
	}
	for name, out := range renderings {
		if strings.Contains(out, pw) || strings.Contains(out, key) {
			t.Errorf("%s shows a secret:\n%s", name, out)
		}
		for _, line := range []string{`  password: "********"`, `  api_key: "********"`} {
			if !strings.Contains(out, line+"\n") {
				t.Errorf("%s lacks %q:\n%s", name, line, out)
			}
		}
	}

	// An unset secret prints as empty, not as a mask.
	cfg.Temporal.APIKey = ""
	printed.Reset()
	_ = Print(&printed, cfg)
	if !strings.Contains(printed.String(), "  api_key: \"\"\n") {
		t.Errorf("unset api_key not printed empty:\n%s", printed.String())
	}

	// The printed form loads back (masks aside) to the same configuration.
	back, err := Load(Sources{File: writeFile(t, printed.String()), LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	back.Neo4j.Password = cfg.Neo4j.Password
	if back != cfg {
		t.Errorf("round trip:\n got %#v\nwant %#v", back, cfg)
	}
}

// Secrets come from files too (<key>_file, as Docker and Kubernetes mount
// them), so none has to be on a command line that ps shows; a bad file is
// named, its content never. The Alertmanager URL may hold credentials: it
// is a secret everywhere.
func TestSecretsFromFilesAndTheAlertmanagerURL(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "neo4j-password")
	if err := os.WriteFile(pwFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const auditKey = "audit-k3y-0123456789abcdef"
	keyFile := filepath.Join(dir, "audit-key")
	if err := os.WriteFile(keyFile, []byte(auditKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const amURL = "https://pipewatch:am-s3cret@alerts.internal:9093"
	cfg, err := Load(Sources{LookupEnv: env(map[string]string{"PIPEWATCH_ALERTS_ALERTMANAGER_URL": amURL, "PIPEWATCH_LOG_AUDIT_KEY_FILE": keyFile}),
		Flags: flags(t, "--neo4j-password-file", pwFile)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Neo4j.Password != "from-a-file" || cfg.Alerts.AlertmanagerURL != amURL || cfg.Log.AuditKey != auditKey {
		t.Errorf("password %q, alertmanager url %q, audit key %q", cfg.Neo4j.Password, cfg.Alerts.AlertmanagerURL, cfg.Log.AuditKey)
	}
	var printed strings.Builder
	_ = Print(&printed, cfg)
	for _, secret := range []string{"am-s3cret", auditKey} {
		if strings.Contains(printed.String(), secret) || strings.Contains(fmt.Sprintf("%#v", cfg), secret) {
			t.Errorf("a secret is shown:\n%s", printed.String())
		}
	}
	for _, line := range []string{`  alertmanager_url: "********"`, `  audit_key: "********"`} {
		if !strings.Contains(printed.String(), line) {
			t.Errorf("printed configuration lacks %s:\n%s", line, printed.String())
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a missing file", map[string]string{"PIPEWATCH_NEO4J_PASSWORD_FILE": filepath.Join(dir, "none")},
			`config: neo4j.password_file (from PIPEWATCH_NEO4J_PASSWORD_FILE): read "` + filepath.Join(dir, "none") + `": no such file or directory`},
		{"an empty file", map[string]string{"PIPEWATCH_NEO4J_PASSWORD_FILE": empty},
			`config: neo4j.password_file (from PIPEWATCH_NEO4J_PASSWORD_FILE): "` + empty + `" is empty`},
		{"a bad alertmanager url is not shown", map[string]string{"PIPEWATCH_NEO4J_PASSWORD": "x", "PIPEWATCH_ALERTS_ALERTMANAGER_URL": "am-s3cret@nohost"},
			"config: alerts.alertmanager_url is not an http(s) URL"},
		{"a short audit key is not shown", map[string]string{"PIPEWATCH_NEO4J_PASSWORD": "x", "PIPEWATCH_LOG_AUDIT_KEY": "short-k3y"},
			"config: log.audit_key is 9 bytes, below the minimum of 16: make one with `head -c 32 /dev/urandom | base64`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(Sources{LookupEnv: env(tt.env)})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"90d", 90 * day, "90d"},
		{"2557d", 2557 * day, "2557d"},
		{"36h", 36 * time.Hour, "36h0m0s"},
		{"48h", 48 * time.Hour, "2d"},
		{"1m30s", 90 * time.Second, "1m30s"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || formatDuration(got) != tt.out {
				t.Errorf("parse %q = %v (%s), want %v (%s)", tt.in, got, formatDuration(got), tt.want, tt.out)
			}
		})
	}
}

func TestAuditConfigChange(t *testing.T) {
	dir := t.TempDir()
	logs, err := OpenLogs(LogConfig{Dir: dir, Level: "info", MaxSizeBytes: 1 << 20, Retention: 90 * day, AuditRetention: 2557 * day}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Log.Dir = dir
	cfg.Neo4j.Password = "first-secret"
	// Four starts; the records they leave are checked below: the first
	// start (everything), then the queue and level change, nothing else.
	steps := []struct {
		name   string
		change func(*Config)
	}{
		{"first start records everything", func(*Config) {}},
		{"same configuration records nothing", func(*Config) {}},
		{"a changed queue and level", func(c *Config) { c.Temporal.TaskQueue = "ml"; c.Log.Level = "debug" }},
		{"a changed secret is not seen", func(c *Config) { c.Neo4j.Password = "second-secret" }},
	}
	for _, st := range steps {
		st.change(&cfg)
		if err := AuditConfigChange(logs.Audit, cfg); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d audit records, want 2:\n%s", len(lines), b)
	}
	var first, second struct {
		Event   string
		Details struct {
			Changed    []string
			FirstStart bool `json:"first_start"`
		}
	}
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if first.Event != "configuration_change" || !first.Details.FirstStart || len(first.Details.Changed) != len(settings()) {
		t.Errorf("first record = %+v", first)
	}
	if got := strings.Join(second.Details.Changed, " "); got != "temporal.task_queue log.level" || second.Details.FirstStart {
		t.Errorf("second record changed = %q, first_start %v", got, second.Details.FirstStart)
	}
	for _, secret := range []string{"first-secret", "second-secret"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("audit log shows a secret")
		}
		saved, _ := os.ReadFile(filepath.Join(dir, lastConfigFile))
		if strings.Contains(string(saved), secret) {
			t.Errorf("%s shows a secret", lastConfigFile)
		}
	}
}

func TestAlertPolicyFromConfig(t *testing.T) {
	p := AlertPolicy(AlertsConfig{Cooldown: 5 * time.Minute, Channels: "log", CriticalChannels: "webhook,alertmanager",
		Routes: "type=data_drift -> email", Cooldowns: ":critical=1m"}, true)
	got := fmt.Sprint(p.Routes)
	if want := "[{[data_drift]  [email]} {[] critical [webhook alertmanager]} {[]  [log]}]"; got != want {
		t.Errorf("routes %s, want %s", got, want)
	}
	if p.Cooldowns[":critical"] != time.Minute || p.Cooldown != 5*time.Minute || !p.SearchAttributes || p.CloseChannels[0] != "alertmanager" {
		t.Errorf("policy %+v", p)
	}
}

// The README's configuration table has a row for every setting, with the
// flag and the environment variable derived from its key: a setting added
// without its row fails here.
func TestReadmeListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 4 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = line
		}
	}
	for _, s := range settings() {
		if s.fromFile {
			continue // the <secret>_file twins are described once, below the table
		}
		row, ok := rows[s.key]
		if !ok {
			t.Errorf("README's configuration table has no row for %s", s.key)
			continue
		}
		for _, want := range []string{"`--" + s.flag() + "`", "`" + s.env() + "`"} {
			if !strings.Contains(row, want) {
				t.Errorf("README's row for %s lacks %s: %s", s.key, want, row)
			}
		}
	}
}
