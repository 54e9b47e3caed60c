// Package deploy holds the configuration of the monitoring stack around
// pipewatch (Prometheus, Alertmanager, Grafana); its tests check the files
// with the tools that will read them.
package deploy

import (
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestPrometheusConfig(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (.ci/run does)")
	}
	out, err := exec.Command(promtool, "check", "config", "prometheus/prometheus.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS") {
		t.Errorf("promtool check config said:\n%s", out)
	}
}

// TestPrometheusRules checks the alerting rules in prometheus/rules with
// promtool: that they load (check rules) and that their unit tests pass
// (test rules). It also holds every rule to the conventions on-call relies
// on (a severity of critical or warning, source: prometheus, a summary and
// a description) and to having a unit test where it fires and one where it
// must not, and checks that the Prometheus of docker-compose.yml finds the
// rules where its configuration looks for them.
func TestPrometheusRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (.ci/run does)")
	}
	const rules, tests = "prometheus/rules/pipewatch.rules.yml", "prometheus/rules/pipewatch.rules.test.yml"
	for _, args := range [][]string{{"check", "rules", rules}, {"test", "rules", tests}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s said:\n%s", strings.Join(args, " "), out)
		}
	}

	var rf struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	readYAML(t, rules, &rf)
	var tf struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string
				ExpAlerts []any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		}
	}
	readYAML(t, tests, &tf)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			if r.Labels["source"] != "prometheus" {
				t.Errorf("%s: source %q, want prometheus (alertmanager.yml routes on it)", r.Alert, r.Labels["source"])
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: no %s annotation", r.Alert, a)
				}
			}
			if !fires[r.Alert] || !quiet[r.Alert] {
				t.Errorf("%s: %s needs a test where it fires and one where it does not (fires: %v, does not: %v)",
					r.Alert, tests, fires[r.Alert], quiet[r.Alert])
			}
		}
	}
	if n == 0 {
		t.Fatalf("%s holds no alerting rule", rules)
	}

	// docker-compose.yml mounts prometheus/rules next to the configuration,
	// whose rule_files are relative to it: each pattern must find the
	// rules file through the mount.
	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	readYAML(t, "prometheus/prometheus-compose.yml", &cfg)
	var c compose
	readYAML(t, "../docker-compose.yml", &c)
	mounts := map[string]string{} // container path -> repository path
	for _, v := range c.Services["prometheus"].Volumes {
		if parts := strings.Split(v, ":"); len(parts) >= 2 {
			mounts[parts[1]] = strings.TrimPrefix(parts[0], "./deploy/")
		}
	}
	found := false
	for _, pat := range cfg.RuleFiles {
		if !path.IsAbs(pat) {
			pat = path.Join("/etc/prometheus", pat)
		}
		src, ok := mounts[path.Dir(pat)]
		if !ok {
			t.Errorf("prometheus-compose.yml's rule_files %s: docker-compose.yml mounts nothing at %s", pat, path.Dir(pat))
			continue
		}
		if ok, _ := path.Match(path.Join(src, path.Base(pat)), rules); ok {
			found = true
		}
	}
	if !found {
		t.Errorf("no rule_files pattern of prometheus-compose.yml (%v) finds %s through docker-compose.yml's mounts %v", cfg.RuleFiles, rules, mounts)
	}
}

// readYAML decodes the YAML file at name into v.
func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
