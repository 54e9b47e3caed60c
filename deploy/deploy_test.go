// Package deploy holds the configuration of the monitoring stack around
// pipewatch (Prometheus, Alertmanager, Grafana); its tests check the files
// with the tools that will read them.
package deploy

import (
	"os/exec"
	"strings"
	"testing"
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
