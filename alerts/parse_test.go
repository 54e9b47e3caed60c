package alerts

import (
	"fmt"
	"testing"
	"time"
)

func TestParseRoutes(t *testing.T) {
	known := []string{"log", "webhook", "email", "alertmanager"}
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "", want: "[]"},
		{in: "type=data_drift,model_degradation -> email; severity>=critical -> alertmanager, webhook; * -> log",
			want: "[{[data_drift model_degradation]  [email]} {[] critical [alertmanager webhook]} {[]  [log]}]"},
		{in: "type=disk -> log", wantErr: `route 1 "type=disk -> log": type "disk" is not an alert type`},
		{in: "* -> log; severity>=high -> email", wantErr: `route 2 "severity>=high -> email": severity "high" is not one of info, warning, critical`},
		{in: "* -> pager", wantErr: `route 1 "* -> pager": channel "pager" is not one of log, webhook, email, alertmanager`},
		{in: "critical email", wantErr: `route 1 "critical email": want <match> -> <channels>`},
		{in: "team=ml -> log", wantErr: `route 1 "team=ml -> log": "team=ml" is not *, type=… or severity>=…`},
		{in: "* -> ", wantErr: `route 1 "* ->": names no channel`},
	}
	for _, tt := range tests {
		got, err := ParseRoutes(tt.in, known)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseRoutes(%q) error = %v, want %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tt.want && !(tt.want == "[]" && len(got) == 0) {
			t.Errorf("ParseRoutes(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestParseCooldowns(t *testing.T) {
	got, err := ParseCooldowns("data_drift=1h, data_drift:critical=10m, :critical=1m")
	want := map[string]time.Duration{"data_drift": time.Hour, "data_drift:critical": 10 * time.Minute, ":critical": time.Minute}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseCooldowns = %v, %v", got, err)
	}
	for in, wantErr := range map[string]string{
		"drift=1h":         `cooldown "drift=1h": type "drift" is not an alert type`,
		"data_drift:hi=1h": `cooldown "data_drift:hi=1h": severity "hi" is not one of info, warning, critical`,
		"data_drift=soon":  `cooldown "data_drift=soon": "soon" is not a duration of 1s or more`,
		":=1h":             `cooldown ":=1h": names neither a type nor a severity`,
		"data_drift":       `cooldown "data_drift": want <type>[:<severity>]=<duration>`,
	} {
		if _, err := ParseCooldowns(in); err == nil || err.Error() != wantErr {
			t.Errorf("ParseCooldowns(%q) error = %v, want %s", in, err, wantErr)
		}
	}
}
