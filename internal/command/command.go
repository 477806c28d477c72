// Package command runs a program and returns what it printed, with its stderr in the error
// when it fails: the one way the build tools (render, chartdoc) and the tests run helm,
// kustomize, kubectl and go.
package command

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
)

// Error is a failed run: the program, its arguments, why it failed and what it printed on stderr.
type Error struct {
	Name   string
	Args   []string
	Err    error
	Stderr string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %v\n%s", filepath.Base(e.Name), strings.Join(e.Args, " "), e.Err, e.Stderr)
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs name with args in dir (empty: the current directory), with env appended to this
// process's environment, and returns its stdout. A failure (it could not start, or exited
// non-zero) is an *Error carrying stderr; stdout is returned either way, as some programs
// (go mod download -json) print their answer even when they fail.
func Run(dir string, env []string, name string, args ...string) ([]byte, error) {
	return RunWithInput(dir, env, nil, name, args...)
}

// RunWithInput is Run with stdin read from input (nil: no input).
func RunWithInput(dir string, env []string, input io.Reader, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = input
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(cmd.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &Error{Name: name, Args: args, Err: err, Stderr: stderr.String()}
	}
	return stdout.Bytes(), nil
}

// Stderr is what a failed run printed on stderr, or "" for any other error.
func Stderr(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Stderr
	}
	return ""
}
