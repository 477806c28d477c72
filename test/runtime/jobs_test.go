package runtime

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// environment is the one whose Jobs run here: dev points every Job at the release's own
// data services, which these tests replace with local servers.
const environment = "dev"

// door is one way the deployment reaches a cluster, and the objects it applies in dev.
type door struct {
	name    string
	objects manifests.Objects
}

// doors renders dev once per door: the Helm door (helm template of the umbrella) and the
// Kustomize door as every other door consumes it: rendered/dev, which kubectl, Flux and Argo CD
// apply and which `make verify` proves byte-identical to a fresh kustomize build of the overlay.
var doors = sync.OnceValues(func() ([]door, error) {
	root := testenv.RepoRoot()
	tools := render.Tools{Kustomize: filepath.Join(testenv.BinDir(), "kustomize"), Helm: filepath.Join(testenv.BinDir(), "helm"), BinDir: testenv.BinDir()}
	helm, err := tools.Umbrella(root, environment)
	if err != nil {
		return nil, err
	}
	rendered, err := os.ReadFile(filepath.Join(root, "rendered", environment, "manifests.yaml"))
	if err != nil {
		return nil, err
	}
	var out []door
	for _, d := range []struct {
		name string
		text []byte
	}{{"helm", helm}, {"kustomize", rendered}} {
		objects, err := manifests.Parse(d.text)
		if err != nil {
			return nil, fmt.Errorf("the %s door's manifests: %w", d.name, err)
		}
		out = append(out, door{name: d.name, objects: objects})
	}
	return out, nil
})

// forEachDoor runs a parallel subtest per door; each starts its own servers and its scripts
// write to their own TMPDIR, so doors never share state.
func forEachDoor(t *testing.T, test func(t *testing.T, d door)) {
	t.Helper()
	for _, tool := range []string{"helm"} {
		testenv.Tool(t, tool)
	}
	all, err := doors()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			test(t, d)
		})
	}
}

// secret returns a key of a Secret the door renders (dev's placeholders).
func (d door) secret(t *testing.T, name, key string) string {
	t.Helper()
	secret := d.objects.Find("Secret", name)
	if secret == nil {
		t.Fatalf("the %s door renders no Secret %s", d.name, name)
	}
	value, ok := manifests.StringMap(secret, "stringData")[key]
	if !ok {
		decoded, err := decodedData(secret)
		if err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		value, ok = decoded[key]
	}
	if !ok {
		t.Fatalf("Secret %s has no key %s", name, key)
	}
	return value
}

// jobScript is the one container of a rendered Job: its interpreter, script and environment.
type jobScript struct {
	door, job string
	command   []string // interpreter and its flag, e.g. /bin/bash -c
	script    string
	env       map[string]string // values, with secretKeyRefs resolved from the door's Secrets
}

// job finds the door's Job of a component (schema, prepare, bucket, bootstrap) and resolves its
// environment as the kubelet would, from the door's own Secrets.
func (d door) job(t *testing.T, component string) jobScript {
	t.Helper()
	var found []jobScript
	for _, job := range d.objects.OfKind("Job") {
		if manifests.String(job, "metadata", "labels", "app.kubernetes.io/component") != component {
			continue
		}
		containers := manifests.Containers(manifests.PodSpec(job))
		if len(containers) != 1 {
			t.Fatalf("Job %s has %d containers, want 1", job.GetName(), len(containers))
		}
		var container struct {
			Command []string
			Env     []struct {
				Name      string
				Value     string
				ValueFrom *struct {
					SecretKeyRef *struct{ Name, Key string } `json:"secretKeyRef"`
				} `json:"valueFrom"`
			}
		}
		if err := manifests.Decode(containers[0], &container); err != nil {
			t.Fatal(err)
		}
		if len(container.Command) != 3 || container.Command[1] != "-c" {
			t.Fatalf("Job %s runs %q, want <shell> -c <script>", job.GetName(), container.Command)
		}
		s := jobScript{door: d.name, job: job.GetName(), command: container.Command[:2], script: container.Command[2], env: map[string]string{}}
		for _, e := range container.Env {
			switch {
			case e.ValueFrom == nil:
				s.env[e.Name] = e.Value
			case e.ValueFrom.SecretKeyRef != nil:
				s.env[e.Name] = d.secret(t, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
			default:
				t.Fatalf("Job %s: %s comes from neither a value nor a Secret", job.GetName(), e.Name)
			}
		}
		found = append(found, s)
	}
	if len(found) != 1 {
		t.Fatalf("the %s door renders %d %s Jobs, want 1", d.name, len(found), component)
	}
	return found[0]
}

// result is one run of a Job's script.
type result struct {
	stdout, stderr string
	err            error // non-nil when the script exited non-zero
}

func (r result) String() string {
	return fmt.Sprintf("exit: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// run executes the script with its interpreter, as the container would, with the rendered
// environment plus overrides: the addresses of the local servers instead of in-cluster names,
// and what the pod's volumes would provide (TMPDIR for the /tmp volume, SCRIPTS_DIR, ...).
// PATH is the machine's, with the PostgreSQL client programs first.
func (s jobScript) run(t *testing.T, overrides map[string]string) result {
	t.Helper()
	env := maps.Clone(s.env)
	maps.Copy(env, overrides)
	if _, ok := env["TMPDIR"]; !ok {
		env["TMPDIR"] = t.TempDir()
	}
	cmd := exec.Command(s.command[0], s.command[1], s.script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for _, name := range slices.Sorted(maps.Keys(env)) {
		cmd.Env = append(cmd.Env, name+"="+env[name])
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), err: err}
	t.Logf("%s door, Job %s:\n%s", s.door, s.job, r)
	return r
}

// succeeds fails the test unless the run exited 0 and printed every fragment.
func (r result) succeeds(t *testing.T, fragments ...string) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("the Job failed:\n%s", r)
	}
	for _, fragment := range fragments {
		if !strings.Contains(r.stdout, fragment) {
			t.Errorf("the Job's output lacks %q:\n%s", fragment, r)
		}
	}
}

// failsWithOneLine fails the test unless the run exited non-zero with exactly one line on
// stderr that holds every fragment: the one problem, named.
func (r result) failsWithOneLine(t *testing.T, fragments ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("the Job succeeded, want a failure naming %q:\n%s", fragments, r)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 {
		t.Errorf("the Job printed %d lines on stderr, want one line naming the problem:\n%s", len(lines), r)
	}
	for _, fragment := range fragments {
		if !strings.Contains(r.stderr, fragment) {
			t.Errorf("the Job's error lacks %q:\n%s", fragment, r)
		}
	}
}

// decodedData is a Secret's data with its base64 values decoded.
func decodedData(secret *yaml.RNode) (map[string]string, error) {
	decoded := map[string]string{}
	for key, value := range manifests.StringMap(secret, "data") {
		text, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return nil, fmt.Errorf("data.%s: %w", key, err)
		}
		decoded[key] = string(text)
	}
	return decoded, nil
}
