package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Host exports the host's CPU, memory and disk figures, read when
// Prometheus scrapes: the share of all CPUs busy since the previous sample
// (/proc/stat), total and available memory (/proc/meminfo), and the size
// and free space of the file system of each configured path (statfs). On
// systems without /proc the host series are absent, never guessed.
type Host struct {
	paths []HostPath
	// minInterval is the shortest interval a CPU sample spans: scrapes
	// closer than that show the previous interval's figure.
	minInterval time.Duration

	mu      sync.Mutex
	prev    cpuTimes
	prevAt  time.Time
	ratio   float64
	hasPrev bool
	hasCPU  bool
	now     func() time.Time
	// read functions, replaced in tests.
	readCPU func() (cpuTimes, error)
	readMem func() (total, available uint64, err error)
	statfs  func(path string) (total, free uint64, err error)

	cpu, memTotal, memAvail, diskTotal, diskFree *prometheus.Desc
}

// HostPath is a path whose file system is watched, and what it is used for
// (the use label: logs, spool, data).
type HostPath struct {
	Use, Path string
}

// cpuTimes are the host's CPU time counters, in clock ticks: all and idle
// (idle and iowait).
type cpuTimes struct{ total, idle uint64 }

// NewHost defines the host gauges for paths and registers them on reg.
// Paths with an empty Path are left out. The first CPU figure covers the
// time from NewHost to the first scrape.
func NewHost(reg prometheus.Registerer, paths []HostPath) (*Host, error) {
	h := &Host{
		minInterval: time.Second, now: time.Now, readCPU: readCPUTimes, readMem: readMemInfo, statfs: statFS,
		cpu: prometheus.NewDesc("pipewatch_host_cpu_usage_ratio",
			"Share of all the host's CPUs busy over the last sampling interval (between scrapes, at least a second), from /proc/stat, ratio.", nil, nil),
		memTotal: prometheus.NewDesc("pipewatch_host_memory_total_bytes", "The host's memory (MemTotal of /proc/meminfo), bytes.", nil, nil),
		memAvail: prometheus.NewDesc("pipewatch_host_memory_available_bytes",
			"The host's memory available to new work without swapping (MemAvailable of /proc/meminfo), bytes.", nil, nil),
		diskTotal: prometheus.NewDesc("pipewatch_host_disk_total_bytes",
			"Size of the file system holding each configured path, by use (logs, spool, data), bytes.", []string{"use"}, nil),
		diskFree: prometheus.NewDesc("pipewatch_host_disk_free_bytes",
			"Space free for unprivileged users on the file system holding each configured path, by use (logs, spool, data), bytes.", []string{"use"}, nil),
	}
	for _, p := range paths {
		if p.Path != "" {
			h.paths = append(h.paths, p)
		}
	}
	h.sampleCPU() // the first interval starts now
	if err := reg.Register(h); err != nil {
		return nil, fmt.Errorf("metrics: register host metrics: %w", err)
	}
	return h, nil
}

// Describe sends the host descriptors.
func (h *Host) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{h.cpu, h.memTotal, h.memAvail, h.diskTotal, h.diskFree} {
		ch <- d
	}
}

// Collect reads the host and sends what it could read.
func (h *Host) Collect(ch chan<- prometheus.Metric) {
	send := func(d *prometheus.Desc, v float64, labels ...string) {
		if m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...); err == nil { // fixed labels: never an error
			ch <- m
		}
	}
	if ratio, ok := h.sampleCPU(); ok {
		send(h.cpu, ratio)
	}
	if total, avail, err := h.readMem(); err == nil {
		send(h.memTotal, float64(total))
		send(h.memAvail, float64(avail))
	}
	for _, p := range h.paths {
		if total, free, err := h.statfs(p.Path); err == nil {
			send(h.diskTotal, float64(total), p.Use)
			send(h.diskFree, float64(free), p.Use)
		}
	}
}

// sampleCPU reads the CPU counters and returns the busy share over the
// latest interval of at least minInterval; ok is false until there is one.
func (h *Host) sampleCPU() (ratio float64, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if h.hasPrev && now.Sub(h.prevAt) < h.minInterval {
		return h.ratio, h.hasCPU
	}
	cur, err := h.readCPU()
	if err != nil {
		return h.ratio, h.hasCPU
	}
	if h.hasPrev && cur.total > h.prev.total {
		dt, di := cur.total-h.prev.total, cur.idle-min(cur.idle, h.prev.idle)
		h.ratio, h.hasCPU = 1-float64(min(di, dt))/float64(dt), true
	}
	h.prev, h.prevAt, h.hasPrev = cur, now, true
	return h.ratio, h.hasCPU
}
