//go:build unix

package server

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, user and system: what
// a benchmark measures when other work on a shared machine makes its
// wall-clock rate too noisy to compare.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
