package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestProcessSampler(t *testing.T) {
	var s ProcessSampler
	if u := s.Load(); u.RSS != 0 || u.CPU <= 0 || u.HeapAlloc == 0 {
		t.Fatalf("Load before sampling = %+v, want CPU and heap, no RSS", u)
	}
	s.SampleRSS()
	before := s.Load()
	sink := make([][]byte, 0, 64)
	for i := 0; i < 64; i++ {
		sink = append(sink, make([]byte, 1<<16))
	}
	for t0 := time.Now(); time.Since(t0) < 20*time.Millisecond; {
	}
	after := s.Load()
	if after.RSS < 1<<20 {
		t.Errorf("RSS = %d, want at least 1 MiB", after.RSS)
	}
	if d := after.HeapAlloc - before.HeapAlloc; d < 64<<16 {
		t.Errorf("heap grew by %d bytes, want >= %d", d, 64<<16)
	}
	if d := after.CPU - before.CPU; d < 10*time.Millisecond {
		t.Errorf("CPU grew by %v over a 20ms busy loop, want >= 10ms", d)
	}
	_ = sink
}

func BenchmarkProcessSamplerLoad(b *testing.B) {
	var s ProcessSampler
	b.ReportAllocs()
	for b.Loop() {
		s.Load()
	}
}

func TestGuard(t *testing.T) {
	m, err := NewPipeline(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	g := m.NewGuard("step", 2)
	tests := []struct{ in, want string }{
		{"ingest", "ingest"}, {"train", "train"}, {"ingest", "ingest"},
		{"evaluate", Other}, {"predict", Other}, {"train", "train"},
	}
	for _, tt := range tests {
		if got := g.Value(tt.in); got != tt.want {
			t.Errorf("Value(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := testutil.ToFloat64(m.LabelDropped.WithLabelValues("step")); got != 2 {
		t.Errorf("dropped = %v, want 2", got)
	}
}
