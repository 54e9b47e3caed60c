// Package dirlock keeps a directory to one process at a time: a worker's
// lineage spool and its logs are each written by one process, and a
// second worker started on the same directory (a copy launched to scale
// out, an old process not yet gone) would interleave its records with the
// first's, losing spooled events and breaking the audit chain.
package dirlock

import (
	"errors"
	"fmt"
)

// FileName is the lock file in a locked directory.
const FileName = ".pipewatch.lock"

// ErrLocked is what Acquire's error wraps when another process holds the
// directory.
var ErrLocked = errors.New("in use by another process")

// Lock is a held directory lock.
type Lock struct {
	release func() error
}

// Release lets the directory go; the lock file stays. It is safe to call
// twice.
func (l *Lock) Release() error {
	if l == nil || l.release == nil {
		return nil
	}
	r := l.release
	l.release = nil
	if err := r(); err != nil {
		return fmt.Errorf("dirlock: release: %w", err)
	}
	return nil
}
