package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// readCPUTimes reads the aggregate "cpu" line of /proc/stat: user, nice,
// system, idle, iowait, irq, softirq, steal (guest time is in user).
func readCPUTimes() (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, fmt.Errorf("host cpu: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTimes{}, fmt.Errorf("host cpu: unexpected /proc/stat line %q", line)
	}
	var t cpuTimes
	for i, s := range f[1:min(len(f), 9)] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("host cpu: /proc/stat field %d: %w", i+1, err)
		}
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t, nil
}

// readMemInfo reads MemTotal and MemAvailable from /proc/meminfo, in
// bytes.
func readMemInfo() (total, available uint64, err error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0, fmt.Errorf("host memory: %w", err)
	}
	defer f.Close()
	var haveTotal, haveAvail bool
	sc := bufio.NewScanner(f)
	for sc.Scan() && !(haveTotal && haveAvail) {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "MemTotal" && name != "MemAvailable") {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) != 2 || fs[1] != "kB" {
			return 0, 0, fmt.Errorf("host memory: unexpected /proc/meminfo line %q", sc.Text())
		}
		kb, err := strconv.ParseUint(fs[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("host memory: %s: %w", name, err)
		}
		if name == "MemTotal" {
			total, haveTotal = kb*1024, true
		} else {
			available, haveAvail = kb*1024, true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("host memory: %w", err)
	}
	if !haveTotal || !haveAvail {
		return 0, 0, errors.New("host memory: /proc/meminfo has no MemTotal or MemAvailable")
	}
	return total, available, nil
}

// statFS returns the size and the space free to unprivileged users of the
// file system holding path; a path not made yet is measured at its
// nearest existing parent, the file system it will be on.
func statFS(path string) (total, free uint64, err error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return 0, 0, fmt.Errorf("host disk %q: %w", path, err)
	}
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		if err == nil {
			bs := uint64(st.Bsize) //nolint:gosec // a block size is positive
			return st.Blocks * bs, st.Bavail * bs, nil
		}
		parent := filepath.Dir(p)
		if !errors.Is(err, syscall.ENOENT) || parent == p {
			return 0, 0, fmt.Errorf("host disk %q: statfs %s: %w", path, p, err)
		}
		p = parent
	}
}
