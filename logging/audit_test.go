package logging

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeAudit records n events, one second apart, and closes the log.
func writeAudit(t *testing.T, dir string, clock *fakeClock, n int) {
	t.Helper()
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	events := []AuditEvent{AuditDataAccess, AuditModelDeploy, AuditAlertAck, AuditConfigChange}
	for i := range n {
		clock.Add(time.Second)
		details := map[string]any{"n": i, "note": `quote " and <tag> and é`, "nested": map[string]any{"b": 2, "a": []int{1}}}
		if err := l.Audit.Record(events[i%len(events)], "alice", details); err != nil {
			t.Fatal(err)
		}
	}
	closeLoggers(t, l)
}

func auditLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func verifyDir(t *testing.T, dir string) error {
	t.Helper()
	files, err := AuditFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return VerifyAudit(files...)
}

func TestAuditChainContinuesAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	writeAudit(t, dir, clock, 3)
	writeAudit(t, dir, clock, 2) // a second run
	if err := verifyDir(t, dir); err != nil {
		t.Fatalf("VerifyAudit on an intact log: %v", err)
	}

	// Recompute every hash as documented: SHA-256 of prev_hash followed by
	// the line without its `,"hash":"…"` member.
	lines := auditLines(t, filepath.Join(dir, "audit.log"))
	if len(lines) != 5 {
		t.Fatalf("%d audit lines, want 5", len(lines))
	}
	prev := ""
	for i, line := range lines {
		var rec struct {
			TS       string `json:"ts"`
			Seq      int    `json:"seq"`
			Event    string `json:"event"`
			Actor    string `json:"actor"`
			PrevHash string `json:"prev_hash"`
			Hash     string `json:"hash"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		body := strings.TrimSuffix(line, `,"hash":"`+rec.Hash+`"}`) + "}"
		sum := sha256.Sum256([]byte(rec.PrevHash + body))
		if rec.Seq != i+1 || rec.PrevHash != prev || rec.Hash != hex.EncodeToString(sum[:]) || rec.Actor != "alice" {
			t.Errorf("line %d = %+v, want seq %d, prev_hash %q and the documented hash", i+1, rec, i+1, prev)
		}
		prev = rec.Hash
	}
	wantFirst := `{"ts":"2026-11-26T10:00:01.000Z","seq":1,"event":"data_access","actor":"alice",` +
		`"details":{"n":0,"nested":{"a":[1],"b":2},"note":"quote \" and \u003ctag\u003e and é"},"prev_hash":"","hash":"`
	if !strings.HasPrefix(lines[0], wantFirst) {
		t.Errorf("line 1 = %s\nwant prefix %s", lines[0], wantFirst)
	}
}

func TestVerifyAuditNamesTheFirstBadLine(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(lines []string) []string
		line   int
		reason string
	}{
		{"intact", func(l []string) []string { return l }, 0, ""},
		{"byte changed in line 2", func(l []string) []string {
			l[1] = strings.Replace(l[1], `"actor":"alice"`, `"actor":"alicE"`, 1)
			return l
		}, 2, "hash does not match the record"},
		{"space added in line 2", func(l []string) []string {
			l[1] = strings.Replace(l[1], `"actor":"alice"`, `"actor": "alice"`, 1)
			return l
		}, 2, "hash does not match the record"},
		{"line 2 rewritten with a fresh hash", func(l []string) []string {
			l[1] = rehash(t, l[1], `"actor":"alice"`, `"actor":"mallory"`)
			return l
		}, 3, "prev_hash does not match the record before"},
		{"line 2 renumbered with a fresh hash", func(l []string) []string {
			l[1] = rehash(t, l[1], `"seq":2,`, `"seq":7,`)
			return l
		}, 2, "seq 7 does not follow 1"},
		{"line 2 deleted", func(l []string) []string { return append(l[:1:1], l[2:]...) }, 2, "prev_hash does not match the record before"},
		{"lines 2 and 3 swapped", func(l []string) []string { l[1], l[2] = l[2], l[1]; return l }, 2, "prev_hash does not match the record before"},
		{"line 2 repeated", func(l []string) []string { return append(l[:2:2], l[1:]...) }, 3, "prev_hash does not match the record before"},
		{"blank line after line 1", func(l []string) []string { return append(l[:1:1], append([]string{""}, l[1:]...)...) }, 2, "not an audit record: too short"},
		{"last line cut short", func(l []string) []string { l[4] = l[4][:len(l[4])-1]; return l }, 5, `not an audit record: no "hash" at the end`},
		{"hash member upper-cased", func(l []string) []string {
			l[2] = l[2][:len(l[2])-auditTail] + strings.ToUpper(l[2][len(l[2])-auditTail:])
			return l
		}, 3, `not an audit record: no "hash" at the end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeAudit(t, dir, newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)), 5)
			path := filepath.Join(dir, "audit.log")
			lines := tt.tamper(auditLines(t, path))
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			err := VerifyAudit(path)
			if tt.line == 0 {
				if err != nil {
					t.Fatalf("VerifyAudit = %v, want nil", err)
				}
				return
			}
			var ae *AuditError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuditTampered) {
				t.Fatalf("VerifyAudit = %v, want an *AuditError wrapping ErrAuditTampered", err)
			}
			want := AuditError{Path: path, Line: tt.line, Reason: tt.reason}
			if *ae != want {
				t.Errorf("VerifyAudit = %+v, want %+v", *ae, want)
			}
			if msg := fmt.Sprintf("audit chain broken at %s line %d: %s", path, tt.line, tt.reason); err.Error() != msg {
				t.Errorf("message = %q, want %q", err, msg)
			}
		})
	}
}

// rehash edits an audit line as a forger would: replacing from with to,
// then computing the hash again.
func rehash(t *testing.T, line, from, to string) string {
	t.Helper()
	body := line[:len(line)-auditTail] + "}"
	if !strings.Contains(body, from) {
		t.Fatalf("%s does not hold %s", line, from)
	}
	body = strings.Replace(body, from, to, 1)
	var rec auditBody
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		t.Fatal(err)
	}
	return body[:len(body)-1] + hashKey + chainHash(rec.PrevHash, []byte(body)) + `"}`
}

func TestAuditChainAcrossRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 26, 23, 59, 57, 0, time.UTC))
	writeAudit(t, dir, clock, 4) // the fourth record, at 00:00:01, rotates
	assertFiles(t, dir, "audit-2026-11-27T00-00-00.000.log", "audit.log", "pipewatch.log")

	// Rotate by hand, leaving audit.log empty: the next run continues the
	// chain from the rotated file's last line.
	if err := os.Rename(filepath.Join(dir, "audit.log"), filepath.Join(dir, "audit-2026-11-27T00-00-01.500.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	writeAudit(t, dir, clock, 1)
	lines := auditLines(t, filepath.Join(dir, "audit.log"))
	if len(lines) != 1 || !strings.Contains(lines[0], `"seq":5,`) {
		t.Fatalf("audit.log = %q, want one record with seq 5", lines)
	}
	files, err := AuditFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		filepath.Join(dir, "audit-2026-11-27T00-00-00.000.log"),
		filepath.Join(dir, "audit-2026-11-27T00-00-01.500.log"),
		filepath.Join(dir, "audit.log"),
	}
	if strings.Join(files, " ") != strings.Join(wantFiles, " ") {
		t.Fatalf("AuditFiles = %q, want %q", files, wantFiles)
	}
	if err := VerifyAudit(files...); err != nil {
		t.Fatalf("VerifyAudit across files: %v", err)
	}

	// Leaving out the middle file breaks the chain at audit.log's line 1.
	err = VerifyAudit(files[0], files[2])
	want := &AuditError{Path: files[2], Line: 1, Reason: "prev_hash does not match the record before"}
	var ae *AuditError
	if !errors.As(err, &ae) || *ae != *want {
		t.Errorf("VerifyAudit without the middle file = %v, want %v", err, want)
	}
}

func TestAuditTornLastLineRestartsTheChain(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	writeAudit(t, dir, clock, 1)
	path := filepath.Join(dir, "audit.log")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	const torn = `{"ts":"2026-11-26T10:00:02.000Z","seq":2,"ev` // a crash mid-write
	if _, err := f.WriteString(torn); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	var console bytes.Buffer
	l := newLoggers(t, Options{Dir: dir, Clock: clock, Console: &console})
	if err := l.Audit.Record(AuditAlertAck, "bob", nil); err != nil {
		t.Fatal(err)
	}
	closeLoggers(t, l)

	lines := auditLines(t, path)
	tornSum := sha256.Sum256([]byte(torn))
	if len(lines) != 4 || lines[1] != torn {
		t.Fatalf("audit.log = %q, want the record, the torn line, the restart, the ack", lines)
	}
	want := []string{
		`"seq":2,"event":"audit_chain_restart","actor":"pipewatch","details":{"file":"audit.log","line":2,` +
			`"line_sha256":"` + hex.EncodeToString(tornSum[:]) + `","reason":"not an audit record: too short"}`,
		`"seq":3,"event":"alert_acknowledgement","actor":"bob","prev_hash"`,
	}
	for i, w := range want {
		if !strings.Contains(lines[2+i], w) {
			t.Errorf("line %d = %s\nwant it to hold %s", 3+i, lines[2+i], w)
		}
	}
	if !strings.Contains(console.String(), "WARN") || !strings.Contains(console.String(), "audit chain restarted") {
		t.Errorf("console = %q, want a warning about the restart", console.String())
	}
	// The torn line stays, reported as torn (the restart names it), not as
	// tampering; without it the chain holds too.
	if err := VerifyAudit(path); err != nil {
		t.Errorf("VerifyAudit = %v, want the torn line recorded, not tampering", err)
	}
	rep, err := VerifyAuditFiles(nil, path)
	if err != nil || len(rep.Problems) != 1 || !rep.Problems[0].Torn || rep.Problems[0].Line != 2 || rep.Tampered() {
		t.Errorf("report %+v, %v; want line 2 torn, nothing tampered", rep, err)
	}
	kept := append(lines[:1:1], lines[2:]...)
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := VerifyAudit(path); err != nil {
		t.Errorf("VerifyAudit without the torn line = %v", err)
	}
}

func TestAuditRecordErrors(t *testing.T) {
	dir := t.TempDir()
	l := newLoggers(t, Options{Dir: dir, Clock: newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))})
	tests := []struct {
		name    string
		event   AuditEvent
		actor   string
		details map[string]any
		want    string
	}{
		{"no actor", AuditDataAccess, "", nil, `audit: event "data_access" and actor "" must both be set`},
		{"no event", "", "alice", nil, `audit: event "" and actor "alice" must both be set`},
		{"details not JSON", AuditDataAccess, "alice", map[string]any{"f": func() {}},
			"audit data_access: encode details: json: unsupported type: func()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.Audit.Record(tt.event, tt.actor, tt.details); err == nil || err.Error() != tt.want {
				t.Errorf("Record = %v, want %q", err, tt.want)
			}
		})
	}
	// Failed records leave no trace and no gap in the chain.
	if err := l.Audit.Record(AuditDataAccess, "alice", nil); err != nil {
		t.Fatal(err)
	}
	closeLoggers(t, l)
	lines := auditLines(t, filepath.Join(dir, "audit.log"))
	if len(lines) != 1 || !strings.Contains(lines[0], `"seq":1,`) {
		t.Errorf("audit.log = %q, want one record with seq 1", lines)
	}
}

func TestAuditConcurrentRecordsChain(t *testing.T) {
	dir := t.TempDir()
	l := newLoggers(t, Options{Dir: dir, MaxSizeBytes: 2048})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				if err := l.Audit.Record(AuditDataAccess, fmt.Sprintf("user-%d", g), map[string]any{"i": i}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	closeLoggers(t, l)
	files, err := AuditFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Errorf("AuditFiles = %q, want size rotations", files)
	}
	if err := VerifyAudit(files...); err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	n := 0
	for _, f := range files {
		n += len(auditLines(t, f))
	}
	if n != 100 {
		t.Errorf("%d records, want 100", n)
	}
}

// A crash between a record and its newline leaves a whole record with no
// newline: the next start ends the line, so the next record is not glued
// to it, and the chain holds with no restart needed.
func TestAuditLastRecordWithoutNewline(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	writeAudit(t, dir, clock, 2)
	path := filepath.Join(dir, "audit.log")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.TrimSuffix(b, []byte("\n")), 0o640); err != nil {
		t.Fatal(err)
	}
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	if err := l.Audit.Record(AuditAlertAck, "bob", nil); err != nil {
		t.Fatal(err)
	}
	closeLoggers(t, l)
	lines := auditLines(t, path)
	if len(lines) != 3 || !strings.Contains(lines[2], `"seq":3,"event":"alert_acknowledgement"`) {
		t.Fatalf("audit.log = %q, want 3 records, the third the ack", lines)
	}
	rep, err := VerifyAuditFiles(nil, path)
	if err != nil || len(rep.Problems) != 0 || rep.Records != 3 {
		t.Errorf("report %+v, %v; want 3 records and no problems", rep, err)
	}
}
