//go:build unix

package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Acquire locks dir (created if missing) for this process, with an
// advisory lock (flock) on its lock file, which the kernel drops when the
// process ends, however it ends. owner says who holds it, for the error
// another process gets. The lock is per open file: acquiring a directory
// this process holds fails as well.
func Acquire(dir, owner string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dirlock: create %q: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("dirlock: open %q: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who == "" {
				who = "holder unknown"
			}
			return nil, fmt.Errorf("%q is %w (%s)", dir, ErrLocked, who)
		}
		return nil, fmt.Errorf("dirlock: lock %q: %w", path, err)
	}
	// Who holds it, for the next one to ask; a failed note does not
	// undo the lock.
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "%s, pid %d, since %s\n", owner, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	}
	return &Lock{release: func() error {
		uerr := unix.Flock(int(f.Fd()), unix.LOCK_UN)
		if err := f.Close(); err != nil {
			return err
		}
		return uerr
	}}, nil
}
