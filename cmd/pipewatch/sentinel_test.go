package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/sentinel"
)

func TestPrintSentinelStatus(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		st   sentinel.Status
		want string
	}{
		{"before its first scan", sentinel.Status{Config: sentinel.Config{}.WithDefaults()},
			"Sentinel pipewatch-sentinel: 0 scans, every 10s; watching every workflow but pipewatch's own\nNo scan has finished yet.\nNo problems open.\n"},
		{"a problem open", sentinel.Status{Config: sentinel.Config{Query: "TaskQueue = 'ml'"}.WithDefaults(), Scans: 42,
			Last: sentinel.Summary{At: now.Add(-3 * time.Second), Worker: "77@gpu-1", Took: 12 * time.Millisecond, Open: 5, Described: 5, Closed: 2, Raised: 1},
			Problems: []sentinel.Problem{{Problem: "retrying", Pipeline: "churn", Step: "fit", WorkflowID: "churn-7", Since: now.Add(-95 * time.Second),
				Summary: "step fit of churn failing, attempt 4: feature store unreachable"}}},
			"Sentinel pipewatch-sentinel: 42 scans, every 10s; watching TaskQueue = 'ml'\n" +
				"Last scan 3s ago on 77@gpu-1, took 12ms: 5 open (5 described, 0 describe errors), 2 closed, 1 raised, 0 resolved\n\n" +
				"PROBLEM   PIPELINE  STEP  WORKFLOW  SINCE  SUMMARY\n" +
				"retrying  churn     fit   churn-7   1m35s  step fit of churn failing, attempt 4: feature store unreachable\n"},
		{"no worker scanning", sentinel.Status{Config: sentinel.Config{}.WithDefaults(), Scans: 13,
			Last: sentinel.Summary{At: now.Add(-time.Hour - 4*time.Minute), Worker: "10179@vm", Took: 6 * time.Millisecond}},
			"Sentinel pipewatch-sentinel: 13 scans, every 10s; watching every workflow but pipewatch's own\n" +
				"Last scan 1h4m0s ago on 10179@vm, took 6ms: 0 open (0 described, 0 describe errors), 0 closed, 0 raised, 0 resolved\n" +
				"STALE: no scan for 1h4m0s: no worker is scanning for the sentinel (10179@vm stopped?); a running pipewatch worker with sentinel.enabled adopts it within about 30 s, and scans catch up on what closed meanwhile\n" +
				"No problems open.\n"},
		{"lineage waiting for the spool", sentinel.Status{Config: sentinel.Config{}.WithDefaults(), Scans: 7, LineageWaiting: 3,
			Last: sentinel.Summary{At: now.Add(-2 * time.Second), Worker: "77@gpu-1", Took: 9 * time.Millisecond, Closed: 1}},
			"Sentinel pipewatch-sentinel: 7 scans, every 10s; watching every workflow but pipewatch's own\n" +
				"Last scan 2s ago on 77@gpu-1, took 9ms: 0 open (0 described, 0 describe errors), 1 closed, 0 raised, 0 resolved\n" +
				"LINEAGE: 3 events of closed runs wait for the lineage spool, which refused them (a full disk? see the worker's log); every scan offers them again, and past 200 the oldest are given up\n" +
				"No problems open.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := printSentinelStatus(&b, sentinel.DefaultWorkflowID, tt.st, now); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}
