package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/logging"
)

// runCLI runs the pipewatch command line with args and returns its output.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// auditDir writes an audit log, keyed with key, of three records.
func auditDir(t *testing.T, key string) string {
	t.Helper()
	dir := t.TempDir()
	l, err := logging.New(logging.Options{Dir: dir, Console: &bytes.Buffer{}, AuditKey: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	records := []struct {
		event   logging.AuditEvent
		actor   string
		details map[string]any
	}{
		{logging.AuditDataAccess, "alice", map[string]any{"dataset_version": "patients@sha256:ab", "run_id": "r1"}},
		{logging.AuditModelDeploy, "pipewatch", map[string]any{"model": "risk@3", "action": "registered"}},
		{logging.AuditAlertAck, "bob", nil},
	}
	for _, r := range records {
		if err := l.Audit.Record(r.event, r.actor, r.details); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAuditVerifyCommand(t *testing.T) {
	const key = "0123456789abcdef-audit"
	dir := auditDir(t, key)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongKey := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrongKey, []byte("another-key-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	edited := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(edited, "audit.log"), bytes.Replace(b, []byte(`"actor":"alice"`), []byte(`"actor":"mallory"`), 1), 0o640); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr error
		want    []string // lines the output holds
	}{
		{"with the key", []string{"--dir", dir, "--key-file", keyFile, "--sealed"}, nil,
			[]string{"1 files: 4 records, 0 problems, 0 torn lines recorded at restart; 1 checkpoints verified with the key, the last sealing seq 4, 0 records after it", "OK: the hash chain holds"}},
		{"without a key", []string{"--dir", dir}, nil,
			[]string{"1 files: 4 records, 0 problems, 0 torn lines recorded at restart; 1 checkpoints not checked (no key)",
				"without the key, a rewritten or cut log verifies too: give log.audit_key (--key-file) to check the checkpoints", "OK: the hash chain holds"}},
		{"another key", []string{"--dir", dir, "--key-file", wrongKey}, errAuditTampered,
			[]string{filepath.Join(dir, "audit.log") + ":4: PROBLEM: checkpoint does not verify with this key: the log was rewritten, or the key is another"}},
		{"an edited record", []string{"--dir", edited}, errAuditTampered,
			[]string{filepath.Join(edited, "audit.log") + ":1: PROBLEM: hash does not match the record", "1 files: 3 records, 1 problems, 0 torn lines recorded at restart; 1 checkpoints not checked (no key)"}},
		{"no log", []string{"--dir", t.TempDir()}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"audit", "verify"}, tt.args...)...)
			if tt.name == "no log" {
				if err == nil || !strings.Contains(err.Error(), "no audit log in ") {
					t.Errorf("error %v, want no audit log", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v\n%s", err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestAuditShowCommand(t *testing.T) {
	dir := auditDir(t, "0123456789abcdef-audit")
	tests := []struct {
		args     []string
		wantRows []string // the actors of the rows, in order
		wantErr  string
	}{
		{args: nil, wantRows: []string{"alice", "pipewatch", "bob", "pipewatch"}},
		{args: []string{"--event", "data_access"}, wantRows: []string{"alice"}},
		{args: []string{"--actor", "bob"}, wantRows: []string{"bob"}},
		{args: []string{"--since", "1h", "--limit", "2"}, wantRows: []string{"alice", "pipewatch"}},
		{args: []string{"--since", "2999-01-01"}, wantRows: nil},
		{args: []string{"--event", "login"}, wantErr: `--event "login" is not one of data_access, model_deployment, alert_acknowledgement, alert_notification, alert_action, configuration_change, audit_chain_restart, audit_checkpoint`},
		{args: []string{"--since", "last week"}, wantErr: `--since "last week": want RFC 3339 (2026-11-26T09:30:00Z), a date (2026-11-26) or an age (90m, 24h, 7d)`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := runCLI(t, append([]string{"audit", "show", "--dir", dir}, tt.args...)...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var actors []string
			for _, l := range lines[1 : len(lines)-1] {
				actors = append(actors, strings.Fields(l)[3])
			}
			if strings.Join(actors, ",") != strings.Join(tt.wantRows, ",") || lines[len(lines)-1] != fmt.Sprintf("%d records", len(tt.wantRows)) {
				t.Errorf("rows by %q, last line %q; want %q\n%s", actors, lines[len(lines)-1], tt.wantRows, out)
			}
		})
	}
	out, err := runCLI(t, "audit", "show", "--dir", dir, "--event", "model_deployment", "--json")
	if err != nil || !strings.HasPrefix(out, `{"ts":"`) || !strings.Contains(out, `"event":"model_deployment","actor":"pipewatch","details":{"action":"registered","model":"risk@3"}`) || strings.Count(out, "\n") != 1 {
		t.Errorf("--json: %v\n%s", err, out)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-26T09:30:00Z", time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)},
		{"2026-11-26", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
		{"90m", time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)},
		{"7d", time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got, err := parseSince(tt.in, now); err != nil || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"-5m", "-1d", "99999999d", "soon"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) took it", bad)
		}
	}
}
