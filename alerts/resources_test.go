package alerts

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestResourceMonitorCheck(t *testing.T) {
	tests := []struct {
		name  string
		usage Usage
		want  []string
	}{
		{"all under", Usage{CPU: 40, Memory: 50, Disk: 60}, nil},
		{"memory over, disk critical", Usage{CPU: 40, Memory: 91, Disk: 97.5},
			[]string{"warning memory memory at 91.0%", "critical disk disk at 97.5%"}},
		{"cpu at the threshold", Usage{CPU: 85}, []string{"warning cpu cpu at 85.0%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			m := ResourceMonitor{
				Thresholds: Thresholds{CPU: 85, Memory: 90, Disk: 90, Critical: 95},
				Read:       func(context.Context, string) (Usage, error) { return tt.usage, nil },
				Raise: func(_ context.Context, a Alert) error {
					if err := a.Validate(); err != nil {
						return err
					}
					got = append(got, fmt.Sprintf("%s %s %s", a.Severity, a.Labels["resource"], a.Summary[:strings.Index(a.Summary, " on ")]))
					return nil
				},
			}
			if err := m.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("raised %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadUsageReadsThisHost(t *testing.T) {
	u, err := ReadUsage(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]float64{"cpu": u.CPU, "memory": u.Memory, "disk": u.Disk} {
		if v < 0 || v > 100 {
			t.Errorf("%s = %v%%, want within 0..100", name, v)
		}
	}
	if u.Memory == 0 || u.Disk == 0 {
		t.Errorf("memory %v%%, disk %v%%: a running host uses some", u.Memory, u.Disk)
	}
}
