package logging

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

func openTestRotating(t *testing.T, dir string, maxSize int64, clock Clock) *rotatingFile {
	t.Helper()
	w, err := openRotating(dir, "pipewatch", maxSize, 90*24*time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// allLines reads the log's files oldest first and returns their lines.
func allLines(t *testing.T, dir, base string) []string {
	t.Helper()
	files, err := logFiles(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s does not end in a newline", f)
		}
		out = append(out, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	return out
}

func TestRotationBySizeLosesNoLine(t *testing.T) {
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		tick time.Duration // clock step before each write
		want []string
	}{
		{
			name: "clock advancing",
			tick: time.Millisecond,
			// The 11th write (at 10:00:00.011) is the first that does not fit.
			want: []string{
				"pipewatch-2026-11-26T10-00-00.011.log", "pipewatch-2026-11-26T10-00-00.021.log",
				"pipewatch-2026-11-26T10-00-00.031.log", "pipewatch-2026-11-26T10-00-00.041.log",
				"pipewatch-2026-11-26T10-00-00.051.log", "pipewatch-2026-11-26T10-00-00.061.log",
				"pipewatch-2026-11-26T10-00-00.071.log", "pipewatch-2026-11-26T10-00-00.081.log",
				"pipewatch-2026-11-26T10-00-00.091.log", "pipewatch.log",
			},
		},
		{
			name: "all in one millisecond",
			want: []string{
				"pipewatch-2026-11-26T10-00-00.000.1.log", "pipewatch-2026-11-26T10-00-00.000.2.log",
				"pipewatch-2026-11-26T10-00-00.000.3.log", "pipewatch-2026-11-26T10-00-00.000.4.log",
				"pipewatch-2026-11-26T10-00-00.000.5.log", "pipewatch-2026-11-26T10-00-00.000.6.log",
				"pipewatch-2026-11-26T10-00-00.000.7.log", "pipewatch-2026-11-26T10-00-00.000.8.log",
				"pipewatch-2026-11-26T10-00-00.000.log", "pipewatch.log",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := newFakeClock(start)
			w := openTestRotating(t, dir, 1000, clock)
			const n = 100
			var want []string
			for i := range n {
				clock.Add(tt.tick)
				line := fmt.Sprintf("%03d%s", i, strings.Repeat("x", 96)) // 100 bytes with the newline
				want = append(want, line)
				if k, err := w.Write([]byte(line + "\n")); err != nil || k != 100 {
					t.Fatalf("Write = %d, %v", k, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			assertFiles(t, dir, tt.want...)
			for _, name := range tt.want {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() != 1000 {
					t.Errorf("%s has %d bytes, want 1000 (10 whole lines)", name, st.Size())
				}
			}
			if got := allLines(t, dir, "pipewatch"); !slices.Equal(got, want) {
				t.Errorf("lines across files, oldest first, differ from the lines written:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestRotationFailureLosesNoLine(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	w := openTestRotating(t, dir, 10, clock)
	current := filepath.Join(dir, "pipewatch.log")
	tests := []struct {
		name    string
		rename  func(oldpath, newpath string) error
		wantErr string
		files   []string
	}{
		{"first line", nil, "", []string{"pipewatch.log"}},
		{"rename fails", func(string, string) error { return errors.New("disk says no") },
			`rotate log file "` + current + `" to "` + filepath.Join(dir, "pipewatch-2026-11-26T10-00-02.000.log") + `": disk says no`,
			[]string{"pipewatch.log"}},
		{"new file cannot be opened", func(oldpath, newpath string) error {
			if err := os.Rename(oldpath, newpath); err != nil {
				return err
			}
			return os.Mkdir(oldpath, 0o750) // a directory where the new file should go
		}, `open log file "` + current + `": open ` + current + `: is a directory`,
			[]string{"pipewatch-2026-11-26T10-00-03.000.log", "pipewatch.log"}},
		{"recovered", func(string, string) error { return errors.New("not called: the file was renamed already") }, "",
			[]string{"pipewatch-2026-11-26T10-00-03.000.log", "pipewatch.log"}},
		{"normal rotation", os.Rename, "",
			[]string{"pipewatch-2026-11-26T10-00-03.000.log", "pipewatch-2026-11-26T10-00-05.000.log", "pipewatch.log"}},
	}
	var want []string
	for i, tt := range tests {
		clock.Add(time.Second)
		if tt.name == "recovered" {
			if err := os.Remove(current); err != nil {
				t.Fatal(err)
			}
		}
		w.rename = tt.rename
		line := fmt.Sprintf("line %d", i)
		want = append(want, line)
		n, err := w.Write([]byte(line + "\n"))
		if n != len(line)+1 {
			t.Errorf("%s: Write = %d bytes, want %d", tt.name, n, len(line)+1)
		}
		if got := fmt.Sprint(err); (err == nil) != (tt.wantErr == "") || (err != nil && got != tt.wantErr) {
			t.Errorf("%s: Write error:\n got %v\nwant %s", tt.name, err, tt.wantErr)
		}
		assertFiles(t, dir, tt.files...)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := allLines(t, dir, "pipewatch"); !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestRotationLineLargerThanLimit(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	w := openTestRotating(t, dir, 10, clock)
	for i, line := range []string{"short\n", strings.Repeat("L", 30) + "\n", "tail\n"} {
		clock.Add(time.Second)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// An oversize line is written whole, alone in its file.
	assertFiles(t, dir, "pipewatch-2026-11-26T10-00-02.000.log", "pipewatch-2026-11-26T10-00-03.000.log", "pipewatch.log")
	want := []string{"short", strings.Repeat("L", 30), "tail"}
	if got := allLines(t, dir, "pipewatch"); !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestRotationConcurrentWritersKeepLinesWhole(t *testing.T) {
	dir := t.TempDir()
	const maxSize = 4096
	l := newLoggers(t, Options{Dir: dir, MaxSizeBytes: maxSize, Console: &bytes.Buffer{}})
	const writers, each = 8, 250
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				l.Main.Info("tick", zap.Int("g", g), zap.Int("i", i), zap.String(FieldPipeline, strings.Repeat("p", i%40)))
			}
		})
	}
	wg.Wait()
	closeLoggers(t, l)

	files, err := logFiles(dir, "pipewatch")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("files = %q, want several rotations", files)
	}
	seen := map[[2]int]int{}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxSize {
			t.Errorf("%s has %d bytes, more than %d", f, st.Size(), maxSize)
		}
		for _, line := range jsonLines(t, f) {
			seen[[2]int{int(line["g"].(float64)), int(line["i"].(float64))}]++
		}
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct lines across files, want %d", len(seen), writers*each)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("line %v appears %d times", k, n)
		}
	}
}

func TestDailyRotation(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC))
	l := newLoggers(t, Options{Dir: dir, Clock: clock})
	l.Main.Info("before midnight")
	clock.Add(59*time.Second + 999*time.Millisecond) // 23:59:59.999
	l.Main.Info("last millisecond of the day")
	clock.Add(2 * time.Millisecond) // 00:00:00.001 on the 27th
	l.Main.Info("after midnight")
	clock.Set(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)) // nothing logged for three days
	l.Main.Info("monday")
	closeLoggers(t, l)

	// Each rotated file is stamped with the midnight that ended its day.
	assertFiles(t, dir, "audit.log",
		"pipewatch-2026-11-27T00-00-00.000.log", "pipewatch-2026-11-28T00-00-00.000.log", "pipewatch.log")
	tests := []struct {
		file string
		want []string
	}{
		{"pipewatch-2026-11-27T00-00-00.000.log", []string{
			"2026-11-26T23:59:00.000Z before midnight", "2026-11-26T23:59:59.999Z last millisecond of the day"}},
		{"pipewatch-2026-11-28T00-00-00.000.log", []string{"2026-11-27T00:00:00.001Z after midnight"}},
		{"pipewatch.log", []string{"2026-11-30T08:00:00.000Z monday"}},
	}
	for _, tt := range tests {
		var got []string
		for _, line := range jsonLines(t, filepath.Join(dir, tt.file)) {
			got = append(got, fmt.Sprint(line["ts"], " ", line["msg"]))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.file, got, tt.want)
		}
	}
}

func TestReopenKeepsTheFilesDay(t *testing.T) {
	// The day of a file left by an earlier run comes from its first line's
	// ts, not from its mtime (which here is the real time of the test).
	first := time.Date(2031, 3, 10, 22, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		reopen time.Time
		want   []string
	}{
		{"same day", first.Add(time.Hour), []string{"audit.log", "pipewatch.log"}},
		{"next day", first.Add(3 * time.Hour), []string{"audit.log", "pipewatch-2031-03-11T00-00-00.000.log", "pipewatch.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := newFakeClock(first)
			l := newLoggers(t, Options{Dir: dir, Clock: clock})
			l.Main.Info("first run")
			closeLoggers(t, l)
			clock.Set(tt.reopen)
			l = newLoggers(t, Options{Dir: dir, Clock: clock})
			l.Main.Info("second run")
			closeLoggers(t, l)
			assertFiles(t, dir, tt.want...)
		})
	}
}

func TestTornLineGetsItsNewline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pipewatch.log")
	if err := os.WriteFile(path, []byte(`{"ts":"2026-11-26T10:00:00.000Z","msg":"cut sho`), 0o640); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC))
	w := openTestRotating(t, dir, 1<<20, clock)
	if _, err := w.Write([]byte("next\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"ts":"2026-11-26T10:00:00.000Z","msg":"cut sho` + "\nnext\n"; string(b) != want {
		t.Errorf("file = %q, want %q", b, want)
	}
}

func TestParseRotatedName(t *testing.T) {
	stamp := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		ok     bool
		stamp  time.Time
		suffix int
	}{
		{"pipewatch-2026-11-26T00-00-00.000.log", true, stamp, 0},
		{"pipewatch-2026-11-26T13-04-05.678.log", true, time.Date(2026, 11, 26, 13, 4, 5, 678e6, time.UTC), 0},
		{"pipewatch-2026-11-26T00-00-00.000.3.log", true, stamp, 3},
		{"pipewatch-2026-11-26T00-00-00.000.12.log", true, stamp, 12},
		{"pipewatch.log", false, time.Time{}, 0},
		{"pipewatch-notes.log", false, time.Time{}, 0},
		{"pipewatch-2026-11-26T00-00-00.000.log.gz", false, time.Time{}, 0},
		{"pipewatch-2026-11-26T00-00-00.000.0.log", false, time.Time{}, 0},
		{"pipewatch-2026-11-26T00-00-00.000.01.log", false, time.Time{}, 0},
		{"pipewatch-2026-11-26T00-00-00.000.x.log", false, time.Time{}, 0},
		{"pipewatch-2026-11-26T00-00-00.000extra.log", false, time.Time{}, 0},
		{"pipewatch-2026-13-26T00-00-00.000.log", false, time.Time{}, 0},
		{"audit-2026-11-26T00-00-00.000.log", false, time.Time{}, 0},
		{"pipewatch-audit-2026-11-26T00-00-00.000.log", false, time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rf, ok := parseRotatedName("pipewatch", tt.name)
			if ok != tt.ok || !rf.stamp.Equal(tt.stamp) || rf.n != tt.suffix {
				t.Errorf("parseRotatedName = %v %v .%d, want %v %v .%d", rf.stamp, ok, rf.n, tt.stamp, tt.ok, tt.suffix)
			}
		})
	}
}
