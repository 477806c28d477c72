package e2e

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/cluster"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// environment is what a door installed into one environment's namespace.
type environment struct {
	name      string
	namespace string
	workloads []string          // deployment.apps/<name>, statefulset.apps/<name>, as kubectl names them
	jobs      []string          // job.batch/<name>
	selectors map[string]string // Deployment name -> its pod selector
	workers   []string          // worker Deployments, one per source
}

const (
	apiDeployment   = "philotes-api"
	workerComponent = "philotes-worker"
)

// installed reads the manifests a door applied.
func installed(t *testing.T, env, namespace string, manifests []byte) environment {
	t.Helper()
	objects, err := kio.FromBytes(manifests)
	if err != nil {
		t.Fatalf("the %s manifests: %v", env, err)
	}
	e := environment{name: env, namespace: namespace, selectors: map[string]string{}}
	for _, o := range objects {
		switch o.GetKind() {
		case "Job":
			e.jobs = append(e.jobs, "job.batch/"+o.GetName())
		case "StatefulSet":
			e.workloads = append(e.workloads, "statefulset.apps/"+o.GetName())
		case "Deployment":
			e.workloads = append(e.workloads, "deployment.apps/"+o.GetName())
			var matchLabels map[string]string
			node, err := o.Pipe(yaml.Lookup("spec", "selector", "matchLabels"))
			if err == nil && node != nil {
				err = node.YNode().Decode(&matchLabels)
			}
			if err != nil || len(matchLabels) == 0 {
				t.Fatalf("%s: Deployment %s has no spec.selector.matchLabels: %v", env, o.GetName(), err)
			}
			var selector []string
			for key, value := range matchLabels {
				selector = append(selector, key+"="+value)
			}
			slices.Sort(selector)
			e.selectors[o.GetName()] = strings.Join(selector, ",")
			if o.GetLabels()["app.kubernetes.io/name"] == workerComponent {
				e.workers = append(e.workers, o.GetName())
			}
		}
	}
	if len(e.workers) == 0 || e.selectors[apiDeployment] == "" {
		t.Fatalf("%s installs no %s Deployment or no worker", env, apiDeployment)
	}
	slices.Sort(e.workloads)
	slices.Sort(e.jobs)
	return e
}

// door installs an environment the way one kind of user does, and returns the
// manifests it applied.
type door struct {
	name    string
	install func(t *testing.T, c *cluster.Cluster, env, namespace string) []byte
	// checksBehaviour marks the one door whose installs are put through
	// rollouts and drains. Every door renders the same objects (the parity
	// tests of overlays/ and charts/ prove it), so their behaviour is the
	// same, and checking it once per environment keeps the package quick.
	checksBehaviour bool
	// deletesSucceededJobs marks the doors that run the Jobs as hooks and
	// delete each once it succeeded (Helm's hook-succeeded).
	deletesSucceededJobs bool
}

func doors() []door {
	all := []door{
		{name: "kustomize", checksBehaviour: true, install: func(t *testing.T, c *cluster.Cluster, env, namespace string) []byte {
			testenv.Tool(t, "philotes-guardrails")
			tools := render.Tools{Kustomize: testenv.Tool(t, "kustomize"), Helm: testenv.Tool(t, "helm"), BinDir: testenv.BinDir()}
			manifests, err := tools.Overlay(testenv.RepoRoot(), env)
			if err != nil {
				t.Fatal(err)
			}
			c.UseNamespace(t, namespace)
			c.ApplyManifest(t, string(manifests))
			return manifests
		}},
		{name: "kubectl", install: func(t *testing.T, c *cluster.Cluster, env, namespace string) []byte {
			dir := filepath.Join(render.RenderedDir, env)
			c.UseNamespace(t, namespace)
			c.Apply(t, "--kustomize="+dir)
			return c.Kubectl(t, "kustomize", dir)
		}},
	}
	for _, helm := range testenv.HelmCLIs {
		all = append(all, door{name: helm, deletesSucceededJobs: true, install: func(t *testing.T, c *cluster.Cluster, env, namespace string) []byte {
			helm := testenv.Tool(t, helm)
			// As the README instructs: the namespace exists, labelled, before the
			// release is installed into it.
			c.CreateRestrictedNamespace(t, namespace)
			c.Helm(t, helm, "install", render.ReleaseName, "charts/philotes",
				"--namespace", namespace, "--values", "charts/philotes/values-"+env+".yaml")
			manifests := c.Helm(t, helm, "get", "manifest", render.ReleaseName, "--namespace", namespace)
			hooks := c.Helm(t, helm, "get", "hooks", render.ReleaseName, "--namespace", namespace)
			return append(append(manifests, "\n---\n"...), hooks...)
		}})
	}
	return all
}

func TestEveryDoorInstallsEveryEnvironmentWhoseWorkloadsSurviveRolloutsAndDrains(t *testing.T) {
	c := shared.Cluster(t)
	c.InstallCRDs(t, cluster.PlatformCRDs...)
	// Door by door, so that consecutive installs use different namespaces and
	// never wait for the previous one to be deleted.
	for _, d := range doors() {
		for _, env := range testenv.Environments(t) {
			t.Run(d.name+"/"+env, func(t *testing.T) {
				namespace := testenv.Namespace(t, env)
				e := installed(t, env, namespace, d.install(t, c, env, namespace))
				if d.deletesSucceededJobs {
					// The install returned only once every hook Job had completed;
					// Helm then deleted each, so none may be left behind.
					c.WaitJobsDeleted(t, namespace)
					e.jobs = nil
				}
				t.Run("every workload is admitted and available", func(t *testing.T) {
					checkAdmittedAndAvailable(t, c, e)
				})
				if !d.checksBehaviour {
					return
				}
				t.Run("a worker rollout never runs two pods of a source", func(t *testing.T) {
					for _, worker := range e.workers {
						checkRolloutIsASingleton(t, c, e, worker)
					}
				})
				if env != "dev" {
					t.Run("a node drain keeps an API replica ready", func(t *testing.T) {
						checkDrainKeepsAnAPIReplicaReady(t, c, e)
					})
				}
			})
		}
	}
}

func checkAdmittedAndAvailable(t *testing.T, c *cluster.Cluster, e environment) {
	if e.name != "dev" {
		enforce := string(c.Kubectl(t, "get", "namespace", e.namespace,
			`--output=jsonpath={.metadata.labels.pod-security\.kubernetes\.io/enforce}`))
		if enforce != "restricted" {
			t.Errorf("namespace %s enforces Pod Security %q, want restricted", e.namespace, enforce)
		}
	}
	if jobs := c.WaitJobsComplete(t, e.namespace); !slices.Equal(jobs, e.jobs) {
		t.Errorf("completed Jobs %v, want the installed %v", jobs, e.jobs)
	}
	available := c.WaitAvailable(t, e.namespace)
	slices.Sort(available)
	if !slices.Equal(available, e.workloads) {
		t.Errorf("available workloads %v, want the installed %v", available, e.workloads)
	}
	if rejected := c.RejectedPods(t, e.namespace); rejected != "" {
		t.Errorf("pods were refused in %s:\n%s", e.namespace, rejected)
	}
}

func checkRolloutIsASingleton(t *testing.T, c *cluster.Cluster, e environment, worker string) {
	c.WaitAvailable(t, e.namespace)
	watch := c.WatchPods(t, e.namespace, e.selectors[worker])
	watch.WaitUntil(t, "the running "+worker+" pod is seen", func(events []cluster.PodEvent) bool {
		return len(readyPods(podsAfter(events))) == 1
	})
	before := readyPods(podsAfter(watch.Events()))
	c.Kubectl(t, "rollout", "restart", "deployment/"+worker, "--namespace="+e.namespace)
	watch.WaitUntil(t, "a new "+worker+" pod is ready", func(events []cluster.PodEvent) bool {
		ready := readyPods(podsAfter(events))
		return len(ready) == 1 && !slices.Equal(ready, before)
	})
	c.WaitAvailable(t, e.namespace)
	events := watch.Stop()

	// A pod being deleted still runs until it is gone: its containers get their
	// grace period. Only a finished pod no longer counts.
	pods, most := map[string]cluster.PodEvent{}, 0
	for _, event := range events {
		track(pods, event)
		running := 0
		for _, pod := range pods {
			if pod.Phase != "Succeeded" && pod.Phase != "Failed" {
				running++
			}
		}
		most = max(most, running)
	}
	if most > 1 {
		t.Errorf("%s ran %d pods at once during a rollout; pod events:%s", worker, most, cluster.FormatEvents(events))
	}
}

func checkDrainKeepsAnAPIReplicaReady(t *testing.T, c *cluster.Cluster, e environment) {
	c.WaitAvailable(t, e.namespace)
	replicas, err := strconv.Atoi(string(c.Kubectl(t, "get", "deployment", apiDeployment, "--namespace="+e.namespace,
		"--output=jsonpath={.spec.replicas}")))
	if err != nil {
		t.Fatalf("replicas of %s: %v", apiDeployment, err)
	}
	watch := c.WatchPods(t, e.namespace, e.selectors[apiDeployment])
	watch.WaitUntil(t, "every API replica is seen ready", func(events []cluster.PodEvent) bool {
		return len(readyPods(podsAfter(events))) == replicas
	})
	settled := watch.Events()
	pods := podsAfter(settled)
	node := pods[readyPods(pods)[0]].Node
	c.Drain(t, node)
	c.WaitAvailable(t, e.namespace)
	events := watch.Stop()

	fewest, evicted := replicas, false
	for _, event := range events[len(settled):] {
		track(pods, event)
		fewest = min(fewest, len(readyPods(pods)))
		evicted = evicted || (event.Node == node && event.Deleting)
	}
	if !evicted {
		t.Fatalf("draining %s evicted no API pod; pod events:%s", node, cluster.FormatEvents(events))
	}
	if fewest < 1 {
		t.Errorf("the API had no ready replica while %s was drained; pod events:%s", node, cluster.FormatEvents(events))
	}
}

// track applies a watch event to the pods that exist.
func track(pods map[string]cluster.PodEvent, event cluster.PodEvent) {
	if event.Type == "DELETED" {
		delete(pods, event.Pod)
		return
	}
	pods[event.Pod] = event
}

// podsAfter replays watch events into the pods that exist after them.
func podsAfter(events []cluster.PodEvent) map[string]cluster.PodEvent {
	pods := map[string]cluster.PodEvent{}
	for _, event := range events {
		track(pods, event)
	}
	return pods
}

// readyPods are the pods a Service would send traffic to, by name.
func readyPods(pods map[string]cluster.PodEvent) []string {
	var ready []string
	for name, pod := range pods {
		if pod.Ready && !pod.Deleting {
			ready = append(ready, name)
		}
	}
	slices.Sort(ready)
	return ready
}
