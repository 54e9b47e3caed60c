package worker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("neo4j: connection refused") }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name     string
		checks   []Check
		wantCode int
		wantBody string
	}{
		{"all pass", []Check{{"temporal", ok}, {"neo4j", ok}}, 200,
			`{"status":"ready","checks":{"neo4j":"ok","temporal":"ok"}}` + "\n"},
		{"one fails", []Check{{"temporal", ok}, {"neo4j", down}}, 503,
			`{"status":"not ready","checks":{"neo4j":"neo4j: connection refused","temporal":"ok"}}` + "\n"},
		{"one hangs past its timeout", []Check{{"temporal", hang}}, 503,
			`{"status":"not ready","checks":{"temporal":"context deadline exceeded"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(NewMux(http.NotFoundHandler(), tt.checks))
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
	srv := httptest.NewServer(NewMux(http.NotFoundHandler(), nil))
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
