package worker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func flagNames(fs *pflag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	slices.Sort(names)
	return names
}

func TestBindFlagsSections(t *testing.T) {
	all := pflag.NewFlagSet("all", pflag.ContinueOnError)
	BindFlags(all)
	tests := []struct {
		name     string
		sections []Section
		want     []string
	}{
		{"temporal", []Section{SectionTemporal}, []string{"config", "temporal-address", "temporal-api-key", "temporal-api-key-file",
			"temporal-namespace", "temporal-task-queue", "temporal-tls-ca", "temporal-tls-cert", "temporal-tls-key", "temporal-ui-url"}},
		{"neo4j", []Section{SectionNeo4j}, []string{"config", "neo4j-auth", "neo4j-database", "neo4j-password", "neo4j-password-file",
			"neo4j-tls-ca", "neo4j-uri", "neo4j-user"}},
		{"one setting and a top-level one", []Section{"sentinel.workflow_id", SectionShutdown, SectionHTTP},
			[]string{"config", "http-addr", "sentinel-workflow-id", "shutdown-timeout"}},
		{"every section is every flag", []Section{SectionTemporal, SectionNeo4j, SectionHTTP, SectionLog, SectionLineage, SectionML,
			SectionAlerts, SectionInterceptor, SectionSentinel, SectionShutdown}, flagNames(all)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			BindFlags(fs, tt.sections...)
			if got := flagNames(fs); !slices.Equal(got, tt.want) {
				t.Errorf("flags:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if n := len(flagNames(all)); n != len(settings())+1 {
		t.Errorf("BindFlags() registered %d flags, want %d settings and --config", n, len(settings())+1)
	}
}

// Flags take the forms the YAML file takes, as their own types, and win
// over the environment only when given.
func TestTypedFlags(t *testing.T) {
	src := Sources{
		LookupEnv: env(map[string]string{"PIPEWATCH_NEO4J_PASSWORD": "x", "PIPEWATCH_LOG_RETENTION": "30d", "PIPEWATCH_SENTINEL_INTERVAL": "20s"}),
		Flags: flags(t, "--sentinel-enabled=false", "--alerts-webhook-slack", "--log-retention", "7d", "--alerts-cooldown=90s",
			"--lineage-spool-max-bytes", "2097152", "--alerts-channels", "log", "--alerts-channels", "webhook,log",
			"--alerts-webhook-url", "http://127.0.0.1:9/hook", "--ml-source-roots=/data,/batches"),
	}
	got, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Neo4j.Password = "x"
	want.Sentinel.Enabled = false
	want.Sentinel.Interval = 20 * time.Second // from the environment: no flag given
	want.Alerts.WebhookSlack = true
	want.Log.Retention = 7 * 24 * time.Hour
	want.Alerts.Cooldown = 90 * time.Second
	want.Lineage.SpoolMaxBytes = 2 << 20
	want.Alerts.Channels = "log,webhook,log"
	want.Alerts.WebhookURL = "http://127.0.0.1:9/hook"
	want.ML.SourceRoots = "/data,/batches"
	if got != want {
		t.Errorf("Load:\n got %#v\nwant %#v", got, want)
	}
}

func TestFlagErrors(t *testing.T) {
	const want = `invalid duration "7y" (want Go syntax like 90s or 36h, or whole days like 90d)`
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--log-audit-retention=7y"}, `invalid argument "7y" for "--log-audit-retention" flag: ` + want},
		{[]string{"--sentinel-enabled=maybe"}, `invalid argument "maybe" for "--sentinel-enabled" flag: invalid boolean "maybe" (want true or false)`},
		{[]string{"--alerts-cpu-threshold", "90%"}, `invalid argument "90%" for "--alerts-cpu-threshold" flag: invalid integer "90%"`},
		{[]string{"--shutdown-timeout", ""}, `invalid argument "" for "--shutdown-timeout" flag: invalid duration "" (want Go syntax like 90s or 36h, or whole days like 90d)`},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			BindFlags(fs)
			err := fs.Parse(tt.args)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse(%q) = %v, want %s", tt.args, err, tt.want)
			}
		})
	}
}

// --help shows each flag's type and real default, and no default for a
// secret, even one set in the environment.
func TestFlagHelp(t *testing.T) {
	t.Setenv("PIPEWATCH_NEO4J_PASSWORD", "s3cret-in-env")
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	BindFlags(fs, SectionLog, SectionNeo4j, SectionSentinel, SectionAlerts)
	help := fs.FlagUsages()
	for _, line := range []string{
		"--log-retention duration                   keep rotated main logs this long (env PIPEWATCH_LOG_RETENTION) (default 90d)\n",
		"--log-max-size-bytes int                   rotate a log file at this size (env PIPEWATCH_LOG_MAX_SIZE_BYTES) (default 104857600)\n",
		"--sentinel-enabled[=true|false]            start the sentinel, the namespace's one watcher of every pipeline through Temporal's records (env PIPEWATCH_SENTINEL_ENABLED) (default true)\n",
		"--alerts-smtp-allow-plain[=true|false]     send email without TLS when the server offers no STARTTLS (env PIPEWATCH_ALERTS_SMTP_ALLOW_PLAIN)\n",
		"--alerts-channels strings                  channels for alerts, comma-separated: log, webhook, email, alertmanager (env PIPEWATCH_ALERTS_CHANNELS) (default [log])\n",
		"--neo4j-password string                    Neo4j password (secret) (env PIPEWATCH_NEO4J_PASSWORD)\n",
		"--neo4j-password-file file                 file holding the Neo4j password; for secrets out of ps and shell history (env PIPEWATCH_NEO4J_PASSWORD_FILE)\n",
	} {
		if !strings.Contains(help, line) {
			t.Errorf("help lacks %q:\n%s", line, help)
		}
	}
	if strings.Contains(help, "s3cret") {
		t.Errorf("help shows a secret:\n%s", help)
	}
}
