package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewatch/pipewatch/deploy/dashboards"
)

func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestDashboardsExport writes the six files, as committed.
func TestDashboardsExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	out, err := runRoot(t, "dashboards", "export", "--dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n"); n != 6 || !strings.Contains(out, filepath.Join(dir, "pipewatch-overview.json")) {
		t.Errorf("output %q, want the six files", out)
	}
	if err := dashboards.Check(dir); err != nil {
		t.Error(err)
	}
}

// TestDashboardsInstallCommand: the token comes from the file, goes in the
// Authorization header and nowhere in the output. (Grafana cannot run
// here; deploy/dashboards tests Install against a documented-API fake.)
func TestDashboardsInstallCommand(t *testing.T) {
	const token = "glsa_from-file-42"
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" {
			auth = append(auth, r.Header.Get("Authorization"))
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /api/health":
			_, _ = w.Write([]byte(`{"commit":"x","database":"ok","version":"10.0.0"}`))
		case "GET /api/folders":
			_, _ = w.Write([]byte(`[]`))
		case "POST /api/folders":
			_, _ = w.Write([]byte(`{"uid":"pipewatch","title":"pipewatch"}`))
		case "POST /api/dashboards/db":
			_, _ = w.Write([]byte(`{"uid":"u","url":"/d/u/x","version":1}`))
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runRoot(t, "dashboards", "install", "--grafana-url", srv.URL, "--token-file", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "Grafana 10.0.0: folder \"pipewatch\" (uid pipewatch, created)\n") || strings.Count(out, "version 1 ") != 6 || strings.Contains(out, token) {
		t.Errorf("output:\n%s", out)
	}
	if len(auth) != 8 {
		t.Errorf("%d authenticated calls, want 8 (folders twice, six dashboards)", len(auth))
	}
	for _, a := range auth {
		if a != "Bearer "+token {
			t.Errorf("Authorization %q", a)
		}
	}

	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no URL", []string{"dashboards", "install"}, `required flag(s) "grafana-url" not set`},
		{"empty token file", []string{"dashboards", "install", "--grafana-url", srv.URL, "--token-file", empty}, "the Grafana token file " + empty + " is empty"},
		{"no export dir", []string{"dashboards", "export"}, `required flag(s) "dir" not set`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := runRoot(t, tt.args...); err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}
