//go:build !linux

package metrics

import "errors"

// errNoProc: the host figures are read from Linux's /proc only.
var errNoProc = errors.New("host metrics: only on Linux")

func readCPUTimes() (cpuTimes, error) { return cpuTimes{}, errNoProc }

func readMemInfo() (total, available uint64, err error) { return 0, 0, errNoProc }

func statFS(string) (total, free uint64, err error) { return 0, 0, errNoProc }
