package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rotatedLayout is the stamp in a rotated file's name, e.g.
// pipewatch-2026-11-26T00-00-00.000.log: UTC, no colons, sortable.
const rotatedLayout = "2006-01-02T15-04-05.000"

// rotatedFile is one rotated file of a log and the stamp in its name.
type rotatedFile struct {
	path  string
	stamp time.Time
	n     int // the .N of a second rotation in the same millisecond
}

// cleanup removes this log's rotated files whose stamp is older than the
// retention. The age comes from the file name, never from mtime, and only
// names of the form <base>-<stamp>.log or <base>-<stamp>.<N>.log count:
// other logs' files and anything else in the folder are left alone.
func (r *rotatingFile) cleanup(now time.Time) error {
	files, err := rotatedFiles(r.dir, r.base)
	if err != nil {
		return err
	}
	var errs []error
	for _, rf := range files {
		if now.Sub(rf.stamp) <= r.retention {
			continue
		}
		if err := os.Remove(rf.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove expired log file %q: %w", rf.path, err))
		}
	}
	return errors.Join(errs...)
}

// rotatedFiles lists base's rotated files in dir, oldest first.
func rotatedFiles(dir, base string) ([]rotatedFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list log dir %q: %w", dir, err)
	}
	var out []rotatedFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if rf, ok := parseRotatedName(base, e.Name()); ok {
			rf.path = filepath.Join(dir, e.Name())
			out = append(out, rf)
		}
	}
	slices.SortFunc(out, func(a, b rotatedFile) int {
		if c := a.stamp.Compare(b.stamp); c != 0 {
			return c
		}
		return a.n - b.n
	})
	return out, nil
}

// parseRotatedName reads <base>-<stamp>.log or <base>-<stamp>.<N>.log.
func parseRotatedName(base, name string) (rotatedFile, bool) {
	rest, ok := strings.CutPrefix(name, base+"-")
	if !ok {
		return rotatedFile{}, false
	}
	rest, ok = strings.CutSuffix(rest, ".log")
	if !ok || len(rest) < len(rotatedLayout) {
		return rotatedFile{}, false
	}
	stamp, err := time.Parse(rotatedLayout, rest[:len(rotatedLayout)])
	if err != nil {
		return rotatedFile{}, false
	}
	n := 0
	if suffix := rest[len(rotatedLayout):]; suffix != "" {
		digits, ok := strings.CutPrefix(suffix, ".")
		if !ok {
			return rotatedFile{}, false
		}
		n, err = strconv.Atoi(digits)
		if err != nil || n < 1 || strconv.Itoa(n) != digits {
			return rotatedFile{}, false
		}
	}
	return rotatedFile{stamp: stamp, n: n}, true
}

// logFiles lists a log's files oldest first: its rotated files, then its
// current file if there is one.
func logFiles(dir, base string) ([]string, error) {
	rotated, err := rotatedFiles(dir, base)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rotated)+1)
	for _, rf := range rotated {
		out = append(out, rf.path)
	}
	if cur := filepath.Join(dir, base+".log"); exists(cur) {
		out = append(out, cur)
	}
	return out, nil
}
