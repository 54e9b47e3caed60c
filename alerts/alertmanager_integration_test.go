//go:build integration

package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"golang.org/x/crypto/bcrypt"
)

// startAlertmanager runs Debian's prometheus-alertmanager on a free
// loopback port with a receiver that sends nowhere, and returns its URL.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	return startAlertmanagerWith(t, "")
}

// startAlertmanagerWith runs it with a web configuration (basic auth,
// TLS): Alertmanager's --web.config.file.
func startAlertmanagerWith(t *testing.T, webConfig string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if bin, err = exec.LookPath("alertmanager"); err != nil {
			t.Fatal("Alertmanager is not installed: apt-get install prometheus-alertmanager (.ci/run does)")
		}
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	args := []string{"--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr, "--cluster.listen-address="}
	if webConfig != "" {
		web := filepath.Join(dir, "web.yml")
		if err := os.WriteFile(web, []byte(webConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--web.config.file="+web)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager at %s not ready", url)
		}
	}
}

// amAlerts reads back the alerts with this key.
func amAlerts(t *testing.T, url, key string) []struct {
	Labels      map[string]string
	Annotations map[string]string
	Status      struct{ State string }
	EndsAt      time.Time
} {
	t.Helper()
	resp, err := http.Get(url + "/api/v2/alerts?filter=" + fmt.Sprintf("alert_key%%3D%%22%s%%22", key))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []struct {
		Labels      map[string]string
		Annotations map[string]string
		Status      struct{ State string }
		EndsAt      time.Time
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAlertmanagerNotifierIntegration(t *testing.T) {
	url := startAlertmanager(t)
	am := AlertmanagerNotifier{URL: url, GeneratorURL: "http://127.0.0.1:8233/namespaces/default/workflows"}
	n := sample()
	n.Alert.Labels["feature-name"] = "mmse"
	if err := am.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	got := amAlerts(t, url, n.Key)
	if len(got) != 1 {
		t.Fatalf("alertmanager holds %d alerts with key %s, want 1", len(got), n.Key)
	}
	a := got[0]
	if a.Status.State != "active" || a.Labels["alertname"] != "pipewatch_data_drift" || a.Labels["severity"] != "critical" ||
		a.Labels["feature_name"] != "mmse" || a.Annotations["count"] != "13" || a.Annotations["summary"] != "PSI 0.31 on mmse" {
		t.Errorf("alert in alertmanager: %+v", a)
	}
	if until := time.Until(a.EndsAt); until < 9*time.Minute || until > 11*time.Minute {
		t.Errorf("endsAt in %s, want twice the 5m cooldown", until)
	}

	// Closed: posted again with endsAt now, which resolves it.
	n.Kind = KindClosed
	if err := am.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		got = amAlerts(t, url, n.Key)
		if len(got) == 0 || !got[0].EndsAt.After(time.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert still active after closing: %+v", got)
		}
	}

	// Unreachable Alertmanager: a clear, retryable error.
	bad := AlertmanagerNotifier{URL: "http://127.0.0.1:1"}
	if err := bad.Notify(context.Background(), n); err == nil || err.Error() != "alertmanager: post to http://127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused" {
		t.Errorf("unreachable: %v", err)
	}
}

// An Alertmanager behind basic auth (its web.config basic_auth_users): the
// channel logs in with alerts.alertmanager_user and _password; without
// them the 401 is final, and no error shows a credential.
func TestAlertmanagerBasicAuthIntegration(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("am-s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	url := startAlertmanagerWith(t, "basic_auth_users:\n  pipewatch: "+string(hash)+"\n")
	n := sample()
	n.Key = "basic-auth-" + fmt.Sprint(time.Now().UnixNano())

	anonymous := AlertmanagerNotifier{URL: url}
	err = anonymous.Notify(context.Background(), n)
	var app *temporal.ApplicationError
	if err == nil || !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Fatalf("without credentials: %v, want a final 401", err)
	}
	wrong := AlertmanagerNotifier{URL: url, Username: "pipewatch", Password: "guess"}
	if err := wrong.Notify(context.Background(), n); err == nil || strings.Contains(err.Error(), "guess") {
		t.Fatalf("a wrong password: %v, want an error that does not show it", err)
	}
	am := AlertmanagerNotifier{URL: url, Username: "pipewatch", Password: "am-s3cret"}
	if err := am.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v2/alerts?filter="+fmt.Sprintf("alert_key%%3D%%22%s%%22", n.Key), nil)
	req.SetBasicAuth("pipewatch", "am-s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []struct{ Labels map[string]string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got) != 1 || got[0].Labels["alert_key"] != n.Key {
		t.Errorf("alertmanager holds %+v, %v; want the alert", got, err)
	}
}
