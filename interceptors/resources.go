package interceptors

import (
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
)

// usage is a snapshot of process-wide counters.
type usage struct {
	cpu       time.Duration // user + system CPU time of the process
	heapAlloc uint64        // cumulative bytes allocated on the Go heap
}

// heapAllocsMetric is the runtime/metrics name of cumulative heap allocation.
const heapAllocsMetric = "/gc/heap/allocs:bytes"

// usageReader reads usage; it recycles its runtime/metrics samples, so a
// read allocates nothing.
type usageReader struct{ pool sync.Pool }

func newUsageReader() *usageReader {
	return &usageReader{pool: sync.Pool{New: func() any { return &[1]metrics.Sample{{Name: heapAllocsMetric}} }}}
}

// read reads the process's CPU time and heap allocation so far.
func (r *usageReader) read() usage {
	var u usage
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s := r.pool.Get().(*[1]metrics.Sample)
	metrics.Read(s[:])
	if s[0].Value.Kind() == metrics.KindUint64 {
		u.heapAlloc = s[0].Value.Uint64()
	}
	r.pool.Put(s)
	return u
}
