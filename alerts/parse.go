package alerts

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ParseRoutes reads routes written as "<match> -> <channels>" separated by
// ";", where match is "*" or any of "type=<type>[,<type>…]" and
// "severity>=<severity>", and channels a comma-separated list, e.g.
//
//	type=data_drift,model_degradation -> email; severity>=critical -> alertmanager,webhook
//
// Every channel must be in known.
func ParseRoutes(s string, known []string) ([]Route, error) {
	var routes []Route
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		match, chans, ok := strings.Cut(part, "->")
		if !ok {
			return nil, fmt.Errorf("route %d %q: want <match> -> <channels>", i+1, part)
		}
		var r Route
		for _, term := range strings.Fields(match) {
			switch {
			case term == "*":
			case strings.HasPrefix(term, "type="):
				for _, t := range strings.Split(strings.TrimPrefix(term, "type="), ",") {
					if !slices.Contains(Types(), Type(t)) {
						return nil, fmt.Errorf("route %d %q: type %q is not an alert type", i+1, part, t)
					}
					r.Types = append(r.Types, Type(t))
				}
			case strings.HasPrefix(term, "severity>="):
				r.MinSeverity = Severity(strings.TrimPrefix(term, "severity>="))
				if r.MinSeverity.Rank() == 0 {
					return nil, fmt.Errorf("route %d %q: severity %q is not one of info, warning, critical", i+1, part, r.MinSeverity)
				}
			default:
				return nil, fmt.Errorf("route %d %q: %q is not *, type=… or severity>=…", i+1, part, term)
			}
		}
		for _, c := range strings.Split(chans, ",") {
			if c = strings.TrimSpace(c); c == "" {
				continue
			}
			if !slices.Contains(known, c) {
				return nil, fmt.Errorf("route %d %q: channel %q is not one of %s", i+1, part, c, strings.Join(known, ", "))
			}
			r.Channels = append(r.Channels, c)
		}
		if len(r.Channels) == 0 {
			return nil, fmt.Errorf("route %d %q: names no channel", i+1, part)
		}
		routes = append(routes, r)
	}
	return routes, nil
}

// ParseCooldowns reads cooldown overrides written as comma-separated
// "<key>=<duration>", the keys as in Policy.Cooldowns:
// "data_drift=1h, data_drift:critical=10m, :critical=1m".
func ParseCooldowns(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("cooldown %q: want <type>[:<severity>]=<duration>", part)
		}
		typ, sev, _ := strings.Cut(strings.TrimSpace(key), ":")
		if typ != "" && !slices.Contains(Types(), Type(typ)) {
			return nil, fmt.Errorf("cooldown %q: type %q is not an alert type", part, typ)
		}
		if sev != "" && Severity(sev).Rank() == 0 {
			return nil, fmt.Errorf("cooldown %q: severity %q is not one of info, warning, critical", part, sev)
		}
		if typ == "" && sev == "" {
			return nil, fmt.Errorf("cooldown %q: names neither a type nor a severity", part)
		}
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if err != nil || d < time.Second {
			return nil, fmt.Errorf("cooldown %q: %q is not a duration of 1s or more", part, strings.TrimSpace(val))
		}
		out[strings.TrimSpace(key)] = d
	}
	return out, nil
}
