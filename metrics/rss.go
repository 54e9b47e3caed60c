package metrics

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// RSSSampler samples the process's resident set size from /proc in the
// background, so reading it costs an atomic load.
type RSSSampler struct {
	last atomic.Uint64
}

// Load returns the latest sample in bytes (0 before the first).
func (s *RSSSampler) Load() uint64 { return s.last.Load() }

// Run samples every interval until ctx is done.
func (s *RSSSampler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := ReadRSS(); err == nil {
			s.last.Store(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
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
