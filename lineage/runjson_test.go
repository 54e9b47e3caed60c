package lineage

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRunAppendJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 30, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		run  Run
	}{
		{"running", Run{RunID: "r1/activity/5", JobKey: "train", State: StateStart, Attempt: 1, StartedAt: at, WorkflowID: "wf", ParentRunID: "r1"}},
		{"top level", Run{RunID: "r1", JobKey: "pipeline", State: StateComplete, Attempt: 1, StartedAt: at, EndedAt: at.Add(time.Minute), WorkflowID: "wf"}},
		{"zone", Run{RunID: "r1", JobKey: "p", State: StateStart, StartedAt: at.In(time.FixedZone("CET", 3600))}},
		{"zero start", Run{RunID: "r1", JobKey: "p", State: StateAbort}},
		{"escapes", Run{RunID: "r\"1\\", JobKey: "a<b>&c\n\r\t\b\f\x00\x1f", State: StateFail, Attempt: 3, StartedAt: at, WorkflowID: "wf\u2028\u2029é日本", Error: "bad \xff\xfe bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.run)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.run.AppendJSON(nil); string(got) != string(want) {
				t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func BenchmarkRunAppendJSON(b *testing.B) {
	r := Run{RunID: "0196f1c2-7a1b-7c3d-9e8f-0a1b2c3d4e5f/activity/12", JobKey: "train", State: StateComplete, Attempt: 1,
		StartedAt: time.Now(), EndedAt: time.Now(), WorkflowID: "pipeline-42", ParentRunID: "0196f1c2-7a1b-7c3d-9e8f-0a1b2c3d4e5f"}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendJSON(buf[:0])
	}
}
