package metrics

import (
	"testing"
	"time"
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
