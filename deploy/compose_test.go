package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/worker"
)

// compose is the part of docker-compose.yml the test reads.
type compose struct {
	Services map[string]struct {
		Image       string
		Build       string
		DependsOn   []string          `yaml:"depends_on"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string
		Entrypoint  []string
		Ports       []string
	}
	Volumes map[string]any
}

// TestComposeFile checks docker-compose.yml as far as this machine can
// without Docker: its structure, the files it mounts, the worker's
// configuration (loaded and validated as the worker would), the search
// attributes it registers, and the Prometheus and Alertmanager files with
// promtool and amtool.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	// Nothing exposed beyond the machine, and no password with a default:
	// each one the user sets in .env, which .env.example lists.
	example, err := os.ReadFile("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)(:[-?])`).FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "PASSWORD") && m[2] != ":?" {
			t.Errorf("${%s} has a default: a password everybody knows", m[1])
		}
		if m[2] == ":?" && !strings.Contains(string(example), "\n"+m[1]+"=") {
			t.Errorf("${%s} is required but .env.example does not list it", m[1])
		}
	}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %s on every interface, want 127.0.0.1 only", name, p)
			}
		}
		if (s.Image == "") == (s.Build == "") {
			t.Errorf("service %s needs an image or a build, not both", name)
		}
		for _, d := range s.DependsOn {
			if _, ok := c.Services[d]; !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, d)
			}
		}
		for _, v := range s.Volumes {
			src := strings.SplitN(v, ":", 2)[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat("../" + src); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("service %s mounts volume %s, which is not declared", name, src)
			}
		}
	}

	// The worker's environment loads and validates as its configuration.
	pw := c.Services["pipewatch"]
	defaults := regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)
	required := regexp.MustCompile(`\$\{[A-Z_]+:\?[^}]*\}`)
	env := map[string]string{}
	for k, v := range pw.Environment {
		env[k] = required.ReplaceAllString(defaults.ReplaceAllString(v, "$1"), "from-the-env-file")
	}
	cfg, err := worker.Load(worker.Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatalf("the pipewatch service's configuration: %v", err)
	}
	if cfg.Temporal.Address != "temporal:7233" || cfg.Neo4j.URI != "bolt://neo4j:7687" || cfg.HTTP.Addr != "0.0.0.0:9464" {
		t.Errorf("configuration %+v", cfg)
	}

	// The search attributes registered are the ones pipewatch writes.
	want := append(interceptors.SearchAttributeNames(), alerts.SearchAttributeNames()...)
	slices.Sort(want)
	want = slices.Compact(want)
	ep := strings.Join(c.Services["temporal-search-attributes"].Entrypoint, " ")
	var got []string
	if m := regexp.MustCompile(`for sa in ([A-Za-z ]+);`).FindStringSubmatch(ep); m != nil {
		got = strings.Fields(m[1])
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("compose registers %v, pipewatch writes %v", got, want)
	}

	script, err := os.ReadFile("../scripts/temporal.sh")
	if err != nil {
		t.Fatal(err)
	}
	var scripted []string
	if m := regexp.MustCompile(`SEARCH_ATTRIBUTES=\(([^)]*)\)`).FindSubmatch(script); m != nil {
		scripted = strings.Fields(string(m[1]))
	}
	slices.Sort(scripted)
	if !slices.Equal(scripted, want) {
		t.Errorf("scripts/temporal.sh registers %v, pipewatch writes %v", scripted, want)
	}

	for _, check := range []struct{ tool, sub, file string }{
		{"promtool", "check config", "prometheus/prometheus-compose.yml"},
		{"amtool", "check-config", "alertmanager/alertmanager.yml"},
	} {
		bin, err := exec.LookPath(check.tool)
		if err != nil {
			t.Fatalf("%s not found: install Debian's prometheus and prometheus-alertmanager (.ci/run does)", check.tool)
		}
		args := append(strings.Fields(check.sub), check.file)
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("%s %s %s: %v\n%s", check.tool, check.sub, check.file, err, out)
		}
	}
}
