package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Check is one readiness probe: it returns nil when its dependency answers.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// checkTimeout bounds each readiness probe, so /readyz answers promptly even
// when a dependency hangs.
const checkTimeout = 3 * time.Second

// readiness is the body of /readyz.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyEvery is how often /readyz runs its checks at most: requests in
// between get the last answer, so a flood of probes never becomes a flood
// of calls to Temporal and Neo4j.
const readyEvery = 2 * time.Second

// ReadinessOptions configures NewReadiness. The zero value is ready to use.
type ReadinessOptions struct {
	// OnCheckError is told of every failed check with its full error;
	// /readyz itself shows only its cause (see Cause). Nil ignores them.
	OnCheckError func(name string, err error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Readiness runs the worker's checks concurrently, at most every two
// seconds, for /readyz (on demand) and for pipewatch_readiness_check_ok
// (from the latest run: a scrape never waits on a check; Run keeps the
// results fresh).
type Readiness struct {
	checks []Check
	opts   ReadinessOptions
	desc   *prometheus.Desc

	run  sync.Mutex // one run of the checks at a time
	mu   sync.Mutex // guards last and body
	last time.Time
	body readiness
}

// NewReadiness returns the readiness of checks.
func NewReadiness(checks []Check, opts ReadinessOptions) *Readiness {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Readiness{checks: checks, opts: opts, desc: prometheus.NewDesc("pipewatch_readiness_check_ok",
		"1 when the worker's readiness check passes (temporal, neo4j, lineage_spool: as /readyz), 0 when it fails; from the latest run of the checks (every 10s, and at each /readyz probe at most every 2s).",
		[]string{"check"}, nil)}
}

// latest is the latest run's answer, and when it ran (zero: never).
func (r *Readiness) latest() (readiness, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.body, r.last
}

// report runs the checks unless they ran less than readyEvery ago.
func (r *Readiness) report(ctx context.Context) readiness {
	r.run.Lock()
	defer r.run.Unlock()
	if body, last := r.latest(); !last.IsZero() && r.opts.Now().Sub(last) < readyEvery {
		return body
	}
	body := readiness{Status: "ready", Checks: make(map[string]string, len(r.checks))}
	var bmu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range r.checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
			defer cancel()
			result := "ok"
			if err := c.Run(cctx); err != nil {
				result = Cause(err)
				if r.opts.OnCheckError != nil {
					r.opts.OnCheckError(c.Name, err)
				}
			}
			bmu.Lock()
			defer bmu.Unlock()
			body.Checks[c.Name] = result
			if result != "ok" {
				body.Status = "not ready"
			}
		})
	}
	wg.Wait()
	r.mu.Lock()
	r.last, r.body = r.opts.Now(), body
	r.mu.Unlock()
	return body
}

// Run runs the checks now and then every every until ctx is done, so
// that the metric stays fresh without a scrape waiting on a check.
func (r *Readiness) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.report(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Describe implements prometheus.Collector.
func (r *Readiness) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

// Collect implements prometheus.Collector: one series per check, from the
// latest run of the checks; none before the first run.
func (r *Readiness) Collect(ch chan<- prometheus.Metric) {
	body, last := r.latest()
	if last.IsZero() {
		return
	}
	for _, c := range r.checks {
		v := 0.0
		if body.Checks[c.Name] == "ok" {
			v = 1
		}
		m, err := prometheus.NewConstMetric(r.desc, prometheus.GaugeValue, v, c.Name)
		if err != nil {
			m = prometheus.NewInvalidMetric(r.desc, err)
		}
		ch <- m
	}
}

// NewMux serves /metrics, /healthz (the process is up) and /readyz (every
// check of ready passes; 503 with each failing check's cause otherwise:
// never a driver's raw error, which can name hosts, users and databases).
func NewMux(metrics http.Handler, ready *Readiness) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		body := ready.report(r.Context())
		code := http.StatusOK
		if body.Status != "ready" {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, body)
	})
	return mux
}

// Cause says why a check failed in a few words, without the error's
// detail (hosts, users, databases): "no answer in 3s", "connection
// refused", "authentication failed", "spool nearly full", or "unavailable".
func Cause(err error) string {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "unknown authority"):
		return "TLS: the server's certificate is signed by no CA trusted here (tls_ca)"
	case strings.Contains(msg, "certificate is valid for") || strings.Contains(msg, "certificate is not valid for"):
		return "TLS: the server's certificate is not for this host name"
	case strings.Contains(msg, "certificate has expired") || strings.Contains(msg, "expired certificate"):
		return "TLS: a certificate has expired"
	case strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate") || strings.Contains(msg, "client certificate"):
		return "TLS: the server refused the client certificate, or wants one (tls_cert)"
	case strings.Contains(msg, "api key"):
		return "authentication failed (API key)"
	case strings.HasSuffix(msg, ": eof") || strings.Contains(msg, ": eof "):
		return "the server closed the connection: does it require TLS?"
	case strings.Contains(msg, "connection refused"): // also when the driver's retries of it ran out of time
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "deadline exceeded") || strings.Contains(msg, "timeout"):
		return fmt.Sprintf("no answer in %s", checkTimeout)
	case strings.Contains(msg, "unauthorized") || strings.Contains(msg, "authentication") || strings.Contains(msg, "credentials"):
		return "authentication failed"
	case strings.Contains(msg, "spool holds"):
		return "spool nearly full: is Neo4j reachable?"
	case strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist"):
		return "not found (namespace or database)"
	}
	return "unavailable (see the worker log)"
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
