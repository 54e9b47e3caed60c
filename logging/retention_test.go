package logging

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRetentionKeepsAuditLonger(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	write := func() {
		t.Helper()
		l.Main.Info("work")
		if err := l.Audit.Record(AuditDataAccess, "alice", map[string]any{"dataset": "cohort"}); err != nil {
			t.Fatal(err)
		}
	}
	write()                   // Jan 1
	clock.Add(24 * time.Hour) // Jan 2: both logs rotate Jan 1's file
	write()
	clock.Add(24 * time.Hour) // Jan 3
	write()
	assertFiles(t, dir,
		"audit-2026-01-02T00-00-00.000.log", "audit-2026-01-03T00-00-00.000.log", "audit.log",
		"pipewatch-2026-01-02T00-00-00.000.log", "pipewatch-2026-01-03T00-00-00.000.log", "pipewatch.log")

	// 91 days after the first rotation (April 3, 00:00), a write rotates
	// Jan 3's files. The main log's first rotated file is then past 90 days
	// and goes; the second is exactly 90 days old and stays, as does the new
	// one. The audit log keeps everything.
	clock.Set(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 91))
	write()
	assertFiles(t, dir,
		"audit-2026-01-02T00-00-00.000.log", "audit-2026-01-03T00-00-00.000.log",
		"audit-2026-01-04T00-00-00.000.log", "audit.log",
		"pipewatch-2026-01-03T00-00-00.000.log", "pipewatch-2026-01-04T00-00-00.000.log", "pipewatch.log")

	// A day and a millisecond on, the next rotation (a new day) runs
	// retention again: both January main files are now past 90 days.
	clock.Set(time.Date(2026, 4, 4, 0, 0, 0, 1e6, time.UTC))
	write()
	assertFiles(t, dir,
		"audit-2026-01-02T00-00-00.000.log", "audit-2026-01-03T00-00-00.000.log",
		"audit-2026-01-04T00-00-00.000.log", "audit-2026-04-04T00-00-00.000.log", "audit.log",
		"pipewatch-2026-04-04T00-00-00.000.log", "pipewatch.log")

	// Seven years (2557 days) and a day after the first rotation, the
	// audit log's first file goes and the next, exactly 2557 days old,
	// stays. The files rotated now hold April's lines: the main one is past
	// 90 days and goes at once, the audit one stays.
	clock.Set(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 2557+1))
	if got := clock.Now(); !got.Equal(time.Date(2033, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("clock = %v", got)
	}
	write()
	assertFiles(t, dir,
		"audit-2026-01-03T00-00-00.000.log", "audit-2026-01-04T00-00-00.000.log",
		"audit-2026-04-04T00-00-00.000.log", "audit-2026-04-05T00-00-00.000.log", "audit.log",
		"pipewatch.log")

	// The audit chain survives retention: what is left still verifies.
	closeLoggers(t, l)
	files, err := AuditFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyAudit(files...); err != nil {
		t.Errorf("VerifyAudit after retention: %v", err)
	}
}

func TestRetentionAtOpenGoesByNameNotMtime(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	files := []struct {
		name  string
		mtime time.Time
	}{
		{"pipewatch-2020-01-01T00-00-00.000.log", now},                    // expired by name, fresh mtime: goes
		{"pipewatch-2020-01-01T00-00-00.000.1.log", now},                  // same, second rotation: goes
		{"pipewatch-2026-11-01T00-00-00.000.log", now.AddDate(-10, 0, 0)}, // fresh by name, ancient mtime: stays
		{"audit-2020-01-01T00-00-00.000.log", now},                        // audit within 7 years: stays
		{"audit-2019-11-25T00-00-00.000.log", now},                        // audit 2558 days old: goes
		{"pipewatch-notes.log", now.AddDate(-10, 0, 0)},                   // not a rotated name: stays
		{"pipewatch-2020-01-01T00-00-00.000.log.gz", now.AddDate(-10, 0, 0)},
		{"other.txt", now.AddDate(-10, 0, 0)},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
			t.Fatal(err)
		}
	}
	// A directory with a rotated file's name is not a rotated file.
	if err := os.Mkdir(filepath.Join(dir, "pipewatch-2019-01-01T00-00-00.000.log"), 0o750); err != nil {
		t.Fatal(err)
	}
	newLoggers(t, Options{Dir: dir, Clock: newFakeClock(now)})
	assertFiles(t, dir,
		"audit-2020-01-01T00-00-00.000.log", "audit.log", "other.txt",
		"pipewatch-2019-01-01T00-00-00.000.log",
		"pipewatch-2020-01-01T00-00-00.000.log.gz",
		"pipewatch-2026-11-01T00-00-00.000.log",
		"pipewatch-notes.log", "pipewatch.log")
}

func TestRetentionOfOneLogNeverTouchesTheOther(t *testing.T) {
	// A main log with a retention of one millisecond still leaves every
	// audit file alone, and the other way round.
	tests := []struct {
		name      string
		opts      Options
		wantFiles []string
	}{
		{"short main retention", Options{MainRetention: time.Millisecond},
			[]string{"audit-2026-11-20T00-00-00.000.log", "audit.log", "pipewatch.log"}},
		{"short audit retention", Options{AuditRetention: time.Millisecond},
			[]string{"audit.log", "pipewatch-2026-11-20T00-00-00.000.log", "pipewatch.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{"audit-2026-11-20T00-00-00.000.log", "pipewatch-2026-11-20T00-00-00.000.log"} {
				if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			opts := tt.opts
			opts.Dir = dir
			opts.Clock = newFakeClock(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
			newLoggers(t, opts)
			assertFiles(t, dir, tt.wantFiles...)
		})
	}
}
