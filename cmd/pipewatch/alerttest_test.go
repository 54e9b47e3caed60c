package main

import "testing"

func TestFailureCause(t *testing.T) {
	for _, tt := range []struct{ detail, want string }{
		{"first #1: activity error (type: pipewatch.alert.Notify, scheduledEventID: 10, startedEventID: 13, identity: 5563@vm@): webhook: http://127.0.0.1:39487 answered 403 Forbidden:  (type: AlertNotification, retryable: false)",
			"webhook: http://127.0.0.1:39487 answered 403 Forbidden"},
		{"first #1: activity error (type: pipewatch.alert.Notify, scheduledEventID: 7, startedEventID: 8, identity: 1@h@): email: connect to 127.0.0.1:2525: dial tcp 127.0.0.1:2525: connect: connection refused (type: wrapError, retryable: true)",
			"email: connect to 127.0.0.1:2525: dial tcp 127.0.0.1:2525: connect: connection refused"},
		{"repeat_summary #3: alertmanager: post to http://am:9093: EOF", "alertmanager: post to http://am:9093: EOF"},
		{"log: disk full", "log: disk full"},
	} {
		if got := failureCause(tt.detail); got != tt.want {
			t.Errorf("failureCause(%q)\n = %q\nwant %q", tt.detail, got, tt.want)
		}
	}
}
