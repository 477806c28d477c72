package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/testsupport/process"
)

// PodEvent is one change to a pod, as a watch reports it.
type PodEvent struct {
	Type     string // ADDED, MODIFIED or DELETED
	Pod      string
	Node     string
	Phase    string
	Ready    bool // the Ready condition is True
	Deleting bool // a deletion has begun: the pod is leaving its Service
}

// PodWatch records every change to the pods matching a selector, in the order
// the API server made them, so that a test can check what held at every moment
// of a rollout or a drain rather than only at the end.
type PodWatch struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	mu     sync.Mutex
	events []PodEvent
	ended  chan struct{}
}

// WatchPods starts watching. The first events describe the pods that exist.
func (c *Cluster) WatchPods(tb testing.TB, namespace, selector string) *PodWatch {
	tb.Helper()
	w := &PodWatch{ended: make(chan struct{})}
	w.cmd = exec.Command(c.kubectl, c.kubectlArgs([]string{"get", "pods", "--namespace=" + namespace,
		"--selector=" + selector, "--watch", "--output-watch-events", "--output=json"})...)
	w.cmd.SysProcAttr = process.Attributes(nil)
	w.cmd.Stderr = &w.stderr
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		tb.Fatalf("starting a watch of pods %s in %s: %v", selector, namespace, err)
	}
	go w.record(stdout)
	tb.Cleanup(func() { w.Stop() })
	return w
}

func (w *PodWatch) record(stdout io.Reader) {
	defer close(w.ended)
	decoder := json.NewDecoder(stdout)
	for {
		var event struct {
			Type   string
			Object struct {
				Metadata struct {
					Name              string
					DeletionTimestamp *string
				}
				Spec   struct{ NodeName string }
				Status struct {
					Phase      string
					Conditions conditions
				}
			}
		}
		if err := decoder.Decode(&event); err != nil {
			return
		}
		pod := event.Object
		w.mu.Lock()
		w.events = append(w.events, PodEvent{
			Type:     event.Type,
			Pod:      pod.Metadata.Name,
			Node:     pod.Spec.NodeName,
			Phase:    pod.Status.Phase,
			Deleting: pod.Metadata.DeletionTimestamp != nil,
			Ready:    pod.Status.Conditions.isTrue("Ready"),
		})
		w.mu.Unlock()
	}
}

// Events returns what the watch has seen so far.
func (w *PodWatch) Events() []PodEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}

// WaitUntil waits until the events seen so far satisfy done.
func (w *PodWatch) WaitUntil(tb testing.TB, what string, done func([]PodEvent) bool) {
	tb.Helper()
	deadline := time.Now().Add(startTimeout)
	for !done(w.Events()) {
		select {
		case <-w.ended:
			tb.Fatalf("the pod watch ended before %s: %s", what, w.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s not within %s; pod events: %s", what, startTimeout, FormatEvents(w.Events()))
		}
		time.Sleep(pollInterval)
	}
}

// Stop ends the watch and returns every event it saw.
func (w *PodWatch) Stop() []PodEvent {
	if w.cmd.ProcessState == nil {
		_ = w.cmd.Process.Kill()
		<-w.ended
		_ = w.cmd.Wait()
	}
	return w.Events()
}

// FormatEvents is a readable timeline of pod events for failure messages.
func FormatEvents(events []PodEvent) string {
	var timeline bytes.Buffer
	for _, e := range events {
		fmt.Fprintf(&timeline, "\n  %-8s %s on %s: %s ready=%t deleting=%t", e.Type, e.Pod, e.Node, e.Phase, e.Ready, e.Deleting)
	}
	return timeline.String()
}
