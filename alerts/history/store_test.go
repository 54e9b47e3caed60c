package history

import (
	"strings"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/lineage"
)

func TestRecordParams(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		r    alerts.Record
		want string
	}{
		{
			name: "a step failure, resolved",
			r: alerts.Record{Labels: map[string]string{"step": "train", "pipeline": "ml"}, Source: alerts.Source{RunID: "r1", ActivityID: "5"},
				Event: alerts.RecordResolved, By: "ana", Reason: "fixed", At: at},
			want: "labels=[pipeline=ml step=train] pipeline=ml step=train runs=[" + lineage.ActivityRunID("r1", "5") + "] jobs=[ml] by=ana reason=fixed silenced=<nil> at=2026-11-26 08:00:00 +0000 UTC",
		},
		{
			name: "a workflow failure, silenced",
			r: alerts.Record{Labels: map[string]string{"pipeline": "ml"}, Source: alerts.Source{WorkflowID: "w", RunID: "r1"},
				Event: alerts.RecordSilenced, SilencedUntil: at, At: at},
			want: "labels=[pipeline=ml] pipeline=ml step=<nil> runs=[r1] jobs=[ml] by=<nil> reason=<nil> silenced=2026-11-26 08:00:00 +0000 UTC at=2026-11-26 08:00:00 +0000 UTC",
		},
		{
			name: "a resource alert: about nothing in the lineage",
			r:    alerts.Record{Labels: map[string]string{"resource": "disk"}, Event: alerts.RecordFired, At: at},
			want: "labels=[resource=disk] pipeline=<nil> step=<nil> runs=[] jobs=[] by=<nil> reason=<nil> silenced=<nil> at=2026-11-26 08:00:00 +0000 UTC",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := recordParams(tt.r)
			var b strings.Builder
			for _, k := range []string{"labels", "pipeline", "step", "runs", "jobs", "by", "reason", "silenced", "at"} {
				v := p[k]
				if k == "silenced" {
					v = p["silencedUntil"]
				}
				if b.Len() > 0 {
					b.WriteString(" ")
				}
				b.WriteString(k + "=" + strings.TrimSpace(fmtValue(v)))
			}
			if b.String() != tt.want {
				t.Errorf("params\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case []string:
		return "[" + strings.Join(x, " ") + "]"
	case time.Time:
		return x.String()
	case string:
		return x
	}
	return "?"
}
