package metrics

import (
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gatherHost gathers reg and returns the host series: the value of each
// unlabelled gauge by name, and of the disk gauges by name and use.
func gatherHost(t *testing.T, reg *prometheus.Registry) (plain map[string]float64, disk map[string]map[string]float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	plain, disk = map[string]float64{}, map[string]map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 0 {
				plain[mf.GetName()] = m.GetGauge().GetValue()
				continue
			}
			if disk[mf.GetName()] == nil {
				disk[mf.GetName()] = map[string]float64{}
			}
			disk[mf.GetName()][use(m)] = m.GetGauge().GetValue()
		}
	}
	return plain, disk
}

func use(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "use" {
			return l.GetValue()
		}
	}
	return ""
}

func TestHostOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the host figures come from Linux's /proc")
	}
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	// data is not made yet: measured at its nearest existing parent.
	h, err := NewHost(reg, []HostPath{{Use: "logs", Path: dir}, {Use: "spool", Path: "."}, {Use: "data", Path: filepath.Join(dir, "a", "b")}, {Use: "none", Path: ""}})
	if err != nil {
		t.Fatal(err)
	}
	h.minInterval = 0
	for t0 := time.Now(); time.Since(t0) < 50*time.Millisecond; { // some CPU to measure
	}
	plain, disk := gatherHost(t, reg)
	if r, ok := plain["pipewatch_host_cpu_usage_ratio"]; !ok || r < 0 || r > 1 {
		t.Errorf("cpu usage ratio = %v (present %v), want within [0, 1]", r, ok)
	}
	total, avail := plain["pipewatch_host_memory_total_bytes"], plain["pipewatch_host_memory_available_bytes"]
	if total <= 0 || avail <= 0 || avail > total {
		t.Errorf("memory total %v available %v: want 0 < available <= total", total, avail)
	}
	for _, name := range []string{"pipewatch_host_disk_total_bytes", "pipewatch_host_disk_free_bytes"} {
		var uses []string
		for u := range disk[name] {
			uses = append(uses, u)
		}
		slices.Sort(uses)
		if !slices.Equal(uses, []string{"data", "logs", "spool"}) {
			t.Errorf("%s uses = %v, want [data logs spool]", name, uses)
		}
	}
	for u, tot := range disk["pipewatch_host_disk_total_bytes"] {
		if free := disk["pipewatch_host_disk_free_bytes"][u]; tot <= 0 || free < 0 || free > tot {
			t.Errorf("disk %s: total %v free %v, want 0 <= free <= total and total > 0", u, tot, free)
		}
	}
	// logs and data are on one file system: the same size.
	if d := disk["pipewatch_host_disk_total_bytes"]; d["logs"] != d["data"] {
		t.Errorf("disk total of logs %v and of data (under logs) %v differ", d["logs"], d["data"])
	}
}

func TestHostCPURatio(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	samples := []cpuTimes{{total: 1000, idle: 800}, {total: 1400, idle: 900}, {total: 1800, idle: 1300}}
	reads := 0
	h := &Host{minInterval: time.Second, now: func() time.Time { return now },
		readCPU: func() (cpuTimes, error) {
			if reads == len(samples) {
				return cpuTimes{}, errors.New("no more")
			}
			reads++
			return samples[reads-1], nil
		}}
	if _, ok := h.sampleCPU(); ok {
		t.Fatal("a figure from one sample; want none before an interval")
	}
	now = now.Add(2 * time.Second)
	if r, ok := h.sampleCPU(); !ok || r != 0.75 { // 400 ticks, 100 idle
		t.Errorf("ratio = %v %v, want 0.75", r, ok)
	}
	now = now.Add(500 * time.Millisecond) // too soon: the last figure, no read
	if r, _ := h.sampleCPU(); r != 0.75 || reads != 2 {
		t.Errorf("ratio %v after %d reads, want 0.75 after 2", r, reads)
	}
	now = now.Add(time.Second)
	if r, _ := h.sampleCPU(); r != 0 { // 400 ticks, all idle
		t.Errorf("ratio = %v, want 0", r)
	}
	now = now.Add(time.Second) // the read fails: the last figure stands
	if r, ok := h.sampleCPU(); !ok || r != 0 {
		t.Errorf("ratio after a failed read = %v %v, want 0 true", r, ok)
	}
}
