package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Clock tells the time; tests inject one to cross midnights and years.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// rotatedLayout is the rotation time in a rotated file's name:
// pipewatch-2026-11-26T00-00-00.000.log. It sorts in time order.
const rotatedLayout = "2006-01-02T15-04-05.000"

// rotatingFile is a zapcore.WriteSyncer on <dir>/<base>.log that rotates at
// UTC midnight and at maxSize bytes, and removes its own rotated files older
// than retention. Writes are whole: a line never spans two files.
type rotatingFile struct {
	mu        sync.Mutex
	dir, base string
	maxSize   int64
	retention time.Duration
	clock     Clock

	f    *os.File
	size int64
	day  time.Time // UTC day the current file's lines belong to
}

func openRotating(dir, base string, maxSize int64, retention time.Duration, clock Clock) (*rotatingFile, error) {
	r := &rotatingFile{dir: dir, base: base, maxSize: maxSize, retention: retention, clock: clock}
	if err := r.open(); err != nil {
		return nil, err
	}
	if err := r.cleanup(clock.Now()); err != nil {
		_ = r.f.Close()
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) path() string { return filepath.Join(r.dir, r.base+".log") }

// open opens (or creates) the current file; an existing file keeps the day
// of its last write, so a file left from yesterday rotates on the next write.
func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open log file %q: %w", r.path(), err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("stat log file %q: %w", r.path(), err)
	}
	r.f, r.size, r.day = f, st.Size(), utcDay(r.clock.Now())
	if st.Size() > 0 {
		r.day = utcDay(st.ModTime())
	}
	return nil
}

// Write appends p, rotating first when p would cross the size limit or the
// day has changed.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	if r.size > 0 && (r.size+int64(len(p)) > r.maxSize || !utcDay(now).Equal(r.day)) {
		if err := r.rotate(now); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write log file %q: %w", r.path(), err)
	}
	return n, nil
}

// rotate renames the current file after the rotation time, opens a new one
// and applies retention.
func (r *rotatingFile) rotate(now time.Time) error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close log file %q: %w", r.path(), err)
	}
	stamp := now.UTC().Format(rotatedLayout)
	target := filepath.Join(r.dir, r.base+"-"+stamp+".log")
	for i := 1; fileExists(target); i++ { // several rotations in one millisecond
		target = filepath.Join(r.dir, fmt.Sprintf("%s-%s.%d.log", r.base, stamp, i))
	}
	if err := os.Rename(r.path(), target); err != nil {
		return fmt.Errorf("rotate log file %q: %w", r.path(), err)
	}
	if err := r.open(); err != nil {
		return err
	}
	r.day = utcDay(now)
	return r.cleanup(now)
}

// cleanup removes this log's rotated files whose rotation time is older
// than the retention. Files of other logs (other base names) are never
// touched, nor are files whose name does not parse.
func (r *rotatingFile) cleanup(now time.Time) error {
	files, err := rotatedFiles(r.dir, r.base)
	if err != nil {
		return err
	}
	var errs []error
	for _, rf := range files {
		if now.Sub(rf.rotatedAt) > r.retention {
			if err := os.Remove(rf.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove expired log file %q: %w", rf.path, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Sync flushes the current file to disk.
func (r *rotatingFile) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("sync log file %q: %w", r.path(), err)
	}
	return nil
}

// Close syncs and closes the current file.
func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	serr := r.f.Sync()
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close log file %q: %w", r.path(), err)
	}
	if serr != nil {
		return fmt.Errorf("sync log file %q: %w", r.path(), serr)
	}
	return nil
}

type rotatedFile struct {
	path      string
	rotatedAt time.Time
}

// rotatedFiles lists base's rotated files in dir, oldest first.
func rotatedFiles(dir, base string) ([]rotatedFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list log dir %q: %w", dir, err)
	}
	var out []rotatedFile
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), base+"-")
		if !ok || e.IsDir() {
			continue
		}
		stamp, ok = strings.CutSuffix(stamp, ".log")
		if !ok || len(stamp) < len(rotatedLayout) {
			continue
		}
		t, err := time.Parse(rotatedLayout, stamp[:len(rotatedLayout)])
		if err != nil {
			continue
		}
		out = append(out, rotatedFile{path: filepath.Join(dir, e.Name()), rotatedAt: t})
	}
	// Time order; within one millisecond, x.log before x.1.log before x.2.log.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.rotatedAt.Equal(b.rotatedAt) {
			return a.rotatedAt.Before(b.rotatedAt)
		}
		if len(a.path) != len(b.path) {
			return len(a.path) < len(b.path)
		}
		return a.path < b.path
	})
	return out, nil
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
