package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/alerts/history"
	"github.com/pipewatch/pipewatch/lineage/graph"
)

func TestStatsCommandRejectsABadSince(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"stats", []string{"stats", "--since", "last week"},
			`--since "last week": want RFC 3339 (2026-11-26T09:30:00Z), a date (2026-11-26) or an age (90m, 24h, 7d)`},
		{"stats, negative", []string{"stats", "--since", "-3d"},
			`--since "-3d": want RFC 3339 (2026-11-26T09:30:00Z), a date (2026-11-26) or an age (90m, 24h, 7d)`},
		{"alerts history", []string{"alerts", "history", "--since", "7 days"},
			`--since "7 days": want RFC 3339 (2026-11-26T09:30:00Z), a date (2026-11-26) or an age (90m, 24h, 7d)`},
		{"alerts summary", []string{"alerts", "summary", "--since", "7x"},
			`--since "7x": want RFC 3339 (2026-11-26T09:30:00Z), a date (2026-11-26) or an age (90m, 24h, 7d)`},
		{"alerts history type", []string{"alerts", "history", "--type", "disk"}, `--type "disk" is not an alert type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot()
			root.SetArgs(tt.args)
			var out strings.Builder
			root.SetOut(&out)
			root.SetErr(&out)
			if err := root.Execute(); err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

func TestHistoryFilter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name                           string
		since, typ, severity, pipeline string
		limit                          int
		want                           history.Filter
		wantErr                        string
	}{
		{name: "days", since: "7d", limit: 100, want: history.Filter{Since: now.AddDate(0, 0, -7), Limit: 100}},
		{name: "hours, type, severity, pipeline", since: "36h", typ: "data_drift", severity: "critical", pipeline: "ml.pipeline", limit: 5,
			want: history.Filter{Since: now.Add(-36 * time.Hour), Type: alerts.DataDrift, Severity: alerts.Critical, Pipeline: "ml.pipeline", Limit: 5}},
		{name: "a date", since: "2026-11-26", limit: 1, want: history.Filter{Since: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Limit: 1}},
		{name: "all time", limit: 1, want: history.Filter{Limit: 1}},
		{name: "bad type", typ: "disk", limit: 1, wantErr: `--type "disk" is not an alert type`},
		{name: "bad severity", severity: "high", limit: 1, wantErr: `--severity "high" is not one of info, warning, critical`},
		{name: "bad limit", limit: 0, wantErr: `--limit 0: want at least 1`},
		{name: "bad since", since: "a week", limit: 1,
			wantErr: `--since "a week": want RFC 3339 (2026-11-26T09:30:00Z), a date (2026-11-26) or an age (90m, 24h, 7d)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := historyFilter(tt.since, tt.typ, tt.severity, tt.pipeline, tt.limit, now)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Since.Equal(tt.want.Since) || got.Type != tt.want.Type || got.Severity != tt.want.Severity ||
				got.Pipeline != tt.want.Pipeline || got.Limit != tt.want.Limit {
				t.Errorf("historyFilter = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {1500 * time.Nanosecond, "2µs"}, {999 * time.Microsecond, "999µs"}, {1234567 * time.Microsecond, "1.235s"},
		{38500 * time.Millisecond, "38.5s"}, {195 * time.Second, "3m15s"}, {26 * time.Hour, "26h0m0s"},
	} {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%d) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestWriteStats(t *testing.T) {
	tests := []struct {
		name     string
		rows     []graph.StepStats
		want     string
		wantJSON string
	}{
		{name: "none", want: "no ended runs match\n", wantJSON: "[]\n"},
		{
			name: "a pipeline, a step, a step that never completed",
			rows: []graph.StepStats{
				{Pipeline: "ml", Runs: 5, Failures: 1, FailureRate: 0.2, Completed: 4, Mean: 25 * time.Second, Min: 10 * time.Second,
					Max: 40 * time.Second, Median: 25 * time.Second, P95: 38500 * time.Millisecond},
				{Pipeline: "ml", Step: "ml.train", Runs: 3, Failures: 2, Aborted: 1, FailureRate: 2.0 / 3},
			},
			want: `PIPELINE  STEP        RUNS  FAILED  ABORTED  FAILURE RATE  MEAN  MIN  MAX  MEDIAN  P95
ml        (workflow)  5     1       0        20.0%         25s   10s  40s  25s     38.5s
ml        ml.train    3     2       1        66.7%         -     -    -    -       -
`,
			wantJSON: `[
  {
    "pipeline": "ml",
    "step": "",
    "runs": 5,
    "failures": 1,
    "aborted": 0,
    "failureRate": 0.2,
    "completed": 4,
    "meanSeconds": 25,
    "minSeconds": 10,
    "maxSeconds": 40,
    "medianSeconds": 25,
    "p95Seconds": 38.5
  },
  {
    "pipeline": "ml",
    "step": "ml.train",
    "runs": 3,
    "failures": 2,
    "aborted": 1,
    "failureRate": 0.6666666666666666,
    "completed": 0,
    "meanSeconds": null,
    "minSeconds": null,
    "maxSeconds": null,
    "medianSeconds": null,
    "p95Seconds": null
  }
]
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeStats(&b, tt.rows); err != nil || b.String() != tt.want {
				t.Errorf("table (%v):\n%s\nwant\n%s", err, b.String(), tt.want)
			}
			b.Reset()
			if err := writeStatsJSON(&b, tt.rows); err != nil || b.String() != tt.wantJSON {
				t.Errorf("JSON (%v):\n%s\nwant\n%s", err, b.String(), tt.wantJSON)
			}
		})
	}
}

func TestWriteAlertHistoryAndSummary(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	rows := []history.Alert{
		{Key: "f5d427d41497062f", Type: alerts.DataQuality, Severity: alerts.Warning, State: alerts.StatusClosed, Summary: "12% nulls",
			FirstFiredAt: at.Add(time.Hour), LastFiredAt: at.Add(time.Hour), Fires: 1},
		{Key: "8c21cdb63e10cc43", Type: alerts.StepFailure, Severity: alerts.Critical, State: alerts.StatusResolved, Summary: "train failed",
			FirstFiredAt: at, LastFiredAt: at.Add(2 * time.Minute), Fires: 3, ResolvedAt: at.Add(10*time.Minute + 350*time.Millisecond)},
	}
	var b strings.Builder
	if err := writeAlertHistory(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := `OPENED                KEY               TYPE          SEVERITY  STATE     FIRES  LAST FIRED            RESOLVED IN  SUMMARY
2026-11-26T10:00:00Z  f5d427d41497062f  data_quality  warning   closed    1      2026-11-26T10:00:00Z  -            12% nulls
2026-11-26T09:00:00Z  8c21cdb63e10cc43  step_failure  critical  resolved  3      2026-11-26T09:02:00Z  10m0.35s     train failed
`
	if b.String() != want {
		t.Errorf("history:\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := writeAlertHistory(&b, nil); err != nil || b.String() != "no alerts match\n" {
		t.Errorf("empty history: %q, %v", b.String(), err)
	}

	sum := history.Summary{Since: at, Alerts: 2, Fires: 4, ByType: map[string]int64{"step_failure": 1, "data_quality": 1},
		BySeverity: map[string]int64{"warning": 1, "critical": 1}, ByState: map[string]int64{"resolved": 1, "closed": 1},
		Resolved: 1, MeanTimeToResolve: 10*time.Minute + 350*time.Millisecond}
	tests := []struct {
		name     string
		sum      history.Summary
		want     string
		wantJSON string
	}{
		{
			name: "two alerts, one resolved", sum: sum,
			want: `alerts opened since 2026-11-26T09:00:00Z  2 (4 fires)
resolved                                  1, mean time to resolve 10m0.35s

BY TYPE
data_quality  1
step_failure  1

BY SEVERITY
critical  1
warning   1

BY STATE
closed    1
resolved  1
`,
			wantJSON: `{
  "since": "2026-11-26T09:00:00Z",
  "alerts": 2,
  "fires": 4,
  "byType": {
    "data_quality": 1,
    "step_failure": 1
  },
  "bySeverity": {
    "critical": 1,
    "warning": 1
  },
  "byState": {
    "closed": 1,
    "resolved": 1
  },
  "resolved": 1,
  "meanTimeToResolveSeconds": 600.35
}
`,
		},
		{
			name: "none, all time", sum: history.Summary{ByType: map[string]int64{}, BySeverity: map[string]int64{}, ByState: map[string]int64{}},
			want: `alerts opened ever  0 (0 fires)
resolved            0, mean time to resolve -

BY TYPE

BY SEVERITY

BY STATE
`,
			wantJSON: `{
  "since": null,
  "alerts": 0,
  "fires": 0,
  "byType": {},
  "bySeverity": {},
  "byState": {},
  "resolved": 0,
  "meanTimeToResolveSeconds": null
}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeAlertSummary(&b, tt.sum); err != nil || b.String() != tt.want {
				t.Errorf("summary (%v):\n%s\nwant\n%s", err, b.String(), tt.want)
			}
			b.Reset()
			if err := writeAlertSummaryJSON(&b, tt.sum); err != nil || b.String() != tt.wantJSON {
				t.Errorf("summary JSON (%v):\n%s\nwant\n%s", err, b.String(), tt.wantJSON)
			}
		})
	}
}
