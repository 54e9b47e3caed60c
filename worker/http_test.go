package worker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("neo4j: connection refused") }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	leaky := func(context.Context) error {
		return errors.New(`neo4j: RETURN 1 on database "patients": Neo4jError: Neo.ClientError.Security.Unauthorized (The client is unauthorized due to authentication failure.) user "svc-etl" at db-7.internal:7687`)
	}
	tests := []struct {
		name     string
		checks   []Check
		wantCode int
		wantBody string
	}{
		{"all pass", []Check{{"temporal", ok}, {"neo4j", ok}}, 200,
			`{"status":"ready","checks":{"neo4j":"ok","temporal":"ok"}}` + "\n"},
		{"one fails", []Check{{"temporal", ok}, {"neo4j", down}}, 503,
			`{"status":"not ready","checks":{"neo4j":"connection refused","temporal":"ok"}}` + "\n"},
		{"one hangs past its timeout", []Check{{"temporal", hang}}, 503,
			`{"status":"not ready","checks":{"temporal":"no answer in 3s"}}` + "\n"},
		{"a driver's error names no host, user or database", []Check{{"neo4j", leaky}}, 503,
			`{"status":"not ready","checks":{"neo4j":"authentication failed"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(NewMux(http.NotFoundHandler(), tt.checks, MuxOptions{}))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode || string(body) != tt.wantBody {
				t.Errorf("/readyz = %d %s, want %d %s", resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestHealthzAndMethods(t *testing.T) {
	srv := httptest.NewServer(NewMux(http.NotFoundHandler(), nil, MuxOptions{}))
	defer srv.Close()
	tests := []struct {
		method, path string
		wantCode     int
	}{
		{"GET", "/healthz", 200},
		{"POST", "/healthz", 405},
		{"GET", "/nothing", 404},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.wantCode {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantCode)
		}
	}
}

// /readyz runs its checks at most every two seconds, however often it is
// asked: a flood of probes used to be a flood of calls to Temporal and
// Neo4j.
func TestReadyzRateLimitsItsChecks(t *testing.T) {
	calls := 0
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var logged []string
	mux := NewMux(http.NotFoundHandler(), []Check{{"neo4j", func(context.Context) error { calls++; return errors.New("dial tcp 10.0.0.7:7687: connection refused") }}},
		MuxOptions{Now: func() time.Time { return now }, OnCheckError: func(name string, err error) { logged = append(logged, name+": "+err.Error()) }})
	get := func() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	}
	for range 50 {
		get()
	}
	now = now.Add(2 * time.Second)
	get()
	if calls != 2 {
		t.Errorf("51 probes over 2s ran the check %d times, want 2", calls)
	}
	if len(logged) != 2 || logged[0] != "neo4j: dial tcp 10.0.0.7:7687: connection refused" {
		t.Errorf("logged %q: the full error goes to the log, once a run", logged)
	}
}
