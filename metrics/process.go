package metrics

import (
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
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

// ProcessSampler samples the process's CPU time, heap allocation and
// resident set in the background, so reading them on a hot path costs three
// atomic loads. Values are as fresh as the sampling interval.
type ProcessSampler struct {
	cpu, heap, rss atomic.Uint64
}

// Load returns the latest sample (zeros before the first).
func (s *ProcessSampler) Load() Usage {
	return Usage{CPU: time.Duration(s.cpu.Load()), HeapAlloc: s.heap.Load(), RSS: s.rss.Load()}
}

// Run samples now and then every interval until ctx is done.
func (s *ProcessSampler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	for {
		s.sample(sample)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sample takes one sample now.
func (s *ProcessSampler) Sample() {
	s.sample([]metrics.Sample{{Name: "/gc/heap/allocs:bytes"}})
}

func (s *ProcessSampler) sample(buf []metrics.Sample) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.cpu.Store(uint64(ru.Utime.Nano() + ru.Stime.Nano()))
	}
	metrics.Read(buf)
	if buf[0].Value.Kind() == metrics.KindUint64 {
		s.heap.Store(buf[0].Value.Uint64())
	}
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
