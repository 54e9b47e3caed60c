package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipewatch/pipewatch/internal/dirlock"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// newLoggers opens loggers that the test closes at its end (a second
// Close is harmless).
func newLoggers(t *testing.T, opts Options) *Loggers {
	t.Helper()
	if opts.Console == nil {
		opts.Console = &bytes.Buffer{}
	}
	l, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func closeLoggers(t *testing.T, l *Loggers) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// fileNames lists the names in dir, sorted, but the directory's lock file
// (which New holds, see TestNewRefusesALogDirInUse).
func fileNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != dirlock.FileName {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

func assertFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	if got := fileNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files in dir:\n got %q\nwant %q", got, want)
	}
}

// jsonLines decodes every line of a file as a JSON object.
func jsonLines(t *testing.T, path string) []map[string]any {
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
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"empty dir", Options{}, `logging: dir "" is empty (Options.Dir is required)`},
		{"blank dir", Options{Dir: "  "}, `logging: dir "  " is empty (Options.Dir is required)`},
		{"bad level", Options{Dir: "x", Level: "loud"}, `logging: level "loud" is not one of debug, info, warn, error`},
		{"upper-case level", Options{Dir: "x", Level: "INFO"}, `logging: level "INFO" is not one of debug, info, warn, error`},
		{"negative size", Options{Dir: "x", MaxSizeBytes: -1}, `logging: max size -1 bytes is negative (Options.MaxSizeBytes)`},
		{"negative main retention", Options{Dir: "x", MainRetention: -time.Hour}, `logging: main retention -1h0m0s is negative (Options.MainRetention)`},
		{"negative audit retention", Options{Dir: "x", AuditRetention: -time.Hour}, `logging: audit retention -1h0m0s is negative (Options.AuditRetention)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.opts)
			if err == nil {
				_ = l.Close()
				t.Fatalf("New succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("New error:\n got %q\nwant %q", err, tt.want)
			}
		})
	}
}

func TestNewReportsUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{Dir: file, Console: &bytes.Buffer{}})
	want := `logging: create log dir "` + file + `": mkdir ` + file + `: not a directory`
	if err == nil || err.Error() != want {
		t.Errorf("New error:\n got %v\nwant %s", err, want)
	}
}

func TestFileIsJSONConsoleIsHuman(t *testing.T) {
	dir := t.TempDir()
	// A clock in another zone: both outputs must still say UTC.
	clock := newFakeClock(time.Date(2026, 11, 26, 9, 30, 0, 0, time.FixedZone("CET", 3600)))
	var console bytes.Buffer
	l := newLoggers(t, Options{Dir: dir, Console: &console, Clock: clock})
	l.Main.Info("step completed", zap.String(FieldWorkflowID, "wf-1"), zap.String(FieldStep, "train"),
		zap.Int(FieldAttempt, 2), zap.Duration(FieldDuration, 1500*time.Millisecond))
	l.Main.Debug("below the default level")
	closeLoggers(t, l)

	lines := jsonLines(t, filepath.Join(dir, "pipewatch.log"))
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1: %v", len(lines), lines)
	}
	got := lines[0]
	caller, _ := got["caller"].(string)
	if !strings.HasPrefix(caller, "logging/logging_test.go:") {
		t.Errorf("caller = %q, want logging/logging_test.go:<line>", caller)
	}
	delete(got, "caller")
	want := map[string]any{
		"ts": "2026-11-26T08:30:00.000Z", "level": "info", "msg": "step completed",
		"workflow_id": "wf-1", "step": "train", "attempt": float64(2), "duration": "1.5s",
	}
	if !mapsEqual(got, want) {
		t.Errorf("file line:\n got %v\nwant %v", got, want)
	}

	c := strings.TrimSuffix(console.String(), "\n")
	if strings.Contains(c, "\n") || json.Valid([]byte(c)) {
		t.Fatalf("console = %q, want one human-readable line", c)
	}
	cols := strings.Split(c, "\t")
	wantCols := []string{"2026-11-26T08:30:00.000Z", "INFO", caller, "step completed",
		`{"workflow_id": "wf-1", "step": "train", "attempt": 2, "duration": "1.5s"}`}
	if !slices.Equal(cols, wantCols) {
		t.Errorf("console columns:\n got %q\nwant %q", cols, wantCols)
	}
}

func mapsEqual(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestLevelFilters(t *testing.T) {
	tests := []struct {
		level string
		want  []string
	}{
		{"", []string{"info", "warn", "error"}},
		{"debug", []string{"debug", "info", "warn", "error"}},
		{"info", []string{"info", "warn", "error"}},
		{"warn", []string{"warn", "error"}},
		{"error", []string{"error"}},
	}
	for _, tt := range tests {
		t.Run("level="+tt.level, func(t *testing.T) {
			dir := t.TempDir()
			l := newLoggers(t, Options{Dir: dir, Level: tt.level})
			l.Main.Debug("m")
			l.Main.Info("m")
			l.Main.Warn("m")
			l.Main.Error("m")
			closeLoggers(t, l)
			var got []string
			for _, line := range jsonLines(t, filepath.Join(dir, "pipewatch.log")) {
				got = append(got, line["level"].(string))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("levels written = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFileModesAndClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs", "nested")
	l := newLoggers(t, Options{Dir: dir})
	l.Main.Info("hello")
	if err := l.Audit.Record(AuditDataAccess, "alice", nil); err != nil {
		t.Fatal(err)
	}
	closeLoggers(t, l)
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := l.Audit.Record(AuditDataAccess, "alice", nil); err == nil {
		t.Error("Record after Close succeeded")
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m&^0o750 != 0 {
		t.Errorf("dir mode = %v, want at most 0750", m)
	}
	for _, name := range []string{"pipewatch.log", "audit.log"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m&^0o640 != 0 {
			t.Errorf("%s mode = %v, want at most 0640", name, m)
		}
	}
}

func TestMainLogBufferedAuditWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Options{Dir: dir, Console: io.Discard, FlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l.Main.Info("gathered")
	if err := l.Audit.Record(AuditDataAccess, "alice", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "audit.log")); !bytes.Contains(b, []byte(`"data_access"`)) {
		t.Errorf("audit record not on disk at once: %q", b)
	}
	// The main line reaches the file within the flush interval (polled,
	// generously bounded: this is not a timing assertion).
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "pipewatch.log"))
		if bytes.Contains(b, []byte(`"gathered"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("buffered main log line never written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.Main.Info("at close")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "pipewatch.log"))
	if n := bytes.Count(b, []byte("\n")); n != 2 || !bytes.Contains(b, []byte(`"at close"`)) {
		t.Errorf("after Close the file holds %d lines: %q", n, b)
	}
}

func TestConsoleLevel(t *testing.T) {
	tests := []struct {
		level        string
		wantConsole  []string // messages on the console
		wantFileMsgs int
	}{
		{"", []string{"step started", "step attempt failed"}, 2},
		{"info", []string{"step started", "step attempt failed"}, 2},
		{"warn", []string{"step attempt failed"}, 2},
		{"off", nil, 2},
	}
	for _, tt := range tests {
		t.Run("level="+tt.level, func(t *testing.T) {
			dir := t.TempDir()
			var console bytes.Buffer
			l := newLoggers(t, Options{Dir: dir, Console: &console, ConsoleLevel: tt.level})
			l.Main.Info("step started")
			l.Main.Warn("step attempt failed")
			closeLoggers(t, l)
			var got []string
			for line := range strings.Lines(console.String()) {
				got = append(got, strings.TrimSpace(strings.Split(line, "\t")[3]))
			}
			if !slices.Equal(got, tt.wantConsole) {
				t.Errorf("console messages = %q, want %q", got, tt.wantConsole)
			}
			if n := len(jsonLines(t, filepath.Join(dir, "pipewatch.log"))); n != tt.wantFileMsgs {
				t.Errorf("file has %d lines, want %d", n, tt.wantFileMsgs)
			}
		})
	}
	_, err := New(Options{Dir: t.TempDir(), ConsoleLevel: "loud"})
	want := `logging: console level "loud" is not one of debug, info, warn, error, off`
	if err == nil || err.Error() != want {
		t.Errorf("New error:\n got %v\nwant %s", err, want)
	}
}

// TestLineTime checks the ts of a JSON line and a console line: UTC,
// milliseconds, whatever the clock's zone.
func TestLineTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), "2026-11-26T10:00:00.000Z"},
		{time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC), "2026-11-26T10:00:00.123Z"},
		{time.Date(2026, 11, 26, 23, 30, 5, 9e6, time.FixedZone("UTC+2", 2*3600)), "2026-11-26T21:30:05.009Z"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			enc := zapcore.NewJSONEncoder(jsonEncoderConfig())
			buf, err := enc.EncodeEntry(zapcore.Entry{Time: tt.in, Message: "m"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"level":"info","ts":"` + tt.want + `","msg":"m"}` + "\n"; buf.String() != want {
				t.Errorf("JSON line %q, want %q", buf.String(), want)
			}
			buf, err = zapcore.NewConsoleEncoder(consoleEncoderConfig()).EncodeEntry(zapcore.Entry{Time: tt.in, Message: "m"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(buf.String(), tt.want+"\t") {
				t.Errorf("console line %q, want it to start with %q", buf.String(), tt.want)
			}
		})
	}
}

// BenchmarkLine is one JSON line of the main log, encoded.
func BenchmarkLine(b *testing.B) {
	enc := zapcore.NewJSONEncoder(jsonEncoderConfig())
	e := zapcore.Entry{Time: time.Now(), Message: "step completed"}
	fields := []zap.Field{zap.String("workflow_id", "wf-1"), zap.Int32("attempt", 1)}
	b.ReportAllocs()
	for b.Loop() {
		buf, err := enc.EncodeEntry(e, fields)
		if err != nil {
			b.Fatal(err)
		}
		buf.Free()
	}
}

// Two workers on one log directory would interleave their audit records
// into one chain, which then reads as tampered: the second is refused,
// saying which directory and who holds it, and nothing it would have
// written reaches the files. Once the first closes, the directory is
// free again.
func TestNewRefusesALogDirInUse(t *testing.T) {
	dir := t.TempDir()
	first := newLoggers(t, Options{Dir: dir})
	if err := first.Audit.Record(AuditDataAccess, "ana", map[string]any{"dataset": "cohort"}); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{Dir: dir, Console: &bytes.Buffer{}})
	if !errors.Is(err, dirlock.ErrLocked) || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), "pipewatch logs, pid ") || !strings.Contains(err.Error(), "each worker needs a log directory of its own") {
		t.Fatalf("second New on %s: %v, want it refused naming the directory and its holder", dir, err)
	}
	closeLoggers(t, first)
	if err := VerifyAudit(filepath.Join(dir, "audit.log")); err != nil {
		t.Errorf("audit chain after the refused second logger: %v", err)
	}
	second := newLoggers(t, Options{Dir: dir})
	closeLoggers(t, second)
}
