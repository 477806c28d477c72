package cluster

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Pdeathsig kills a component when the test binary dies without running its
// cleanups (a `go test -timeout` panic, a killed CI job), so no etcd or API
// server is ever left behind.
func processAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// residentBytes is the memory a process holds in RAM (VmRSS).
func residentBytes(pid int) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if value, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(value), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("reading VmRSS of process %d: %w", pid, err)
			}
			return kib * 1024, nil
		}
	}
	return 0, fmt.Errorf("process %d reports no VmRSS", pid)
}
