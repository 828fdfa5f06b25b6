//go:build unix

package postgres

import "syscall"

// cpuTime is the process's user + system CPU time in nanoseconds. Benchmarks
// report it per operation (cpu-ns/op): on a shared machine wall time mostly
// measures waiting for a core, the CPU an operation costs much less so.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
