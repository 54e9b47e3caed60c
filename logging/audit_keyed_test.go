package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rechain rewrites every line from the i-th on with fresh hashes, as one
// who edits the log and has no key would: the chain holds again.
func rechain(t *testing.T, lines []string, i int, edit func(string) string) []string {
	t.Helper()
	out := append([]string(nil), lines...)
	prev := ""
	if i > 0 {
		prev = out[i-1][len(out[i-1])-auditTail+len(hashKey) : len(out[i-1])-2]
	}
	for j := i; j < len(out); j++ {
		body := out[j][:len(out[j])-auditTail] + "}"
		if j == i {
			body = edit(body)
		}
		body = body[:strings.Index(body, `"prev_hash":"`)] + `"prev_hash":"` + prev + `"}`
		h := chainHash(prev, []byte(body))
		out[j] = body[:len(body)-1] + hashKey + h + `"}`
		prev = h
	}
	return out
}

// With a key (log.audit_key), checkpoints seal the chain: a rewrite by one
// without the key, and a cut end, are found; a plain hash chain is fooled
// by both.
func TestAuditKeyedCheckpoints(t *testing.T) {
	key := []byte("audit-key-from-a-file")
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	l := newLoggers(t, Options{Dir: dir, Clock: clock, AuditKey: key})
	for i := range 250 {
		if err := l.Audit.Record(AuditDataAccess, "alice", map[string]any{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	closeLoggers(t, l)
	path := filepath.Join(dir, "audit.log")
	lines := auditLines(t, path)
	rep, err := VerifyAuditFiles(key, path)
	// 250 records, a checkpoint after each 100 and one at close: 253 lines.
	if err != nil || len(lines) != 253 || rep.Records != 253 || rep.Checkpoints != 3 || rep.LastSealed != 253 || rep.Unsealed != 0 || len(rep.Problems) != 0 {
		t.Fatalf("intact: %d lines, %s, problems %v, %v", len(lines), rep, rep.Problems, err)
	}

	write := func(lines []string) {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name         string
		lines        []string
		key          []byte
		wantProblems string
		wantUnsealed int
	}{
		{"record 50 rewritten, the chain redone without the key", rechain(t, lines, 49, func(b string) string {
			return strings.Replace(b, `"actor":"alice"`, `"actor":"mallory"`, 1)
		}), key, "101:checkpoint does not verify with this key: the log was rewritten, or the key is another," +
			"202:checkpoint does not verify with this key: the log was rewritten, or the key is another," +
			"253:checkpoint does not verify with this key: the log was rewritten, or the key is another", 0},
		{"the last 20 lines cut", lines[:233], key, "", 31},
		{"another key", lines, []byte("not the key"), "101:checkpoint does not verify with this key: the log was rewritten, or the key is another," +
			"202:checkpoint does not verify with this key: the log was rewritten, or the key is another," +
			"253:checkpoint does not verify with this key: the log was rewritten, or the key is another", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(tt.lines)
			if err := VerifyAudit(path); err != nil && tt.name != "another key" && tt.wantProblems != "" {
				t.Logf("the plain chain says %v", err)
			}
			rep, err := VerifyAuditFiles(tt.key, path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Reason))
			}
			if strings.Join(got, ",") != tt.wantProblems || rep.Unsealed != tt.wantUnsealed {
				t.Errorf("problems %q, %d unsealed; want %q, %d", got, rep.Unsealed, tt.wantProblems, tt.wantUnsealed)
			}
		})
	}
	// The rewrite passes the plain hash chain: only the key tells.
	write(tests[0].lines)
	if err := VerifyAudit(path); err != nil {
		t.Errorf("the rechained log fails the plain check too (%v): the test rewrote it badly", err)
	}
}

// Verification reports every problem, not only the first.
func TestVerifyAuditReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	writeAudit(t, dir, newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)), 6)
	path := filepath.Join(dir, "audit.log")
	lines := auditLines(t, path)
	lines[1] = strings.Replace(lines[1], `"actor":"alice"`, `"actor":"alicE"`, 1)
	lines[4] = strings.Replace(lines[4], `"actor":"alice"`, `"actor":"alicE"`, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyAuditFiles(nil, path)
	var got []string
	for _, p := range rep.Problems {
		got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Reason))
	}
	want := "2:hash does not match the record,5:hash does not match the record"
	if err != nil || strings.Join(got, ",") != want || rep.Records != 4 {
		t.Errorf("problems %q (%d records), %v; want %q", got, rep.Records, err, want)
	}
}
