package alerts

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
)

// Usage is the host's resource use, in percent.
type Usage struct {
	CPU, Memory, Disk float64
}

// ReadUsage reads the host's CPU use since the previous call, its memory
// use and the use of the disk holding path, with gopsutil.
func ReadUsage(ctx context.Context, path string) (Usage, error) {
	var u Usage
	cpus, err := cpu.PercentWithContext(ctx, 0, false)
	if err != nil || len(cpus) == 0 {
		return u, fmt.Errorf("resources: cpu: %w", err)
	}
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return u, fmt.Errorf("resources: memory: %w", err)
	}
	du, err := disk.UsageWithContext(ctx, path)
	if err != nil {
		return u, fmt.Errorf("resources: disk of %s: %w", path, err)
	}
	return Usage{CPU: cpus[0], Memory: vm.UsedPercent, Disk: du.UsedPercent}, nil
}

// Thresholds are the percentages that raise resource_threshold alerts:
// warning at or above the value, critical at or above Critical (for all
// three). Zero turns a check off.
type Thresholds struct {
	CPU, Memory, Disk float64
	Critical          float64
}

// ResourceMonitor samples the host and raises a resource_threshold alert
// for each resource over its threshold (seed 17.3/17.4). Repeats go to the
// alert's workflow, which counts them into its cooldown summary.
type ResourceMonitor struct {
	Thresholds Thresholds
	// Every is the sampling interval; zero means 30s.
	Every time.Duration
	// DiskPath names the disk to watch; empty means the working folder.
	DiskPath string
	// Read samples the host; nil means ReadUsage.
	Read func(ctx context.Context, path string) (Usage, error)
	// Raise raises an alert (see Raise).
	Raise func(ctx context.Context, a Alert) error
	// OnError is told of failed samples and raises; nil ignores them.
	OnError func(error)
}

// Run samples until ctx is done.
func (m *ResourceMonitor) Run(ctx context.Context) {
	every := m.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := m.Check(ctx); err != nil && m.OnError != nil {
			m.OnError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check samples once and raises an alert for each resource over its
// threshold.
func (m *ResourceMonitor) Check(ctx context.Context) error {
	read, path := m.Read, m.DiskPath
	if read == nil {
		read = ReadUsage
	}
	if path == "" {
		path = "."
	}
	u, err := read(ctx, path)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	for _, r := range []struct {
		name         string
		used, thresh float64
	}{{"cpu", u.CPU, m.Thresholds.CPU}, {"memory", u.Memory, m.Thresholds.Memory}, {"disk", u.Disk, m.Thresholds.Disk}} {
		if r.thresh <= 0 || r.used < r.thresh {
			continue
		}
		sev := Warning
		if m.Thresholds.Critical > 0 && r.used >= m.Thresholds.Critical {
			sev = Critical
		}
		a := Alert{
			Type: ResourceThreshold, Severity: sev,
			Labels:  map[string]string{"resource": r.name, "host": host},
			Summary: fmt.Sprintf("%s at %.1f%% on %s (threshold %.0f%%)", r.name, r.used, host, r.thresh),
		}
		if r.name == "disk" {
			a.Details = "disk holding " + path
		}
		if err := m.Raise(ctx, a); err != nil {
			return fmt.Errorf("resources: raise %s alert: %w", r.name, err)
		}
	}
	return nil
}
