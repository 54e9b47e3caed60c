package metrics

import (
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Usage is a snapshot of the process's resource counters.
type Usage struct {
	// CPU is the process's user + system CPU time so far.
	CPU time.Duration
	// HeapAlloc is the cumulative number of bytes allocated on the Go heap.
	HeapAlloc uint64
	// RSS is the resident set size, in bytes.
	RSS uint64
}

// ProcessSampler reads the process's resource counters for per-step
// accounting. CPU time (one getrusage call) and heap allocation (one
// runtime/metrics read) are read when asked, together well under a
// microsecond; the resident set, costly to read from /proc, is sampled in
// the background by Run.
type ProcessSampler struct {
	rss     atomic.Uint64
	samples sync.Pool // *[1]metrics.Sample, so Load allocates nothing
}

// Load returns the counters now, with the latest RSS sample (0 before the
// first).
func (s *ProcessSampler) Load() Usage {
	u := Usage{RSS: s.rss.Load()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	buf, _ := s.samples.Get().(*[1]metrics.Sample)
	if buf == nil {
		buf = &[1]metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	}
	metrics.Read(buf[:])
	if buf[0].Value.Kind() == metrics.KindUint64 {
		u.HeapAlloc = buf[0].Value.Uint64()
	}
	s.samples.Put(buf)
	return u
}

// Run samples the resident set now and then every interval until ctx is
// done.
func (s *ProcessSampler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.SampleRSS()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SampleRSS samples the resident set once.
func (s *ProcessSampler) SampleRSS() {
	if n, err := ReadRSS(); err == nil {
		s.rss.Store(n)
	}
}

// ReadRSS reads the resident set size of this process from /proc/self/statm.
func ReadRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0, fmt.Errorf("read rss: unexpected /proc/self/statm %q", b)
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	return pages * uint64(os.Getpagesize()), nil
}
