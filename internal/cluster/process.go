package cluster

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

// process is one running component of the cluster, logging to its own file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	exited  chan struct{} // closed when the process has ended; err is set before
	err     error
}

func startProcess(logDir, name, binary string, args ...string) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group lets stop() reach anything the component spawns.
	cmd.SysProcAttr = processAttributes()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, log: log, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if p.err == nil {
			p.err = errors.New("exited with status 0")
		}
		close(p.exited)
	}()
	return p, nil
}

// stop asks the process group to terminate and kills it when it does not.
func (p *process) stop() {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.exited
	}
	// A component's children may outlive it in the group.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	p.log.Close()
}

// failure describes an early exit, with the end of the log that explains it.
func (p *process) failure() error {
	return fmt.Errorf("%s %v\n%s", p.name, p.err, p.logTail())
}

const logTailLines = 40

func (p *process) logTail() string {
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

// freePorts finds ports on 127.0.0.1 that nothing listens on. They are released
// before the components bind them; another process taking one in between is
// possible but rare, as the kernel picks free ports at random, and shows as an
// "address already in use" in the failing component's log.
func freePorts(n int) ([]int, error) {
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
