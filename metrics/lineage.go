package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// SpoolStats reads the lineage spool's state for its gauges.
type SpoolStats interface {
	// Bytes is the spool's size on disk; Pending the part not yet stored.
	Bytes() int64
	Pending() int64
}

// Lineage holds the metrics of lineage capture and storage: what the spool
// holds, what reached Neo4j, and what did not.
type Lineage struct {
	// EventsWritten counts run events stored in the graph.
	EventsWritten prometheus.Counter
	// Writes counts batch writes by status (ok, error).
	Writes *prometheus.CounterVec
	// WriteDuration times batch writes.
	WriteDuration prometheus.Histogram
	// EventsRefused counts events the spool refused (full, closed): lost
	// lineage, also logged at error level.
	EventsRefused prometheus.Counter
	// CorruptRecords counts damaged spool records skipped.
	CorruptRecords prometheus.Counter
	// RefsInvalid counts dataset references left out as invalid.
	RefsInvalid prometheus.Counter
	// DeadLetters counts events Neo4j rejected for good, put in the
	// spool's dead-letter file.
	DeadLetters prometheus.Counter
	// EventsRetrying counts events whose spool write failed (a full disk)
	// and that are being tried again: nonzero means the spool's disk is in
	// trouble.
	EventsRetrying prometheus.Gauge
}

// NewLineage defines the lineage metrics, with gauges reading spool, and
// registers them on reg. limit is the spool's size bound in bytes.
func NewLineage(reg prometheus.Registerer, spool SpoolStats, limit int64) (*Lineage, error) {
	m := &Lineage{
		EventsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipewatch_lineage_events_written_total", Help: "Lineage run events stored in Neo4j, count.",
		}),
		Writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_lineage_writes_total", Help: "Batch writes to Neo4j by status (ok, error), count.",
		}, []string{"status"}),
		WriteDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pipewatch_lineage_write_duration_seconds", Help: "Duration of batch writes to Neo4j, seconds.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		EventsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipewatch_lineage_events_refused_total", Help: "Lineage events the spool refused (full or closed), count; each is logged.",
		}),
		CorruptRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipewatch_lineage_spool_corrupt_records_total", Help: "Damaged spool records skipped, count; each is logged with its offset.",
		}),
		RefsInvalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipewatch_lineage_refs_invalid_total", Help: "Dataset references left out as invalid, count; each is logged.",
		}),
		DeadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipewatch_lineage_dead_letters_total", Help: "Lineage events Neo4j rejected for good, put in the spool's dead-letter file, count; each is logged.",
		}),
		EventsRetrying: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pipewatch_lineage_events_retrying", Help: "Lineage events whose spool write failed (a full disk?) and that are being tried again, count.",
		}),
	}
	cs := []prometheus.Collector{
		m.EventsWritten, m.Writes, m.WriteDuration, m.EventsRefused, m.CorruptRecords, m.RefsInvalid, m.DeadLetters, m.EventsRetrying,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pipewatch_lineage_spool_bytes", Help: "Size of the lineage spool on disk, bytes.",
		}, func() float64 { return float64(spool.Bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pipewatch_lineage_spool_pending_bytes", Help: "Spooled lineage not yet stored in Neo4j, bytes.",
		}, func() float64 { return float64(spool.Pending()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pipewatch_lineage_spool_limit_bytes", Help: "Size bound of the lineage spool, bytes; at it, events are refused.",
		}, func() float64 { return float64(limit) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register lineage metrics: %w", err)
		}
	}
	m.Writes.WithLabelValues("ok")
	m.Writes.WithLabelValues("error")
	return m, nil
}
