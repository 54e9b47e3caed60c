package alerts

import (
	"context"
	"encoding/json"
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
	"go.temporal.io/sdk/temporal"

	"github.com/pipewatch/pipewatch/metrics"
)

// receiver is a webhook endpoint: a real HTTP server that keeps what it got
// and answers with the next status of its script.
type receiver struct {
	mu       sync.Mutex
	bodies   []string
	headers  []http.Header
	statuses []int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(b))
	r.headers = append(r.headers, req.Header.Clone())
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

func sample() Notification {
	a := Alert{Type: DataDrift, Severity: Critical, Labels: map[string]string{"feature": "mmse"}, Summary: "PSI 0.31 on mmse",
		Source: Source{WorkflowID: "drift-1"}, At: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	return Notification{Kind: KindSummary, Channel: "webhook", Seq: 2, IdempotencyKey: a.Key() + "/2/webhook", Alert: a, Key: a.Key(),
		Repeats: 12, Count: 13, FirstAt: a.At, LastAt: a.At.Add(4 * time.Minute), Cooldown: 5 * time.Minute, Status: StatusOpen}
}

func TestWebhookNotifier(t *testing.T) {
	n := sample()
	tests := []struct {
		name      string
		slack     bool
		statuses  []int
		wantErr   string
		retryable bool
		check     func(t *testing.T, body string)
	}{
		{name: "json", check: func(t *testing.T, body string) {
			var got Notification
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Repeats != 12 || got.Key != n.Key || got.Alert.Labels["feature"] != "mmse" {
				t.Errorf("body %s: %v", body, err)
			}
		}},
		{name: "slack", slack: true, check: func(t *testing.T, body string) {
			var got struct{ Text string }
			want := "[critical] data_drift: PSI 0.31 on mmse (12 more in 5m0s, last at 2026-11-26T09:04:00Z)"
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Text != want || !strings.Contains(body, `"blocks"`) {
				t.Errorf("slack body %s, want text %q", body, want)
			}
		}},
		{name: "server error is retried", statuses: []int{503}, wantErr: "answered 503 Service Unavailable: Service Unavailable", retryable: true},
		{name: "client error is not", statuses: []int{400}, wantErr: "answered 400 Bad Request: Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &receiver{statuses: tt.statuses}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			w := WebhookNotifier{URL: srv.URL + "/hook?token=s3cret", Slack: tt.slack, Headers: map[string]string{"Authorization": "Bearer hunter2"}}
			err := w.Notify(context.Background(), n)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(rec.bodies) != 1 || rec.headers[0].Get("Idempotency-Key") != n.IdempotencyKey || rec.headers[0].Get("Authorization") != "Bearer hunter2" {
					t.Fatalf("received %d requests, headers %v", len(rec.bodies), rec.headers)
				}
				tt.check(t, rec.bodies[0])
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a secret: %v", err)
			}
			var app *temporal.ApplicationError
			if nonRetry := errors.As(err, &app) && app.NonRetryable(); nonRetry == tt.retryable {
				t.Errorf("non-retryable = %v, want %v", nonRetry, !tt.retryable)
			}
		})
	}
}

func TestNotifiersUnknownChannel(t *testing.T) {
	ns := &Notifiers{Channels: map[string]Notifier{}}
	err := ns.Notify(context.Background(), sample())
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(err.Error(), `no notifier for channel "webhook"`) {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestNotifiersCountAttempts(t *testing.T) {
	m, err := metrics.NewAlerts(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording{failFirst: 1}
	ns := &Notifiers{Channels: map[string]Notifier{"webhook": rec}, Metrics: m}
	n := sample()
	_ = ns.Notify(context.Background(), n) // fails
	_ = ns.Notify(context.Background(), n) // sent
	for status, want := range map[string]float64{"failed": 1, "sent": 1} {
		if got := testutil.ToFloat64(m.Notifications.WithLabelValues("webhook", KindSummary, status)); got != want {
			t.Errorf("%s = %v, want %v", status, got, want)
		}
	}
}

func TestFireNeedsARaiser(t *testing.T) {
	a := Alert{Type: Custom, Severity: Info, Summary: "x"}
	if err := Fire(context.Background(), a); !errors.Is(err, ErrNoRaiser) {
		t.Errorf("Fire without a raiser: %v, want ErrNoRaiser", err)
	}
	if err := Fire(WithRaiser(context.Background(), &Raiser{}), a); !errors.Is(err, ErrNoActivity) {
		t.Errorf("Fire outside an activity: %v, want ErrNoActivity", err)
	}
}
