package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pipewatch/pipewatch/worker"
)

// Each command has exactly the flags it uses: its own, --config, and the
// configuration sections it reads; a stray SMTP flag on run pipeline fails.
func TestCommandFlags(t *testing.T) {
	temporal := []string{"temporal-address", "temporal-api-key", "temporal-api-key-file", "temporal-namespace", "temporal-task-queue",
		"temporal-tls-ca", "temporal-tls-cert", "temporal-tls-key", "temporal-ui-url"}
	neo4j := []string{"neo4j-auth", "neo4j-database", "neo4j-password", "neo4j-password-file", "neo4j-tls-ca", "neo4j-uri", "neo4j-user"}
	everySetting := pflag.NewFlagSet("all", pflag.ContinueOnError)
	worker.BindFlags(everySetting)
	var all []string
	everySetting.VisitAll(func(f *pflag.Flag) { all = append(all, f.Name) })
	if len(all) != 74 {
		t.Errorf("worker.BindFlags registers %d flags, want 74 (65 settings, 8 secret files, --config)", len(all))
	}
	lineageQuery := append([]string{"as-of", "config", "depth", "format", "kind"}, neo4j...)
	action := append([]string{"by", "config", "reason"}, temporal...)
	tests := map[string][]string{
		"pipewatch worker":             all,
		"pipewatch config print":       all,
		"pipewatch doctor":             append(append([]string{"config", "only", "wait"}, temporal...), neo4j...),
		"pipewatch run demo":           append([]string{"config", "http-addr", "name", "neo4j-uri", "neo4j-user", "timeout"}, temporal...),
		"pipewatch run pipeline":       append([]string{"config", "data", "follow", "min-auc", "model"}, temporal...),
		"pipewatch run drift":          append([]string{"batch", "config", "schedule"}, temporal...),
		"pipewatch lineage upstream":   lineageQuery,
		"pipewatch lineage downstream": lineageQuery,
		"pipewatch lineage path":       lineageQuery,
		"pipewatch lineage impact":     lineageQuery,
		"pipewatch lineage show":       lineageQuery,
		"pipewatch lineage export":     append([]string{"config", "limit", "namespace", "openlineage", "out", "since", "until", "url"}, neo4j...),
		"pipewatch alerts list":        append([]string{"config", "limit", "severity", "since", "state", "type"}, temporal...),
		"pipewatch alerts show":        append([]string{"config", "json"}, temporal...),
		"pipewatch alerts ack":         action,
		"pipewatch alerts resolve":     action,
		"pipewatch alerts silence":     append([]string{"for"}, action...),
		"pipewatch sentinel status":    append([]string{"config", "json", "sentinel-workflow-id", "wait"}, temporal...),
		"pipewatch audit verify":       {"config", "dir", "json", "key", "key-file", "sealed"},
		"pipewatch audit show":         {"actor", "config", "dir", "event", "json", "limit", "since"},
		"pipewatch data generate":      {"out", "rows", "seed", "shift"},
		"pipewatch dashboards export":  {"dir"},
		"pipewatch stats":              append([]string{"config", "json", "pipeline", "since", "step"}, neo4j...),
		"pipewatch alerts history":     append([]string{"config", "json", "limit", "pipeline", "severity", "since", "type"}, neo4j...),
		"pipewatch alerts summary":     append([]string{"config", "json", "pipeline", "since"}, neo4j...),
		"pipewatch alerts test":        append([]string{"config", "severity", "timeout"}, temporal...),
		"pipewatch dashboards install": {"datasource-url", "folder", "grafana-url", "timeout", "token-file"},
	}
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() {
			return
		}
		path := c.CommandPath()
		seen[path] = true
		want, ok := tests[path]
		if !ok {
			t.Errorf("%s is not in this table: add it with the flags it should have", path)
			return
		}
		var got []string
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { got = append(got, f.Name) })
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s flags:\n got %q\nwant %q", path, got, want)
		}
	}
	walk(newRoot())
	for path := range tests {
		if !seen[path] {
			t.Errorf("%s is in the table but not a command", path)
		}
	}
}

// Flags have their types on the command line too: booleans, durations in
// the forms the YAML takes, lists; a bad value names the flag; a flag a
// command does not take is refused.
func TestCommandTypedFlags(t *testing.T) {
	t.Setenv(worker.ConfigFileEnv, "")
	t.Setenv("PIPEWATCH_NEO4J_PASSWORD", "x")
	t.Setenv("PIPEWATCH_SENTINEL_ENABLED", "true")
	out, err := runCLI(t, "config", "print", "--sentinel-enabled=false", "--log-retention", "7d", "--alerts-cooldown", "90s",
		"--alerts-channels", "log", "--alerts-channels", "webhook", "--alerts-webhook-url", "http://127.0.0.1:9/hook",
		"--alerts-webhook-slack", "--lineage-spool-max-bytes", "2097152")
	if err != nil {
		t.Fatalf("config print: %v\n%s", err, out)
	}
	for _, line := range []string{"  enabled: \"false\"\n", "  retention: \"7d\"\n", "  cooldown: \"1m30s\"\n", "  channels: \"log,webhook\"\n",
		"  webhook_url: \"********\"\n", "  webhook_slack: \"true\"\n", "  spool_max_bytes: \"2097152\"\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("config print lacks %q:\n%s", line, out)
		}
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "print", "--sentinel-interval", "soon"},
			`invalid argument "soon" for "--sentinel-interval" flag: invalid duration "soon" (want Go syntax like 90s or 36h, or whole days like 90d)`},
		{[]string{"worker", "--alerts-smtp-allow-plain=yes"},
			`invalid argument "yes" for "--alerts-smtp-allow-plain" flag: invalid boolean "yes" (want true or false)`},
		{[]string{"run", "pipeline", "--data", "x.csv", "--alerts-smtp-addr", "mail:25"}, `unknown flag: --alerts-smtp-addr`},
		{[]string{"lineage", "upstream", "x", "--temporal-address", "t:7233"}, `unknown flag: --temporal-address`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := runCLI(t, tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
}
