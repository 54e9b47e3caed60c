//go:build integration

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/internal/testenv"
)

// scans reads a worker's count of its own successful sentinel scans; -1
// when the worker does not answer.
func scans(addr string) float64 {
	v := metric(addr, `pipewatch_sentinel_scans_total{result="ok"}`)
	if v == "" {
		return -1
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return -1
	}
	return n
}

// TestSentinelSingletonAcrossWorkerProcessesIntegration runs three real
// `pipewatch worker` processes on one task queue: exactly one of them
// scans at a time (the others' scan counters stand still), and when that
// one is killed with SIGKILL another takes over within 60 s, and only one.
func TestSentinelSingletonAcrossWorkerProcessesIntegration(t *testing.T) {
	singletonFailover(t)
}

// TestBenchSentinelFailover is the same in `make bench`: BENCH
// sentinel_failover_s, from SIGKILL of the scanning worker to the first
// scan on another.
func TestBenchSentinelFailover(t *testing.T) {
	if os.Getenv("PIPEWATCH_BENCH") != "1" {
		t.Skip("a benchmark: run with `make bench`")
	}
	fmt.Printf("BENCH sentinel_failover_s %.1f s\n", singletonFailover(t).Seconds())
}

// singletonFailover runs the three workers, kills the scanning one and
// returns how long scanning took to resume elsewhere.
func singletonFailover(t *testing.T) time.Duration {
	cfg := testenv.Config(t)
	bin := buildBinary(t)
	queue := testenv.Name(t)
	sentinelFlags := testenv.WorkerFlags(t, cfg, queue)
	addrs := make([]string, 3)
	procs := make([]*exec.Cmd, 3)
	for i := range procs {
		addrs[i] = freeAddr(t)
		cmd := exec.Command(bin, append([]string{"worker", "--http-addr", addrs[i], "--log-dir", t.TempDir(), "--lineage-spool-dir", t.TempDir(),
			"--temporal-task-queue", queue, "--log-console-level", "off",
			"--alerts-cpu-threshold", "0", "--alerts-memory-threshold", "0", "--alerts-disk-threshold", "0"}, sentinelFlags...)...)
		cmd.Env = testenv.WorkerEnv(cfg)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = cmd
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	for i, addr := range addrs {
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("worker %d not ready in 60s", i)
			}
		}
	}

	// watch samples every worker's scan counter for a while and returns
	// which of the live ones scanned in that time.
	watch := func(live []int, d time.Duration) (scanned []int, counts string) {
		before := map[int]float64{}
		for _, i := range live {
			before[i] = scans(addrs[i])
		}
		time.Sleep(d)
		var parts []string
		for _, i := range live {
			after := scans(addrs[i])
			if after > before[i] {
				scanned = append(scanned, i)
			}
			parts = append(parts, fmt.Sprintf("worker %d: %v -> %v", i, before[i], after))
		}
		return scanned, strings.Join(parts, ", ")
	}

	// The first scan picks a host; from then on only the host scans.
	time.Sleep(12 * time.Second)
	host, counts := watch([]int{0, 1, 2}, 35*time.Second)
	t.Logf("three workers, 35 s: %s", counts)
	if len(host) != 1 {
		t.Fatalf("workers that scanned in 35 s: %v, want exactly one (%s)", host, counts)
	}

	// SIGKILL the host: another takes over within a minute.
	h := host[0]
	if err := procs[h].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var rest []int
	for i := range procs {
		if i != h {
			rest = append(rest, i)
		}
	}
	start := map[int]float64{}
	for _, i := range rest {
		start[i] = scans(addrs[i])
	}
	var took time.Duration
	for took == 0 {
		for _, i := range rest {
			if scans(addrs[i]) > start[i] {
				took = time.Since(killed)
			}
		}
		if time.Since(killed) > 90*time.Second {
			t.Fatalf("no worker scanned in 90 s after the host was killed")
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("scanning resumed on another worker %.1f s after SIGKILL of the host", took.Seconds())
	if took > time.Minute {
		t.Errorf("scanning resumed %.1f s after the host was killed, want within 60 s", took.Seconds())
	}
	next, counts := watch(rest, 25*time.Second)
	t.Logf("two workers, 25 s: %s", counts)
	if len(next) != 1 {
		t.Errorf("workers that scanned after the failover: %v, want exactly one (%s)", next, counts)
	}
	return took
}
