//go:build !linux

package process

import (
	"fmt"
	"syscall"
)

func Attributes(credential *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: credential}
}

func ResidentBytes(pid int) (int64, error) {
	return 0, fmt.Errorf("resident memory of process %d: only measured on Linux", pid)
}
