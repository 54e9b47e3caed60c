//go:build !unix

package dirlock

import (
	"fmt"
	"os"
)

// Acquire creates dir; on this system it does not lock it (no flock): run
// one worker per directory.
func Acquire(dir, _ string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dirlock: create %q: %w", dir, err)
	}
	return &Lock{}, nil
}
