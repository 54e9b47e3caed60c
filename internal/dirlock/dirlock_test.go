//go:build unix

package dirlock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestAcquire(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	first, err := Acquire(dir, "pipewatch worker on queue ml")
	if err != nil {
		t.Fatal(err)
	}
	// A second holder, in this process as in another, is refused with
	// the first's note.
	_, err = Acquire(dir, "second")
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pipewatch worker on queue ml, pid ") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Acquire: %v, want ErrLocked naming the directory and the first holder", err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	again, err := Acquire(dir, "third")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	defer again.Release()
	note, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil || !strings.HasPrefix(string(note), "third, pid ") {
		t.Errorf("lock file %q (%v), want the holder's note", note, err)
	}
}

// The kernel drops the lock of a process that ends, however it ends: a
// killed worker's directory is free for the next one.
func TestAcquireAfterTheHolderIsKilled(t *testing.T) {
	dir := t.TempDir()
	// flock(1) (util-linux) holds the directory's lock file from another
	// process.
	// -o: the lock is flock(1)'s own, not its child's, so killing it
	// frees the directory; its process group goes with it.
	cmd := exec.Command("flock", "-o", filepath.Join(dir, FileName), "sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("flock(1): %v", err)
	}
	kill := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }
	defer kill()
	for i := 0; ; i++ {
		l, err := Acquire(dir, "mine")
		if errors.Is(err, ErrLocked) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_ = l.Release() // before flock(1) took it: it waits, then takes it
		if i == 500 {
			t.Fatal("flock(1) never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	kill()
	l, err := Acquire(dir, "mine")
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	_ = l.Release()
}

// A directory that cannot be made (here: under a file) is an error of its
// own, not ErrLocked.
func TestAcquireUnderAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Acquire(filepath.Join(file, "spool"), "x")
	if err == nil || errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "dirlock: create") {
		t.Errorf("Acquire under a file: %v, want a create error, not ErrLocked", err)
	}
}
