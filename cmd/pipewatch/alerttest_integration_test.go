//go:build integration

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/internal/testenv"
)

// pipewatch alerts test goes through a real worker's routes and channels:
// a webhook that takes the alert is reported sent, one that refuses it
// (a revoked token: 403, not retried) FAILED with the reason, and the
// command fails then; one that fails for a while (503) shows each failed
// attempt as it retries, then sent; either way the test alert ends resolved, its
// workflows ended and its history node removed.
func TestAlertsTestCommandIntegration(t *testing.T) {
	for _, tt := range []struct {
		name string
		// answer is the webhook's status for its nth post (from 1).
		answer    func(n int32) int
		wantOut   []string // regexps, in order
		wantErr   string
		wantPosts int32
	}{
		{"every channel delivers", func(int32) int { return http.StatusOK }, []string{
			`^test alert [0-9a-f]{16} \(critical\), routed by the worker to log, webhook$`,
			`^  (log|webhook) +sent +[0-9.]+m?s after the raise$`,
			`^  (log|webhook) +sent +[0-9.]+m?s after the raise$`,
			`^every channel delivered it; resolved$`,
		}, "", 2},
		// Each failed attempt shows while the channel retries (every one:
		// the webhook's retries are 1 s then 2 s apart, the polls 0.5 s).
		{"the webhook fails twice, then takes it", func(n int32) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}, []string{
			`^test alert [0-9a-f]{16} \(critical\), routed by the worker to log, webhook$`,
			`^  (log +sent +[0-9.]+m?s after the raise|webhook +retrying +attempt 1 of 8 failed: webhook: http://127\.0\.0\.1:[0-9]+ answered 503 Service Unavailable; next in [0-9.]+m?s)$`,
			`^  (log +sent +[0-9.]+m?s after the raise|webhook +retrying +attempt 1 of 8 failed: webhook: http://127\.0\.0\.1:[0-9]+ answered 503 Service Unavailable; next in [0-9.]+m?s)$`,
			`^  webhook +retrying +attempt 2 of 8 failed: webhook: http://127\.0\.0\.1:[0-9]+ answered 503 Service Unavailable; next in [0-9.]+m?s$`,
			`^  webhook +sent +[0-9.]+m?s after the raise$`,
			`^every channel delivered it; resolved$`,
		}, "", 4},
		{"the webhook refuses it", func(int32) int { return http.StatusForbidden }, []string{
			`^test alert [0-9a-f]{16} \(critical\), routed by the worker to log, webhook$`,
			`^  (log +sent +[0-9.]+m?s after the raise|webhook +FAILED +given up [0-9.]+m?s after the raise: webhook: http://127\.0\.0\.1:[0-9]+ answered 403 Forbidden)$`,
			`^  (log +sent +[0-9.]+m?s after the raise|webhook +FAILED +given up [0-9.]+m?s after the raise: webhook: http://127\.0\.0\.1:[0-9]+ answered 403 Forbidden)$`,
		}, "1 of 2 channels did not deliver the test alert: webhook", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var posts atomic.Int32
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.answer(posts.Add(1)))
			}))
			defer hook.Close()
			cfg := testenv.Config(t)
			cfg.Temporal.TaskQueue = testenv.Name(t)
			cfg.HTTP.Addr = "127.0.0.1:0"
			cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
			cfg.Alerts.Channels, cfg.Alerts.WebhookURL = "log,webhook", hook.URL
			testenv.StartWorker(t, cfg)
			tc := testenv.Temporal(t, cfg)

			root := newRoot()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&bytes.Buffer{})
			root.SetArgs([]string{"alerts", "test", "--severity", "critical", "--timeout", "1m",
				"--temporal-namespace", cfg.Temporal.Namespace, "--temporal-task-queue", cfg.Temporal.TaskQueue})
			err := root.ExecuteContext(context.Background())
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("pipewatch alerts test: error %v, want %q", err, tt.wantErr)
			}
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			if len(lines) != len(tt.wantOut) {
				t.Fatalf("output:\n%s\nwant %d lines", out.String(), len(tt.wantOut))
			}
			for i, re := range tt.wantOut {
				if !regexp.MustCompile(re).MatchString(lines[i]) {
					t.Errorf("line %d %q does not match %s", i+1, lines[i], re)
				}
			}
			key := strings.Fields(lines[0])[2]

			// The alert ends resolved: its workflow closes by itself.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var st alerts.State
			if err := tc.GetWorkflow(ctx, alerts.WorkflowIDPrefix+key, "").Get(ctx, &st); err != nil {
				t.Fatal(err)
			}
			if st.Status != alerts.StatusResolved || st.Labels["test"] == "" || st.Type != alerts.Custom || st.Severity != alerts.Critical {
				t.Errorf("test alert ended %s, %s %s, labels %v; want resolved, custom critical, a test label", st.Status, st.Type, st.Severity, st.Labels)
			}
			// The webhook got the first notification (and its retries;
			// refused ones are not retried) and the resolution.
			if n := posts.Load(); n != tt.wantPosts {
				t.Errorf("the webhook got %d posts, want %d (the alert's attempts, its resolution)", n, tt.wantPosts)
			}
			deleteNodes(t, testenv.Neo4j(t, cfg), cfg, `MATCH (a:Alert {key: $k}) DETACH DELETE a`, map[string]any{"k": key}, 1)
		})
	}
}
