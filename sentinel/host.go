package sentinel

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// The sentinel's scans stay on one worker, its host, while that worker
// lives: every worker that registers the sentinel also polls a task queue
// of its own (HostQueue) for scans, the first scan runs on any of them and
// names its host, and the next ones go to that host's queue. When the host
// dies its scan times out (heartbeat, or schedule-to-start) and the next
// scan goes to any worker again. So one worker at a time scans, and exports
// the fleet metrics; its state moves through the workflow's history.

// host is a process's host queue, set by StartHost.
type host struct {
	mu    sync.Mutex
	queue string
}

// StartHost starts this process's host worker: it polls a task queue of
// this process's own (taskQueue@identity-random) for the sentinel's scans.
// Register the sentinel on taskQueue too (Register); stop the host with
// the returned function when the process stops.
func (s *Sentinel) StartHost(c client.Client, taskQueue string) (stop func(), err error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("sentinel: host id: %w", err)
	}
	queue := taskQueue + "@" + s.identity() + "-" + hex.EncodeToString(b[:])
	w := worker.New(c, queue, worker.Options{MaxConcurrentActivityExecutionSize: 2})
	w.RegisterActivityWithOptions(s.Scan, activity.RegisterOptions{Name: ScanActivityName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("sentinel: start host worker on %s: %w", queue, err)
	}
	s.host.mu.Lock()
	s.host.queue = queue
	s.host.mu.Unlock()
	return func() {
		s.host.mu.Lock()
		s.host.queue = ""
		s.host.mu.Unlock()
		w.Stop()
	}, nil
}

// hostQueue is this process's host queue, "" without a host worker.
func (s *Sentinel) hostQueue() string {
	s.host.mu.Lock()
	defer s.host.mu.Unlock()
	return s.host.queue
}

var errNoRaiser = errors.New("sentinel: Enable needs a Sentinel with a Raiser (alerts.Raiser of the worker's alert task queue)")
