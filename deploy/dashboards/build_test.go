package dashboards

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// committed is where the generated JSON is committed.
const committed = "../grafana/dashboards"

// TestCommittedJSONIsGenerated regenerates the dashboards and compares them
// byte for byte with the committed files, and finds no other dashboard
// there.
func TestCommittedJSONIsGenerated(t *testing.T) {
	const regen = "regenerate with: go run ./cmd/pipewatch dashboards export --dir deploy/grafana/dashboards"
	if err := Check(committed); err != nil {
		t.Fatalf("%v; %s", err, regen)
	}
	boards, err := All()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, b := range boards {
		want = append(want, b.File())
	}
	got, err := filepath.Glob(filepath.Join(committed, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %v, want exactly %v; %s", committed, got, want, regen)
	}
}

// TestCheckFindsStaleJSON: a changed byte is caught.
func TestCheckFindsStaleJSON(t *testing.T) {
	dir := t.TempDir()
	if _, err := Export(dir); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); err != nil {
		t.Fatalf("fresh export: %v", err)
	}
	path := filepath.Join(dir, UIDDrift+".json")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(b, ' '), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); !errors.Is(err, ErrStale) {
		t.Errorf("Check after an edit: %v, want ErrStale", err)
	}
}

// board is the part of a dashboard's JSON the structure test reads.
type board struct {
	UID   string
	Title string
	Tags  []string
	Links []struct {
		Type                  string
		Tags                  []string
		IncludeVars, KeepTime bool
	}
	Templating struct {
		List []struct {
			Type, Name, Definition string
			AllValue               string
		}
	}
	Panels []struct {
		ID         int
		Type       string
		Title      string
		Datasource struct{ Type, UID string }
		Targets    []struct {
			Expr, RefID string
			Datasource  struct{ UID string }
		}
		FieldConfig struct {
			Defaults struct {
				Unit       string
				Thresholds struct {
					Mode  string
					Steps []struct{ Color string }
				}
			}
		}
	}
}

// TestDashboardsStructure: six dashboards with the seed's names and stable
// uids, linked to each other, each with a Prometheus data source variable
// and the variables its queries use; every panel has a unit, thresholds
// and queries on the data source variable.
func TestDashboardsStructure(t *testing.T) {
	boards, err := All()
	if err != nil {
		t.Fatal(err)
	}
	wantBoards := []struct{ uid, title string }{
		{"pipewatch-overview", "pipewatch / ML Pipeline Overview"},
		{"pipewatch-ingestion", "pipewatch / Data Ingestion"},
		{"pipewatch-training", "pipewatch / Training"},
		{"pipewatch-drift", "pipewatch / Data Drift"},
		{"pipewatch-resources", "pipewatch / Resource Monitoring"},
		{"pipewatch-alerts", "pipewatch / Alerts"},
	}
	if len(boards) != len(wantBoards) {
		t.Fatalf("%d dashboards, want %d", len(boards), len(wantBoards))
	}
	varRef := regexp.MustCompile(`\$(\w+)`)
	for i, want := range wantBoards {
		t.Run(want.uid, func(t *testing.T) {
			raw, err := boards[i].JSON()
			if err != nil {
				t.Fatal(err)
			}
			var d board
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			if d.UID != want.uid || d.Title != want.title || !slices.Equal(d.Tags, []string{Tag}) {
				t.Errorf("uid %q title %q tags %v, want %q %q [%s]", d.UID, d.Title, d.Tags, want.uid, want.title, Tag)
			}
			if len(d.Links) != 1 || d.Links[0].Type != "dashboards" || !slices.Equal(d.Links[0].Tags, []string{Tag}) || !d.Links[0].IncludeVars || !d.Links[0].KeepTime {
				t.Errorf("links %+v, want one link to the dashboards tagged %s, keeping time and variables", d.Links, Tag)
			}
			vars := map[string]bool{}
			for _, v := range d.Templating.List {
				vars[v.Name] = true
				if v.Type == "query" && (v.AllValue != ".*" || v.Definition != "label_values("+map[string]string{
					"pipeline": "pipewatch_step_attempts_total, pipeline",
					"step":     `pipewatch_step_attempts_total{pipeline=~"$pipeline"}, step`,
					"model":    "pipewatch_model_auc, model",
				}[v.Name]+")") {
					t.Errorf("variable %s: definition %q, all value %q", v.Name, v.Definition, v.AllValue)
				}
			}
			if d.Templating.List[0].Type != "datasource" || d.Templating.List[0].Name != "datasource" {
				t.Errorf("first variable %+v, want the data source variable", d.Templating.List[0])
			}
			ids := map[int]bool{}
			panels := 0
			for _, p := range d.Panels {
				if ids[p.ID] {
					t.Errorf("panel id %d twice", p.ID)
				}
				ids[p.ID] = true
				if p.Type == "row" {
					continue
				}
				panels++
				if p.FieldConfig.Defaults.Unit == "" {
					t.Errorf("panel %q has no unit", p.Title)
				}
				if th := p.FieldConfig.Defaults.Thresholds; th.Mode != "absolute" || len(th.Steps) == 0 {
					t.Errorf("panel %q thresholds %+v", p.Title, th)
				}
				if p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" || len(p.Targets) == 0 {
					t.Errorf("panel %q: data source %+v, %d targets", p.Title, p.Datasource, len(p.Targets))
				}
				for _, tg := range p.Targets {
					if tg.Datasource.UID != "${datasource}" || tg.RefID == "" {
						t.Errorf("panel %q target %+v", p.Title, tg)
					}
					for _, m := range varRef.FindAllStringSubmatch(tg.Expr, -1) {
						if !vars[m[1]] {
							t.Errorf("panel %q uses $%s, which the dashboard does not define", p.Title, m[1])
						}
					}
				}
			}
			if panels < 8 {
				t.Errorf("%d panels, want at least 8", panels)
			}
		})
	}
}
