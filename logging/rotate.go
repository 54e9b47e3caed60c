package logging

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// Clock tells the time of log lines, rotations and retention. Tests inject
// one to cross midnights and years.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// rotatingFile is a zapcore.WriteSyncer on <dir>/<base>.log that rotates at
// UTC midnight and before a write would take the file past maxSize, and
// removes its own rotated files older than retention (see retention.go).
//
// Callers write whole lines (zap and Audit do); a line never spans two
// files. A rotated file is named <base>-<stamp>.log, the stamp being the
// time the file was closed: the midnight that ended its day for a daily
// rotation, the clock's time for a size rotation.
type rotatingFile struct {
	mu        sync.Mutex
	dir, base string
	maxSize   int64
	retention time.Duration
	clock     Clock

	f        *os.File  // nil once closed
	size     int64     // bytes in f
	day      time.Time // UTC midnight starting the day f's lines belong to
	midLine  bool      // a short write left f without a final newline
	rotating bool      // f was renamed but a new file could not be opened

	rename func(oldpath, newpath string) error // os.Rename; tests break it

	// Buffering (main log only): lines gather in buf, written to f when
	// it fills, every flushEvery, before a rotation, and at Sync and Close.
	// Rotation decisions count buffered bytes, so lines stay whole and in
	// the file of their day.
	buf       []byte
	stopFlush chan struct{} // nil when unbuffered
	flushDone chan struct{}
}

// bufSize is the most a buffered log holds before writing.
const bufSize = 64 << 10

var _ zapcore.WriteSyncer = (*rotatingFile)(nil)

// openRotating opens (or continues) <dir>/<base>.log and applies retention
// to the rotated files already there.
func openRotating(dir, base string, maxSize int64, retention time.Duration, clock Clock) (*rotatingFile, error) {
	r := &rotatingFile{dir: dir, base: base, maxSize: maxSize, retention: retention, clock: clock, rename: os.Rename}
	if err := r.openCurrent(); err != nil {
		return nil, err
	}
	if err := r.cleanup(clock.Now()); err != nil {
		_ = r.f.Close()
		return nil, err
	}
	return r, nil
}

// buffer makes r gather writes and write them at least every flushEvery
// (by the wall clock, whatever r's Clock says), until Close.
func (r *rotatingFile) buffer(flushEvery time.Duration) {
	r.buf = make([]byte, 0, bufSize)
	r.stopFlush, r.flushDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.flushDone)
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-r.stopFlush:
				return
			case <-t.C:
				r.mu.Lock()
				if r.f != nil {
					_ = r.flushLocked() // a failed write is reported by the next Write or Sync
				}
				r.mu.Unlock()
			}
		}
	}()
}

// put writes b, through the buffer when r buffers.
func (r *rotatingFile) put(b []byte) (int, error) {
	if r.stopFlush == nil {
		return r.f.Write(b)
	}
	r.buf = append(r.buf, b...)
	if len(r.buf) >= bufSize {
		return len(b), r.flushLocked()
	}
	return len(b), nil
}

// flushLocked writes the buffer to the current file; r.mu is held.
func (r *rotatingFile) flushLocked() error {
	if len(r.buf) == 0 {
		return nil
	}
	n, err := r.f.Write(r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	if err != nil {
		return fmt.Errorf("write log file %q: %w", r.path(), err)
	}
	return nil
}

func (r *rotatingFile) path() string { return filepath.Join(r.dir, r.base+".log") }

// openCurrent opens (or creates) the current file. A file left by an
// earlier run keeps the day of its first line's "ts", so a file from
// yesterday rotates on the next write; when that line has no readable ts,
// the file's mtime stands in. A file ending in a torn line gets a newline
// so that the next line starts clean.
func (r *rotatingFile) openCurrent() error {
	p := r.path()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open log file %q: %w", p, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("stat log file %q: %w", p, err)
	}
	day, midLine := utcDay(r.clock.Now()), false
	if st.Size() > 0 {
		day = utcDay(st.ModTime())
		if ts, ok := firstLineTime(f); ok {
			day = utcDay(ts)
		}
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err != nil {
			_ = f.Close()
			return fmt.Errorf("read log file %q: %w", p, err)
		}
		midLine = last[0] != '\n'
	}
	r.f, r.size, r.day, r.midLine, r.rotating = f, st.Size(), day, midLine, false
	return nil
}

// firstLineTime reads the "ts" of the file's first line.
func firstLineTime(f *os.File) (time.Time, bool) {
	line, err := bufio.NewReaderSize(io.NewSectionReader(f, 0, 64<<10), 64<<10).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return time.Time{}, false
	}
	var rec struct {
		TS string `json:"ts"`
	}
	if json.Unmarshal(line, &rec) != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, rec.TS)
	return t, err == nil
}

// Write appends p, first rotating when the UTC day has changed since the
// file's first line or when p would take the file past the size limit.
// When rotation fails, p still goes to the current file and Write returns
// len(p) with the rotation's error: data is never dropped for rotation.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, fmt.Errorf("write log file %q: %w", r.path(), os.ErrClosed)
	}
	now := r.clock.Now()
	var rotErr error
	if r.size == 0 {
		r.day = utcDay(now)
	} else if today := utcDay(now); today.After(r.day) {
		rotErr = r.rotate(now, r.day.AddDate(0, 0, 1))
	} else if r.size+int64(len(p)) > r.maxSize {
		rotErr = r.rotate(now, now)
	}
	if r.midLine {
		n, err := r.put([]byte{'\n'})
		r.size += int64(n)
		if err != nil {
			return 0, errors.Join(rotErr, fmt.Errorf("write log file %q: %w", r.path(), err))
		}
		r.midLine = false
	}
	n, err := r.put(p)
	r.size += int64(n)
	r.midLine = n > 0 && p[n-1] != '\n'
	if err != nil {
		return n, errors.Join(rotErr, fmt.Errorf("write log file %q: %w", r.path(), err))
	}
	return n, rotErr
}

// rotate renames the current file to its rotated name, stamped, opens a
// new current file, closes the old one and applies retention. If the new
// file cannot be opened, writes go on to the old one under its new name.
func (r *rotatingFile) rotate(now, stamp time.Time) error {
	if err := r.flushLocked(); err != nil {
		return err
	}
	if !r.rotating {
		target := r.rotatedPath(stamp)
		if err := r.rename(r.path(), target); err != nil {
			return fmt.Errorf("rotate log file %q to %q: %w", r.path(), target, err)
		}
		r.rotating = true
	}
	old := r.f
	if err := r.openCurrent(); err != nil {
		return err
	}
	r.day = utcDay(now)
	var errs []error
	if err := old.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("sync rotated log file %q: %w", old.Name(), err))
	}
	if err := old.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close rotated log file %q: %w", old.Name(), err))
	}
	errs = append(errs, r.cleanup(now))
	return errors.Join(errs...)
}

// rotatedPath names a rotated file; a second rotation in the same
// millisecond gets .1, then .2, and so on.
func (r *rotatingFile) rotatedPath(stamp time.Time) string {
	s := stamp.UTC().Format(rotatedLayout)
	target := filepath.Join(r.dir, r.base+"-"+s+".log")
	for i := 1; exists(target); i++ {
		target = filepath.Join(r.dir, fmt.Sprintf("%s-%s.%d.log", r.base, s, i))
	}
	return target
}

// Sync flushes the current file to disk.
func (r *rotatingFile) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return fmt.Errorf("sync log file %q: %w", r.path(), os.ErrClosed)
	}
	if err := r.flushLocked(); err != nil {
		return err
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("sync log file %q: %w", r.path(), err)
	}
	return nil
}

// Close writes what is buffered, syncs and closes the current file.
// Closing twice is a no-op.
func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	if r.stopFlush != nil {
		close(r.stopFlush)
		r.mu.Unlock() // let a flush in progress finish
		<-r.flushDone
		r.mu.Lock()
	}
	f := r.f
	var errs []error
	if err := r.flushLocked(); err != nil {
		errs = append(errs, err)
	}
	r.f = nil
	if err := f.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("sync log file %q: %w", f.Name(), err))
	}
	if err := f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close log file %q: %w", f.Name(), err))
	}
	return errors.Join(errs...)
}

// utcDay returns the UTC midnight starting t's day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
