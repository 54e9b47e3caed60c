package worker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("neo4j: connection refused") }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	leaky := func(context.Context) error {
		return errors.New(`neo4j: RETURN 1 on database "patients": Neo4jError: Neo.ClientError.Security.Unauthorized (The client is unauthorized due to authentication failure.) user "svc-etl" at db-7.internal:7687`)
	}
	refusedUntilDeadline := func(context.Context) error {
		return errors.New(`neo4j: RETURN 1 on database "neo4j": TransactionExecutionLimit: context deadline exceeded after 2 attempts, last error: ConnectivityError: dial tcp 127.0.0.1:7687: connect: connection refused`)
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
		{"refused until the driver's retries ran out of time", []Check{{"neo4j", refusedUntilDeadline}}, 503,
			`{"status":"not ready","checks":{"neo4j":"connection refused"}}` + "\n"},
		{"a driver's error names no host, user or database", []Check{{"neo4j", leaky}}, 503,
			`{"status":"not ready","checks":{"neo4j":"authentication failed"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(NewMux(http.NotFoundHandler(), NewReadiness(tt.checks, ReadinessOptions{})))
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
	srv := httptest.NewServer(NewMux(http.NotFoundHandler(), NewReadiness(nil, ReadinessOptions{})))
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
	mux := NewMux(http.NotFoundHandler(), NewReadiness([]Check{{"neo4j", func(context.Context) error { calls++; return errors.New("dial tcp 10.0.0.7:7687: connection refused") }}},
		ReadinessOptions{Now: func() time.Time { return now }, OnCheckError: func(name string, err error) { logged = append(logged, name+": "+err.Error()) }}))
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

// The checks are also metrics, for the rules that page when a worker
// cannot reach Temporal or Neo4j: 1 passing, 0 failing, from the latest
// run; a scrape never runs a check (a hung dependency must not hold it
// up), and none is exported before the first run.
func TestReadinessMetric(t *testing.T) {
	var mu sync.Mutex // the checks run concurrently
	calls := map[string]int{}
	neo4j := errors.New("connection refused")
	check := func(name string, err *error) Check {
		return Check{name, func(context.Context) error { mu.Lock(); defer mu.Unlock(); calls[name]++; return *err }}
	}
	var none error
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	ready := NewReadiness([]Check{check("temporal", &none), check("neo4j", &neo4j), check("lineage_spool", &none)},
		ReadinessOptions{Now: func() time.Time { return now }})
	reg := prometheus.NewRegistry()
	if err := reg.Register(ready); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("before any run: %d series (%v), want none", n, err)
	}
	const head = `# HELP pipewatch_readiness_check_ok 1 when the worker's readiness check passes (temporal, neo4j, lineage_spool: as /readyz), 0 when it fails; from the latest run of the checks (every 10s, and at each /readyz probe at most every 2s).
# TYPE pipewatch_readiness_check_ok gauge
`
	rec := httptest.NewRecorder()
	NewMux(http.NotFoundHandler(), ready).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 {
		t.Errorf("/readyz = %d, want 503", rec.Code)
	}
	for range 3 { // scrapes read the probe's run
		if err := testutil.GatherAndCompare(reg, strings.NewReader(head+`pipewatch_readiness_check_ok{check="lineage_spool"} 1
pipewatch_readiness_check_ok{check="neo4j"} 0
pipewatch_readiness_check_ok{check="temporal"} 1
`)); err != nil {
			t.Error(err)
		}
	}
	if calls["neo4j"] != 1 || calls["temporal"] != 1 {
		t.Errorf("a probe and three scrapes ran the checks %v, want once each", calls)
	}
	// Neo4j is back; Run's next run (here: the first of Run) says so.
	neo4j = nil
	now = now.Add(10 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ready.Run(ctx, time.Hour) // runs once, then sees ctx done
	if err := testutil.GatherAndCompare(reg, strings.NewReader(head+`pipewatch_readiness_check_ok{check="lineage_spool"} 1
pipewatch_readiness_check_ok{check="neo4j"} 1
pipewatch_readiness_check_ok{check="temporal"} 1
`)); err != nil {
		t.Error(err)
	}
	if calls["neo4j"] != 2 {
		t.Errorf("Run ran the neo4j check %d times in all, want 2", calls["neo4j"])
	}
}
