package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newLoggers(t *testing.T, opts Options) *Loggers {
	t.Helper()
	if opts.Console == nil {
		opts.Console = &bytes.Buffer{}
	}
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// names lists the file names in dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %q is not JSON: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"empty dir", Options{}, "logging: dir must not be empty"},
		{"bad level", Options{Dir: t.TempDir(), Level: "loud"}, `logging: level "loud" is not one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFileIsJSONConsoleIsHuman(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2026, 11, 26, 9, 30, 0, 0, time.FixedZone("CET", 3600))}
	var console bytes.Buffer
	l := newLoggers(t, Options{Dir: dir, Console: &console, Clock: clock})
	l.Main.Info("step completed", zap.String(FieldWorkflowID, "wf-1"), zap.String(FieldStep, "train"),
		zap.Int(FieldAttempt, 2), zap.Duration(FieldDuration, 1500*time.Millisecond))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "pipewatch.log"))
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	got := lines[0]
	delete(got, "caller")
	want := map[string]any{
		"ts": "2026-11-26T08:30:00.000Z", "level": "info", "msg": "step completed",
		"workflow_id": "wf-1", "step": "train", "attempt": float64(2), "duration": "1.5s",
	}
	if len(got) != len(want) {
		t.Errorf("line = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %v, want %v", k, got[k], v)
		}
	}
	c := console.String()
	if strings.HasPrefix(c, "{") || !strings.Contains(c, "2026-11-26T08:30:00.000Z\tINFO\t") ||
		!strings.Contains(c, "step completed") || !strings.Contains(c, `"step": "train"`) {
		t.Errorf("console line is not the human form: %q", c)
	}
}

func TestRotationBySizeLosesNoLine(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	w, err := openRotating(dir, "pipewatch", 1000, 90*24*time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	const lines = 100
	line := []byte(strings.Repeat("x", 99) + "\n") // 100 bytes: 10 lines a file
	for i := 0; i < lines; i++ {
		clock.Add(time.Millisecond)
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := names(t, dir)
	if len(files) != 10 {
		t.Fatalf("files = %v, want 9 rotated + pipewatch.log", files)
	}
	total := 0
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 1000 {
			t.Errorf("%s has %d bytes, want 1000 (10 whole lines)", name, len(b))
		}
		total += bytes.Count(b, []byte("\n"))
	}
	if total != lines {
		t.Errorf("%d lines across files, want %d", total, lines)
	}
	// The first rotation happened at the 11th write, 11 ms after 10:00.
	if files[0] != "pipewatch-2026-11-26T10-00-00.011.log" {
		t.Errorf("first rotated file = %s", files[0])
	}
}

func TestDailyRotation(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC)}
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	l.Main.Info("before midnight")
	clock.Add(59 * time.Second)
	l.Main.Info("still the same day")
	clock.Add(2 * time.Second) // 00:00:01 on the 27th
	l.Main.Info("after midnight")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"audit.log", "pipewatch-2026-11-27T00-00-01.000.log", "pipewatch.log"}
	if got := names(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("files = %v, want %v", got, want)
	}
	old := readLines(t, filepath.Join(dir, want[1]))
	cur := readLines(t, filepath.Join(dir, "pipewatch.log"))
	if len(old) != 2 || old[0]["msg"] != "before midnight" || old[1]["msg"] != "still the same day" {
		t.Errorf("rotated file = %v", old)
	}
	if len(cur) != 1 || cur[0]["msg"] != "after midnight" {
		t.Errorf("current file = %v", cur)
	}
}

func TestRetentionKeepsAuditLonger(t *testing.T) {
	dir := t.TempDir()
	day := 24 * time.Hour
	clock := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	write := func() {
		t.Helper()
		l.Main.Info("work")
		if err := l.Audit.Record(AuditDataAccess, "alice", map[string]any{"dataset": "cohort"}); err != nil {
			t.Fatal(err)
		}
	}
	write()        // day 0
	clock.Add(day) // day 1: both logs rotate the day-0 file
	write()
	clock.Add(day) // day 2
	write()
	want := []string{
		"audit-2026-01-02T12-00-00.000.log", "audit-2026-01-03T12-00-00.000.log", "audit.log",
		"pipewatch-2026-01-02T12-00-00.000.log", "pipewatch-2026-01-03T12-00-00.000.log", "pipewatch.log",
	}
	if got := names(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("files = %v, want %v", got, want)
	}

	// 91 days after the first rotation: the main log's first rotated file is
	// past 90 days and goes; the second (rotated a day later) is exactly 90
	// days old and stays; the audit log keeps everything.
	clock.now = time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC).Add(time.Second) // day 1 + 90d + 1s
	write()
	want = []string{
		"audit-2026-01-02T12-00-00.000.log", "audit-2026-01-03T12-00-00.000.log",
		"audit-2026-04-02T12-00-01.000.log", "audit.log",
		"pipewatch-2026-01-03T12-00-00.000.log", "pipewatch-2026-04-02T12-00-01.000.log", "pipewatch.log",
	}
	if got := names(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after 90 days: files = %v, want %v", got, want)
	}

	// Seven years (2557 days) and a day after the first rotation: the audit
	// log's two January files go, the April one stays; the main log keeps
	// only what is under 90 days old.
	clock.now = time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC).Add(2557*day + time.Second)
	write()
	want = []string{
		"audit-2026-04-02T12-00-01.000.log", "audit-2033-01-03T12-00-01.000.log", "audit.log",
		"pipewatch-2033-01-03T12-00-01.000.log", "pipewatch.log",
	}
	if got := names(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after 7 years: files = %v, want %v", got, want)
	}
}

func TestRetentionAtOpenLeavesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"pipewatch-2020-01-01T00-00-00.000.log", // expired main file (content irrelevant)
		"audit-2020-01-01T00-00-00.000.log",     // audit file within 7 years
		"pipewatch-notes.log",                   // not a rotated file: left alone
		"other.txt",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clock := &fakeClock{now: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	newLoggers(t, Options{Dir: dir, Clock: clock})
	want := []string{"audit-2020-01-01T00-00-00.000.log", "audit.log", "other.txt", "pipewatch-notes.log", "pipewatch.log"}
	if got := names(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files = %v, want %v", got, want)
	}
}

func TestAuditChain(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	events := []AuditEvent{AuditDataAccess, AuditModelDeploy, AuditAlertAck}
	for i, ev := range events {
		clock.Add(time.Second)
		if err := l.Audit.Record(ev, "alice", map[string]any{"n": i, "note": `quote " and <tag>`}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen: the chain continues from the last record.
	l2 := newLoggers(t, Options{Dir: dir, Clock: clock})
	if err := l2.Audit.Record(AuditConfigChange, "bob", nil); err != nil {
		t.Fatal(err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	lines := readLines(t, path)
	if len(lines) != 4 {
		t.Fatalf("%d audit lines, want 4", len(lines))
	}
	for i, rec := range lines {
		if rec["seq"] != float64(i+1) {
			t.Errorf("line %d seq = %v", i+1, rec["seq"])
		}
		if i > 0 && rec["prev_hash"] != lines[i-1]["hash"] {
			t.Errorf("line %d prev_hash does not chain", i+1)
		}
	}
	if lines[3]["event"] != "configuration_change" || lines[3]["actor"] != "bob" || lines[0]["ts"] != "2026-11-26T10:00:01.000Z" {
		t.Errorf("records = %v", lines)
	}
	files, err := AuditFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyAudit(files...); err != nil {
		t.Fatalf("VerifyAudit on an intact log: %v", err)
	}

	// Tamper: change one character of line 2.
	b, _ := os.ReadFile(path)
	tampered := bytes.Replace(b, []byte(`"event":"model_deployment"`), []byte(`"event":"model_deploymenT"`), 1)
	if err := os.WriteFile(path, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	err = VerifyAudit(path)
	if !errors.Is(err, ErrAuditTampered) || !strings.Contains(err.Error(), path+" line 2: hash does not match the record") {
		t.Errorf("VerifyAudit after tampering = %v, want line 2 named", err)
	}

	// Delete line 3: line 4's prev_hash no longer matches.
	kept := strings.Split(strings.TrimSpace(string(b)), "\n")
	kept = append(kept[:2], kept[3])
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = VerifyAudit(path)
	if !errors.Is(err, ErrAuditTampered) || !strings.Contains(err.Error(), path+" line 3: prev_hash does not match the line before") {
		t.Errorf("VerifyAudit after deletion = %v, want line 3 named", err)
	}
}

func TestTemporalLogger(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	l := newLoggers(t, Options{Dir: dir, Clock: clock, Level: "debug"})
	tl := NewTemporalLogger(l.Main)
	tl.Info("task processed", "WorkflowID", "wf-9", "Attempt", 3)
	tl.Warn("odd keyvals", "Namespace", "default", "dangling")
	tl.Error("failed", "Error", errors.New("boom"))
	tl.(log.WithLogger).With("TaskQueue", "pipewatch").Debug("with fields", "Step", "train")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "pipewatch.log"))
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4", len(lines))
	}
	checks := []map[string]any{
		{"level": "info", "msg": "task processed", "WorkflowID": "wf-9", "Attempt": float64(3)},
		{"level": "warn", "msg": "odd keyvals", "Namespace": "default", "_extra": "dangling"},
		{"level": "error", "msg": "failed", "Error": "boom"},
		{"level": "debug", "msg": "with fields", "TaskQueue": "pipewatch", "Step": "train"},
	}
	for i, want := range checks {
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v (line %v)", i+1, k, lines[i][k], v, lines[i])
			}
		}
	}
	if c, _ := lines[0]["caller"].(string); !strings.HasPrefix(c, "logging/logging_test.go:") {
		t.Errorf("caller = %q, want the test's line (caller skip)", c)
	}
}

func TestAuditTornLastLine(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	if err := l.Audit.Record(AuditDataAccess, "alice", nil); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	path := filepath.Join(dir, "audit.log")
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"ts":"2026-11-26T10:00:0`) // a torn write
	_ = f.Close()

	l2 := newLoggers(t, Options{Dir: dir, Clock: clock})
	if err := l2.Audit.Record(AuditAlertAck, "bob", nil); err != nil {
		t.Fatal(err)
	}
	_ = l2.Close()
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || lines[1] != `{"ts":"2026-11-26T10:00:0` {
		t.Fatalf("audit.log = %q, want the record, the torn line kept, the restart, the ack", lines)
	}
	if !strings.Contains(lines[2], `"event":"audit_chain_restart"`) || !strings.Contains(lines[3], `"event":"alert_acknowledgement"`) {
		t.Errorf("audit.log = %q", lines)
	}
	if err := VerifyAudit(path); !errors.Is(err, ErrAuditTampered) || !strings.Contains(err.Error(), "line 2: not an audit record") {
		t.Errorf("VerifyAudit = %v, want line 2 named", err)
	}
}
