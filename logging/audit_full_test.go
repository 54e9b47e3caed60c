//go:build linux

package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pipewatch/pipewatch/internal/diskfull"
)

// TestAuditDiskFullHelper is not a test: TestAuditSurvivesAFullDisk runs
// it in a child process, which fills its disk and gives the room back.
func TestAuditDiskFullHelper(t *testing.T) {
	dir := os.Getenv("PIPEWATCH_AUDIT_FULL_DIR")
	if dir == "" {
		t.Skip("run by TestAuditSurvivesAFullDisk")
	}
	l, err := New(Options{Dir: dir, Console: nilWriter{}, AuditKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	room := diskfull.Fill(t, 16<<10)
	failed := 0
	for i := range 200 {
		if err := l.Audit.Record(AuditDataAccess, "alice", map[string]any{"n": i, "pad": strings.Repeat("x", 100)}); err != nil {
			failed++
		}
	}
	st, err := os.Stat(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	room()
	after := 0
	for i := range 5 {
		if err := l.Audit.Record(AuditDataAccess, "carol", map[string]any{"n": i}); err != nil {
			after++
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("full at %d bytes: %d failed; room again: %d failed\n", st.Size(), failed, after)
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// The disk fills up mid-record (here: a file size limit, which the kernel
// reports as a full disk): a record is cut short and the next ones fail.
// Room again, the same process ends the torn line, records the restart
// and goes on; verification reports the torn line as such, not as
// tampering, and the checkpoints still seal the chain. A restart after
// that continues the chain.
func TestAuditSurvivesAFullDisk(t *testing.T) {
	dir := t.TempDir()
	out, err := diskfull.Child(t, "TestAuditDiskFullHelper", "PIPEWATCH_AUDIT_FULL_DIR="+dir)
	m := regexp.MustCompile(`full at (\d+) bytes: (\d+) failed; room again: (\d+) failed`).FindStringSubmatch(out)
	if err != nil || m == nil || m[1] != "16384" || m[2] == "0" || m[3] != "0" {
		t.Fatalf("helper: %v; want the log full at 16384 bytes, some records failed, none after room again:\n%s", err, out)
	}
	path := filepath.Join(dir, "audit.log")
	check := func(when string, records int) {
		t.Helper()
		rep, err := VerifyAuditFiles([]byte("k"), path)
		if err != nil || rep.Tampered() || len(rep.Problems) != 1 || !rep.Problems[0].Torn || rep.Unsealed != 0 || rep.Records != records {
			t.Errorf("%s: %s, problems %+v, %v; want %d records, one torn line, no tampering, sealed", when, rep, rep.Problems, err, records)
		}
		if err := VerifyAudit(path); err != nil {
			t.Errorf("%s: VerifyAudit = %v", when, err)
		}
	}
	lines := auditLines(t, path)
	restart := -1
	for i, l := range lines {
		if strings.Contains(l, `"event":"audit_chain_restart"`) {
			restart = i
		}
	}
	if restart < 1 || !strings.Contains(lines[restart+1], `"actor":"carol","details":{"n":0}`) {
		t.Fatalf("want the restart record right before carol's first record; lines from the torn one:\n%s", strings.Join(lines[max(restart-1, 0):], "\n"))
	}
	// Records: the start's, those before the full disk, the restart,
	// carol's five, the closing checkpoint; the torn line is not one.
	check("room again", len(lines)-1)

	l := newLoggers(t, Options{Dir: dir, AuditKey: []byte("k")})
	if err := l.Audit.Record(AuditAlertAck, "bob", nil); err != nil {
		t.Fatal(err)
	}
	closeLoggers(t, l)
	check("restarted", len(lines)-1+3) // start checkpoint, bob, closing checkpoint
}
