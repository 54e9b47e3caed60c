package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Grafana itself cannot run on this machine (it is in no package registry
// reachable here), so Install is tested against fakeGrafana: an HTTP
// server that checks each request as Grafana's HTTP API documents it
// (method, path, Authorization header, JSON body fields; see the endpoint
// list in install.go) and keeps state the way Grafana does, so that a
// second install is an update.

const testToken = "glsa_test-token-0123456789"

type fakeDatasource struct {
	ID                           int
	UID, Name, Type, URL, Access string
}

type fakeDashboard struct {
	FolderUID string
	Version   int
	Title     string
}

// fakeGrafana is Grafana's HTTP API as documented, in memory.
type fakeGrafana struct {
	t       *testing.T
	version string // what /api/health reports
	// failDashboards, when set, is the status POST /api/dashboards/db
	// answers, with Grafana's message for it.
	failDashboards int

	mu          sync.Mutex
	calls       []string
	folders     map[string]string // uid -> title
	datasources map[string]*fakeDatasource
	dashboards  map[string]*fakeDashboard
	nextID      int
}

func newFakeGrafana(t *testing.T, version string) (*fakeGrafana, *httptest.Server) {
	g := &fakeGrafana{t: t, version: version, folders: map[string]string{},
		datasources: map[string]*fakeDatasource{}, dashboards: map[string]*fakeDashboard{}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *fakeGrafana) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *fakeGrafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, r.Method+" "+r.URL.Path)
	if r.URL.Path == "/api/health" { // no authentication
		if r.Method != http.MethodGet {
			g.t.Errorf("%s /api/health", r.Method)
		}
		g.reply(w, 200, map[string]string{"commit": "abc1234", "database": "ok", "version": g.version})
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		g.reply(w, 401, map[string]string{"message": "Invalid API key"})
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			g.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			g.reply(w, 400, map[string]string{"message": "bad request data"})
			return
		}
	}
	const dsPrefix = "/api/datasources/uid/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/folders":
		var out []map[string]any
		for uid, title := range g.folders {
			out = append(out, map[string]any{"id": 1, "uid": uid, "title": title})
		}
		g.reply(w, 200, out)
	case r.Method == http.MethodPost && r.URL.Path == "/api/folders":
		uid, _ := body["uid"].(string)
		title, _ := body["title"].(string)
		if title == "" {
			g.reply(w, 400, map[string]string{"message": "folder title cannot be empty"})
			return
		}
		for _, t := range g.folders {
			if t == title {
				g.reply(w, 409, map[string]string{"message": "a folder with the same name already exists"})
				return
			}
		}
		g.folders[uid] = title
		g.reply(w, 200, map[string]any{"id": 1, "uid": uid, "title": title, "url": "/dashboards/f/" + uid + "/", "version": 1})
	case strings.HasPrefix(r.URL.Path, dsPrefix):
		uid := strings.TrimPrefix(r.URL.Path, dsPrefix)
		ds, ok := g.datasources[uid]
		if !ok {
			g.reply(w, 404, map[string]string{"message": "Data source not found"})
			return
		}
		switch r.Method {
		case http.MethodGet:
			g.reply(w, 200, ds)
		case http.MethodPut:
			if !g.checkDatasource(body) {
				g.reply(w, 400, map[string]string{"message": "bad request data"})
				return
			}
			ds.Name, ds.URL, ds.Access = body["name"].(string), body["url"].(string), body["access"].(string)
			g.reply(w, 200, map[string]any{"datasource": ds, "id": ds.ID, "message": "Datasource updated", "name": ds.Name})
		default:
			g.reply(w, 405, map[string]string{"message": "method not allowed"})
		}
	case r.Method == http.MethodPost && r.URL.Path == "/api/datasources":
		if !g.checkDatasource(body) {
			g.reply(w, 400, map[string]string{"message": "bad request data"})
			return
		}
		for _, ds := range g.datasources {
			if ds.Name == body["name"] {
				g.reply(w, 409, map[string]string{"message": "data source with the same name already exists"})
				return
			}
		}
		g.nextID++
		ds := &fakeDatasource{ID: g.nextID, UID: body["uid"].(string), Name: body["name"].(string), Type: body["type"].(string), URL: body["url"].(string), Access: body["access"].(string)}
		g.datasources[ds.UID] = ds
		g.reply(w, 200, map[string]any{"datasource": ds, "id": ds.ID, "message": "Datasource added", "name": ds.Name})
	case r.Method == http.MethodPost && r.URL.Path == "/api/dashboards/db":
		if g.failDashboards != 0 {
			msg := map[int]string{403: "Access denied", 412: "The dashboard has been changed by someone else"}[g.failDashboards]
			g.reply(w, g.failDashboards, map[string]string{"message": msg, "status": "version-mismatch"})
			return
		}
		d, _ := body["dashboard"].(map[string]any)
		uid, _ := d["uid"].(string)
		title, _ := d["title"].(string)
		folderUID, _ := body["folderUid"].(string)
		if d == nil || uid == "" || title == "" || body["overwrite"] != true {
			g.t.Errorf("POST /api/dashboards/db: dashboard.uid %q, title %q, overwrite %v", uid, title, body["overwrite"])
			g.reply(w, 400, map[string]string{"message": "bad request data"})
			return
		}
		if _, ok := g.folders[folderUID]; !ok {
			g.reply(w, 400, map[string]string{"message": "folder not found"})
			return
		}
		if _, ok := d["id"]; ok && d["id"] != nil {
			g.t.Errorf("dashboard %s sent with an id: %v", uid, d["id"])
		}
		db := g.dashboards[uid]
		if db == nil {
			db = &fakeDashboard{}
			g.dashboards[uid] = db
		}
		db.Version++
		db.FolderUID, db.Title = folderUID, title
		g.reply(w, 200, map[string]any{"id": 1, "uid": uid, "url": "/d/" + uid + "/x", "status": "success", "version": db.Version, "slug": "x"})
	default:
		g.t.Errorf("unexpected call %s %s", r.Method, r.URL.Path)
		g.reply(w, 404, map[string]string{"message": "Not found"})
	}
}

// checkDatasource checks a data source body has the fields Install must set.
func (g *fakeGrafana) checkDatasource(b map[string]any) bool {
	ok := b["type"] == "prometheus" && b["access"] == "proxy" && b["uid"] == DefaultDatasourceUID &&
		b["name"] == DefaultDatasourceName && b["url"] == "http://prometheus:9090"
	if !ok {
		g.t.Errorf("data source body %v", b)
	}
	return ok
}

// state is the fake's objects, as a sorted list of lines.
func (g *fakeGrafana) state() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for uid, title := range g.folders {
		out = append(out, fmt.Sprintf("folder %s %q", uid, title))
	}
	for uid, ds := range g.datasources {
		out = append(out, fmt.Sprintf("datasource %s %q %s %s %s", uid, ds.Name, ds.Type, ds.URL, ds.Access))
	}
	for uid, d := range g.dashboards {
		out = append(out, fmt.Sprintf("dashboard %s in %s", uid, d.FolderUID))
	}
	slices.Sort(out)
	return out
}

func (g *fakeGrafana) takeCalls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.calls
	g.calls = nil
	return c
}

// TestInstallIsIdempotent: the first install creates the folder, the data
// source and six dashboards; the second updates the same objects.
func TestInstallIsIdempotent(t *testing.T) {
	g, srv := newFakeGrafana(t, "10.4.2")
	opts := InstallOptions{URL: srv.URL + "/", Token: testToken, Folder: "ML pipelines", DatasourceURL: "http://prometheus:9090"}
	posts := slices.Repeat([]string{"POST /api/dashboards/db"}, 6)
	wantState := []string{
		`dashboard pipewatch-alerts in ml-pipelines`, `dashboard pipewatch-drift in ml-pipelines`,
		`dashboard pipewatch-ingestion in ml-pipelines`, `dashboard pipewatch-overview in ml-pipelines`,
		`dashboard pipewatch-resources in ml-pipelines`, `dashboard pipewatch-training in ml-pipelines`,
		`datasource pipewatch-prometheus "pipewatch Prometheus" prometheus http://prometheus:9090 proxy`,
		`folder ml-pipelines "ML pipelines"`,
	}
	for i, tt := range []struct {
		name          string
		calls         []string
		folderCreated bool
		datasource    string
		version       int
	}{
		{"first install creates", append([]string{"GET /api/health", "GET /api/folders", "POST /api/folders",
			"GET /api/datasources/uid/pipewatch-prometheus", "POST /api/datasources"}, posts...), true, "created", 1},
		{"second install updates", append([]string{"GET /api/health", "GET /api/folders",
			"GET /api/datasources/uid/pipewatch-prometheus", "PUT /api/datasources/uid/pipewatch-prometheus"}, posts...), false, "updated", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Install(context.Background(), opts)
			if err != nil {
				t.Fatalf("install %d: %v", i+1, err)
			}
			if calls := g.takeCalls(); !slices.Equal(calls, tt.calls) {
				t.Errorf("calls\n%s\nwant\n%s", strings.Join(calls, "\n"), strings.Join(tt.calls, "\n"))
			}
			if st := g.state(); !slices.Equal(st, wantState) {
				t.Errorf("Grafana holds\n%s\nwant\n%s", strings.Join(st, "\n"), strings.Join(wantState, "\n"))
			}
			if rep.GrafanaVersion != "10.4.2" || rep.FolderUID != "ml-pipelines" || rep.FolderCreated != tt.folderCreated || rep.Datasource != tt.datasource || len(rep.Dashboards) != 6 {
				t.Errorf("report %+v", rep)
			}
			for _, d := range rep.Dashboards {
				if d.Version != tt.version || d.URL != "/d/"+d.UID+"/x" {
					t.Errorf("dashboard %+v, want version %d", d, tt.version)
				}
			}
		})
	}
}

// TestInstallSendsTheDashboards: the dashboard bodies are the generated
// dashboards, opening on the installed data source.
func TestInstallSendsTheDashboards(t *testing.T) {
	var mu sync.Mutex
	sent := map[string]map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/health":
			_, _ = w.Write([]byte(`{"commit":"x","database":"ok","version":"9.0.0"}`))
		case "/api/folders":
			_, _ = w.Write([]byte(`[{"id":3,"uid":"existing","title":"pipewatch"}]`))
		case "/api/dashboards/db":
			var b struct {
				Dashboard map[string]any
				FolderUID string `json:"folderUid"`
			}
			_ = json.NewDecoder(r.Body).Decode(&b)
			mu.Lock()
			sent[b.FolderUID+" "+b.Dashboard["uid"].(string)] = b.Dashboard
			mu.Unlock()
			_, _ = w.Write([]byte(`{"uid":"x","url":"/d/x","version":1}`))
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	rep, err := Install(context.Background(), InstallOptions{URL: srv.URL})
	if err != nil || rep.FolderUID != "existing" || rep.FolderCreated || rep.Datasource != "" {
		t.Fatalf("install into the existing folder, no data source: %+v, %v", rep, err)
	}
	boards, _ := All()
	for _, b := range boards {
		d := sent["existing "+b.UID]
		if d == nil || d["title"] != b.Title {
			t.Errorf("dashboard %s not sent into folder existing: %v", b.UID, d)
			continue
		}
		want, _ := b.JSON()
		var wantMap map[string]any
		_ = json.Unmarshal(want, &wantMap)
		if w, g := fmt.Sprint(wantMap), fmt.Sprint(d); w != g {
			t.Errorf("dashboard %s sent differs from the generated one", b.UID)
		}
	}
}

// TestInstallErrors: auth, permission, version and URL problems, each
// named with what failed and the token never shown.
func TestInstallErrors(t *testing.T) {
	tests := []struct {
		name    string
		version string
		token   string
		fail    int
		path    string // appended to the server URL
		want    string // the error, with {url} standing for the server's
		is      error
	}{
		{name: "wrong token", version: "11.1.0", token: "glsa_wrong",
			want: `folder "pipewatch": GET /api/folders: 401 Unauthorized: authentication failed: check the token (--token-file) (grafana: "Invalid API key")`},
		{name: "no token", version: "11.1.0",
			want: `folder "pipewatch": GET /api/folders: 401 Unauthorized: authentication failed: check the token (--token-file) (grafana: "Invalid API key")`},
		{name: "grafana 8", version: "8.5.27", token: testToken,
			want: `grafana is too old: 8.5.27 at {url}; pipewatch's dashboards need Grafana 9 or later`, is: ErrGrafanaTooOld},
		{name: "viewer token", version: "9.5.0", token: testToken, fail: 403,
			want: `dashboard pipewatch-overview (pipewatch / ML Pipeline Overview): POST /api/dashboards/db: 403 Forbidden: permission denied: the token's role may not do this (folders and dashboards need Editor, data sources Admin) (grafana: "Access denied")`},
		{name: "version mismatch", version: "9.5.0", token: testToken, fail: 412,
			want: `dashboard pipewatch-overview (pipewatch / ML Pipeline Overview): POST /api/dashboards/db: 412 Precondition Failed: precondition failed (a version mismatch or a dashboard with the same name in the folder) (grafana: "The dashboard has been changed by someone else")`},
		{name: "wrong URL path", version: "9.5.0", token: testToken, path: "/grafana",
			want: `grafana health check: GET /api/health: 404 Not Found: not found: is the Grafana URL right (with its sub-path, if any)?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, srv := newFakeGrafana(t, tt.version)
			g.failDashboards = tt.fail
			if tt.path != "" {
				// Grafana at the root: a sub-path answers 404.
				mux := http.NewServeMux()
				mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(404)
					_, _ = w.Write([]byte("404 page not found"))
				})
				srv.Config.Handler = mux
			}
			_, err := Install(context.Background(), InstallOptions{URL: srv.URL + tt.path, Token: tt.token})
			if err == nil {
				t.Fatal("no error")
			}
			want := strings.ReplaceAll(tt.want, "{url}", srv.URL)
			if err.Error() != want {
				t.Errorf("error\n%s\nwant\n%s", err, want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if strings.Contains(err.Error(), testToken) || (tt.token != "" && strings.Contains(err.Error(), tt.token)) {
				t.Errorf("the error shows the token: %v", err)
			}
			if tt.name == "grafana 8" {
				if calls := g.takeCalls(); !slices.Equal(calls, []string{"GET /api/health"}) {
					t.Errorf("calls to a too-old Grafana %v, want only the health check", calls)
				}
			}
		})
	}
}

// TestFolderUID: folder uids derived from titles are Grafana-valid.
func TestFolderUID(t *testing.T) {
	for _, tt := range []struct{ title, want string }{
		{"pipewatch", "pipewatch"},
		{"ML pipelines", "ml-pipelines"},
		{"  Équipe / ML — prod ", "quipe-ml-prod"},
		{"???", "pipewatch"},
		{strings.Repeat("a", 50), strings.Repeat("a", 40)},
	} {
		if got := folderUID(tt.title); got != tt.want {
			t.Errorf("folderUID(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}
