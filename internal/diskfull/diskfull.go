//go:build linux

// Package diskfull lets a test fill the disk for its own process: a lower
// file size limit, which the kernel enforces as a full disk is felt by a
// writer (the write that crosses it is cut short, the next fail with
// EFBIG), then the room given back. Since the limit is the whole
// process's, tests run their writer in a child process (Child).
package diskfull

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
)

// Fill lowers this process's file size limit to bytes, so that no file
// grows past it, and returns the function that gives the room back.
// SIGXFSZ is ignored: the writes fail instead of killing the process.
func Fill(t testing.TB, bytes uint64) (room func()) {
	t.Helper()
	signal.Ignore(syscall.SIGXFSZ)
	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	full := was
	full.Cur = bytes
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
			t.Fatal(err)
		}
	}
}

// Child runs the test named helper of this test binary in a child process
// with env added (the helper skips itself without it) and returns what it
// printed, and how it ended.
func Child(t testing.TB, helper string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^"+helper+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
