//go:build !linux

package cluster

import (
	"fmt"
	"syscall"
)

func processAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func residentBytes(pid int) (int64, error) {
	return 0, fmt.Errorf("resident memory of process %d: only measured on Linux", pid)
}
