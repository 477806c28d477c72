package process

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Attributes start a process in its own process group, as the given user (nil: the test's
// own), and Pdeathsig kills it when the test binary dies without running its cleanups (a
// `go test -timeout` panic, a killed CI job), so no server is ever left behind.
func Attributes(credential *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: credential}
}

// ResidentBytes is the memory a process holds in RAM (VmRSS).
func ResidentBytes(pid int) (int64, error) {
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
