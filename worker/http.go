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

// MuxOptions configures NewMux. The zero value is ready to use.
type MuxOptions struct {
	// OnCheckError is told of every failed check with its full error;
	// /readyz itself shows only its cause (see Cause). Nil ignores them.
	OnCheckError func(name string, err error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewMux serves /metrics, /healthz (the process is up) and /readyz (every
// check passes, run concurrently at most every two seconds; 503 with each
// failing check's cause otherwise: never a driver's raw error, which can
// name hosts, users and databases).
func NewMux(metrics http.Handler, checks []Check, opts MuxOptions) *http.ServeMux {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var mu sync.Mutex
	var last time.Time
	var lastBody readiness
	ready := func(ctx context.Context) readiness {
		mu.Lock()
		defer mu.Unlock()
		if !last.IsZero() && now().Sub(last) < readyEvery {
			return lastBody
		}
		body := readiness{Status: "ready", Checks: make(map[string]string, len(checks))}
		var bmu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range checks {
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
				defer cancel()
				result := "ok"
				if err := c.Run(cctx); err != nil {
					result = Cause(err)
					if opts.OnCheckError != nil {
						opts.OnCheckError(c.Name, err)
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
		last, lastBody = now(), body
		return body
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		body := ready(r.Context())
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
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "deadline exceeded") || strings.Contains(msg, "timeout"):
		return fmt.Sprintf("no answer in %s", checkTimeout)
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
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
