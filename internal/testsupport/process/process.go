// Package process runs the servers of the tests (the control plane's components, PostgreSQL,
// SeaweedFS) as child processes of the test binary: each in its own process group, logging to
// a file, stopped within a bound and killed with the test binary.
package process

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Process is one running server, logging to its own file.
type Process struct {
	Name    string
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	exited  chan struct{} // closed when the process has ended; err is set before
	err     error
}

// Start runs binary as credential (nil: the test's own user), with stdout and stderr in logPath.
func Start(logPath string, credential *syscall.Credential, binary string, args ...string) (*Process, error) {
	return StartWithEnv(logPath, credential, nil, binary, args...)
}

// StartWithEnv is Start with env appended to the test's environment.
func StartWithEnv(logPath string, credential *syscall.Credential, env []string, binary string, args ...string) (*Process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...)
	if len(env) > 0 {
		cmd.Env = append(cmd.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group lets Stop reach anything the server spawns.
	cmd.SysProcAttr = Attributes(credential)
	name := filepath.Base(binary)
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, logPath: logPath, log: log, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if p.err == nil {
			p.err = errors.New("exited with status 0")
		}
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop sends signal to the process group and kills the group when the process has not ended
// within grace: a server that ignores the signal (SeaweedFS takes long on SIGTERM) must not
// outlive the test. Children left in the group are killed too.
func (p *Process) Stop(signal syscall.Signal, grace time.Duration) {
	group := -p.cmd.Process.Pid
	_ = syscall.Kill(group, signal)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = syscall.Kill(group, syscall.SIGKILL)
		<-p.exited
	}
	_ = syscall.Kill(group, syscall.SIGKILL)
	p.log.Close()
}

// Failure describes an early exit, with the end of the log that explains it.
func (p *Process) Failure() error {
	return fmt.Errorf("%s %v\n%s", p.Name, p.err, p.LogTail())
}

const logTailLines = 40

// LogTail is the end of the process's log.
func (p *Process) LogTail() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", p.logPath, err)
	}
	data = bytes.TrimRight(data, "\n")
	if len(data) == 0 {
		return fmt.Sprintf("--- %s is empty ---", p.logPath)
	}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return fmt.Sprintf("--- last %d lines of %s ---\n%s", len(lines), p.logPath, bytes.Join(lines, []byte("\n")))
}

// FreePorts finds ports on 127.0.0.1 that nothing listens on. They are released
// before the servers bind them; another process taking one in between is
// possible but rare, as the kernel picks free ports at random, and shows as an
// "address already in use" in the failing server's log.
func FreePorts(n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("reserving a port on 127.0.0.1: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
