//go:build integration

package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/sdk/worker"

	"github.com/pipewatch/pipewatch/internal/devserver"
	"github.com/pipewatch/pipewatch/metrics"
)

// TestAlertReachesEveryChannelIntegration runs an alert workflow on a dev
// server with four channels: a webhook receiver, a real SMTP server, Debian's
// Alertmanager, and an SMTP host that is down. The three that work get the
// alert once; the dead one fails its attempts, which the alert's history
// records, without holding the others up; closing resolves the alert in
// Alertmanager.
func TestAlertReachesEveryChannelIntegration(t *testing.T) {
	tc := devserver.Start(t, SearchAttributeNames())
	var hookMu sync.Mutex
	var hooks []Notification
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n Notification
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hookMu.Lock()
		hooks = append(hooks, n)
		hookMu.Unlock()
	}))
	defer hook.Close()
	box := &mailbox{user: "alerts", password: "hunter2"}
	smtpAddr, smtpTLS := startMailbox(t, box)
	amURL := startAlertmanager(t)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	_ = dead.Close()

	const queue = "alert-channels"
	ns := &Notifiers{Channels: map[string]Notifier{
		"webhook":      WebhookNotifier{URL: hook.URL},
		"email":        EmailNotifier{Addr: smtpAddr, From: "pipewatch@ml.test", To: []string{"oncall@ml.test"}, Username: "alerts", Password: "hunter2", TLS: smtpTLS},
		"alertmanager": AlertmanagerNotifier{URL: amURL},
		"email-down":   EmailNotifier{Addr: deadAddr, From: "pipewatch@ml.test", To: []string{"oncall@ml.test"}},
	}}
	reg := prometheus.NewRegistry()
	m, err := metrics.NewAlerts(reg)
	if err != nil {
		t.Fatal(err)
	}
	ns.Metrics = m
	policy := Policy{
		Cooldown:      5 * time.Second,
		Routes:        []Route{{Channels: []string{"webhook", "email", "alertmanager", "email-down"}}},
		Channels:      map[string]ChannelPolicy{"email-down": {MaxAttempts: 2, InitialInterval: 200 * time.Millisecond}},
		CloseChannels: []string{"alertmanager"},
	}
	w := worker.New(tc, queue, worker.Options{})
	Register(w, &Raiser{TaskQueue: queue, Policy: policy}, ns)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := Alert{Type: ModelDegradation, Severity: Critical, Labels: map[string]string{"model": "churn"}, Summary: "AUC fell to 0.71 (registered 0.91)"}
	if err := Raise(ctx, tc, queue, policy, a); err != nil {
		t.Fatal(err)
	}
	// While the alert is open, Alertmanager shows it active.
	for deadline := time.Now().Add(4 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got := amAlerts(t, amURL, a.Key()); len(got) == 1 && got[0].Status.State == "active" {
			if got[0].Labels["model"] != "churn" || got[0].Labels["alertname"] != "pipewatch_model_degradation" {
				t.Errorf("alertmanager labels %v", got[0].Labels)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("alert not active in Alertmanager within 4s")
		}
	}
	var st State
	if err := tc.GetWorkflow(ctx, a.WorkflowID(), "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	var history []string
	for _, e := range st.History {
		line := e.Event
		if e.Channel != "" {
			line += " " + e.Channel
		}
		if e.Event == "notify_failed" && !strings.Contains(e.Detail, "connect to "+deadAddr) {
			t.Errorf("failed channel's detail %q does not say why", e.Detail)
		}
		history = append(history, line)
	}
	want := map[string]int{"fired": 1, "notified webhook": 1, "notified email": 1, "notified alertmanager": 2, "notify_failed email-down": 1, "closed": 1}
	counts := map[string]int{}
	for _, h := range history {
		counts[h]++
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("history has %d × %q, want %d: %v", counts[k], k, v, history)
		}
	}
	if len(history) != 7 {
		t.Errorf("history %v, want 7 entries", history)
	}
	// The dead channel's first notification is given up once, after its
	// two attempts; the others count nothing undelivered.
	undelivered := `
# HELP pipewatch_alert_notifications_undelivered_total Alert notifications given up after every attempt of their channel's retry policy failed, by channel, kind and severity, count.
# TYPE pipewatch_alert_notifications_undelivered_total counter
pipewatch_alert_notifications_undelivered_total{channel="email-down",kind="first",severity="critical"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(undelivered), "pipewatch_alert_notifications_undelivered_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.Notifications.WithLabelValues("email-down", KindFirst, "failed")); got != 2 {
		t.Errorf("email-down failed attempts %g, want 2", got)
	}
	hookMu.Lock()
	if len(hooks) != 1 || hooks[0].Kind != KindFirst || hooks[0].Key != a.Key() {
		t.Errorf("webhook got %+v", hooks)
	}
	hookMu.Unlock()
	if len(box.messages) != 1 || !strings.Contains(box.messages[0].data, "AUC fell to 0.71") || !box.messages[0].tls {
		t.Errorf("mailbox: %d messages", len(box.messages))
	}
	if got := amAlerts(t, amURL, a.Key()); len(got) == 1 && got[0].EndsAt.After(time.Now()) {
		t.Errorf("alert still active in Alertmanager after closing: %+v", got[0])
	}
}
