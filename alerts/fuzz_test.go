package alerts

import (
	"testing"
)

// FuzzAlertKey: the key of any labels is the same in any label order and
// differs when a label's name and value are cut differently (lengths are
// hashed first).
func FuzzAlertKey(f *testing.F) {
	f.Add("pipeline", "churn", "step", "fit")
	f.Add("a", "b:1", "a:b", "1")
	f.Add("", "", "x", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		if k1 == k2 {
			return
		}
		a := Alert{Type: StepFailure, Labels: map[string]string{k1: v1, k2: v2}}
		b := Alert{Type: StepFailure, Labels: map[string]string{k2: v2, k1: v1}}
		if a.Key() != b.Key() {
			t.Errorf("label order changed the key: %s vs %s", a.Key(), b.Key())
		}
		// The same text cut at another place: another problem.
		c := Alert{Type: StepFailure, Labels: map[string]string{k1 + v1: "", k2: v2}}
		if v1 != "" && c.Key() == a.Key() {
			t.Errorf("labels %q=%q and %q=%q share a key", k1, v1, k1+v1, "")
		}
		_ = a.Validate()
	})
}

// FuzzParseRoutesAndCooldowns: any configuration text is parsed or refused
// with an error, never a panic; routes name only known channels.
func FuzzParseRoutesAndCooldowns(f *testing.F) {
	f.Add("type=data_drift,model_degradation -> email; severity>=critical -> alertmanager,webhook")
	f.Add("data_drift=1h, :critical=1m")
	f.Add("-> ; ;;=")
	f.Fuzz(func(t *testing.T, s string) {
		known := []string{"log", "webhook", "email", "alertmanager"}
		if routes, err := ParseRoutes(s, known); err == nil {
			for _, r := range routes {
				for _, ch := range r.Channels {
					if ch != "log" && ch != "webhook" && ch != "email" && ch != "alertmanager" {
						t.Errorf("route to unknown channel %q from %q", ch, s)
					}
				}
			}
		}
		if cds, err := ParseCooldowns(s); err == nil {
			for k, d := range cds {
				if d <= 0 {
					t.Errorf("cooldown %s=%s from %q", k, d, s)
				}
			}
		}
	})
}
