//go:build integration

package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testenv"
)

// TestWorkerProcessStopsOnSIGTERM runs the real binary against the stack,
// waits until /readyz says ready, sends SIGTERM and checks it exits 0 with
// its logs flushed to the file.
func TestWorkerProcessStopsOnSIGTERM(t *testing.T) {
	cfg := testenv.Config(t)
	bin := filepath.Join(t.TempDir(), "pipewatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	logDir := t.TempDir()
	queue := testenv.Name(t)
	cmd := exec.Command(bin, append([]string{"worker", "--http-addr", "127.0.0.1:19464", "--log-dir", logDir, "--lineage-spool-dir", t.TempDir(),
		"--temporal-task-queue", queue, "--shutdown-timeout", "10s"}, testenv.WorkerFlags(t, cfg, queue)...)...)
	cmd.Env = testenv.WorkerEnv(cfg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://127.0.0.1:19464/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = true
				break
			}
		}
	}
	if !ready {
		t.Fatalf("worker never ready; stderr:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker exited with %v after SIGTERM; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("worker still running 20s after SIGTERM")
	}

	f, err := os.Open(filepath.Join(logDir, "pipewatch.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct{ Msg string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		if line.Msg == "worker started" || line.Msg == "worker stopping" || line.Msg == "worker stopped" {
			msgs = append(msgs, line.Msg)
		}
	}
	if got := strings.Join(msgs, ", "); got != "worker started, worker stopping, worker stopped" {
		t.Errorf("lifecycle lines in pipewatch.log = %q; stderr:\n%s", got, stderr.String())
	}
	if strings.Contains(stderr.String(), cfg.Neo4j.Password) {
		t.Errorf("stderr shows the Neo4j password")
	}
}
