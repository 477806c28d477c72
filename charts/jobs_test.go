package charts_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// prepared is the dev environment with the demo source's preparation Job on, so that every
// kind of Job renders.
var prepared = environment("dev").with("worker.sources[0].preparation.adminSecret=demo-admin")

// jobsOf returns the Jobs whose pods are the given component.
func jobsOf(objects manifests.Objects, component string) manifests.Objects {
	return labelled(objects, "Job", "app.kubernetes.io/component", component)
}

// jobOf returns the one Job of a component.
func jobOf(t *testing.T, objects manifests.Objects, component string) *yaml.RNode {
	t.Helper()
	jobs := jobsOf(objects, component)
	if len(jobs) != 1 {
		t.Fatalf("want one %s Job, got %v among %v", component, jobs.Names(), objects.OfKind("Job").Names())
	}
	return jobs[0]
}

// containerEnv maps the first container's variables to their values, or to
// "secret:<name>/<key>" for a variable read from a Secret.
func containerEnv(t *testing.T, workload *yaml.RNode) map[string]string {
	t.Helper()
	var env []struct {
		Name      string
		Value     string
		ValueFrom struct {
			SecretKeyRef struct{ Name, Key string } `json:"secretKeyRef"`
		} `json:"valueFrom"`
	}
	testenv.Decode(t, manifests.Containers(manifests.PodSpec(workload))[0], &env, "env")
	out := map[string]string{}
	for _, e := range env {
		out[e.Name] = e.Value
		if ref := e.ValueFrom.SecretKeyRef; ref.Name != "" {
			out[e.Name] = "secret:" + ref.Name + "/" + ref.Key
		}
	}
	return out
}

// secretOf is the Secret a Deployment reads its credentials from.
func secretOf(t *testing.T, objects manifests.Objects, deployment string) string {
	t.Helper()
	refs := secretRefs(t, manifests.PodSpec(objects.Find("Deployment", deployment)))
	if len(refs) == 0 {
		return ""
	}
	return refs[0]
}

// selects reports whether a label selector matches the labels.
func selects(selector, labels map[string]string) bool {
	for key, value := range selector {
		if labels[key] != value {
			return false
		}
	}
	return true
}

func intAnnotation(t *testing.T, o *yaml.RNode, key string) int {
	t.Helper()
	value, ok := o.GetAnnotations()[key]
	if !ok {
		return 0 // Argo CD's default wave, Helm's default weight
	}
	n, err := strconv.Atoi(value)
	if err != nil {
		t.Fatalf("%s %s = %q is not an integer", manifests.ID(o), key, value)
	}
	return n
}

// jobOrder is where a Job runs: its Helm hook events and weight, its Argo CD sync wave.
type jobOrder struct {
	hook         string
	weight, wave int
}

// wantJobOrder is the order of each Job, by component. A database Job against the release's
// own (dev) PostgreSQL cannot run before the install creates it; every database Job runs before
// an upgrade rolls out new pods.
func wantJobOrder(component, env string) jobOrder {
	database := jobOrder{hook: "pre-install,pre-upgrade", weight: 0, wave: -1}
	if env == "dev" {
		database.hook = "post-install,pre-upgrade"
	}
	return map[string]jobOrder{
		"schema":    database,
		"migrate":   database,
		"prepare":   database,
		"bucket":    {hook: "post-install,post-upgrade", weight: -5, wave: -1},
		"bootstrap": {hook: "post-install,post-upgrade", weight: 5, wave: 0},
	}[component]
}

func orderOf(t *testing.T, job *yaml.RNode) jobOrder {
	return jobOrder{
		hook:   job.GetAnnotations()["helm.sh/hook"],
		weight: intAnnotation(t, job, "helm.sh/hook-weight"),
		wave:   intAnnotation(t, job, "argocd.argoproj.io/sync-wave"),
	}
}

// withPrepared is each environment, with a preparation Job for every source.
func withPrepared(env string) rendering {
	if env == "dev" {
		return prepared
	}
	return environment(env).with("worker.sources[0].preparation.adminSecret=orders-admin")
}

func TestEveryJobRunsInItsPlaceInEveryDoor(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := withPrepared(env).objects(t, helm)
		components := map[string]bool{}
		for _, job := range objects.OfKind("Job") {
			component := manifests.String(job, "metadata", "labels", "app.kubernetes.io/component")
			components[component] = true
			want, got := wantJobOrder(component, env), orderOf(t, job)
			if want.hook == "" {
				t.Errorf("%s: no order is known for a %q Job", job.GetName(), component)
				continue
			}
			if got != want {
				t.Errorf("%s order %+v, want %+v", job.GetName(), got, want)
			}
			annotations := job.GetAnnotations()
			for key, value := range map[string]string{
				// Helm and Argo CD delete a Job once it succeeded: they run hooks on every
				// release or sync anyway, and nothing re-creates a deleted hook.
				"helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
				// Without it Argo CD would map the Helm hook to PreSync or PostSync.
				"argocd.argoproj.io/hook":               "Sync",
				"argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation,HookSucceeded",
			} {
				if annotations[key] != value {
					t.Errorf("%s %s = %q, want %q", job.GetName(), key, annotations[key], value)
				}
			}
		}
		want := []string{"schema", "migrate", "prepare", "bootstrap"}
		if env == "dev" {
			want = append(want, "bucket")
		}
		for _, component := range want {
			if !components[component] {
				t.Errorf("no %s Job in %s", component, env)
			}
		}
	})
}

// The orders above, as the relations they exist for.
func TestJobsRunAfterWhatTheyNeedAndBeforeWhatNeedsThem(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := withPrepared(env).objects(t, helm)
		bootstrap := orderOf(t, jobOf(t, objects, "bootstrap"))
		for _, component := range []string{"schema", "migrate", "prepare"} {
			job := jobOf(t, objects, component)
			order := orderOf(t, job)
			if !strings.Contains(order.hook, "pre-upgrade") {
				t.Errorf("%s does not run before an upgrade's pods: %s", job.GetName(), order.hook)
			}
			if order.wave >= 0 {
				t.Errorf("%s runs in wave %d, not before the workloads (wave 0)", job.GetName(), order.wave)
			}
		}
		migrate := orderOf(t, jobOf(t, objects, "migrate"))
		if strings.Contains(migrate.hook, "post-install") && migrate.weight >= bootstrap.weight {
			t.Errorf("after an install the bootstrap (weight %d) may run before the migration (weight %d)", bootstrap.weight, migrate.weight)
		}
		if bootstrap.wave < 0 {
			t.Errorf("the bootstrap runs in wave %d, before Lakekeeper (wave 0) exists", bootstrap.wave)
		}
		for _, kind := range []string{"StatefulSet", "Service", "Secret"} {
			for _, o := range objects.OfKind(kind) {
				if !isDataService(o) {
					continue
				}
				if wave := intAnnotation(t, o, "argocd.argoproj.io/sync-wave"); wave >= -1 {
					t.Errorf("data service object %s is in wave %d, not before the Jobs that need it (wave -1)", manifests.ID(o), wave)
				}
			}
		}
		for _, job := range jobsOf(objects, "bucket") {
			if order := orderOf(t, job); order.weight >= bootstrap.weight || !strings.Contains(order.hook, "post-install") {
				t.Errorf("the bucket (%+v) is not created before the bootstrap checks it (%+v)", order, bootstrap)
			}
		}
		for _, d := range objects.OfKind("Deployment") {
			if wave := intAnnotation(t, d, "argocd.argoproj.io/sync-wave"); wave != 0 {
				t.Errorf("workload %s is in wave %d, want 0", d.GetName(), wave)
			}
		}
	})
}

// A Secret a Job reads must exist when the Job starts: a pre-install Job runs before the
// release's ordinary objects, and under Argo CD a wave runs before the later waves.
func TestTheSecretsAJobReadsExistBeforeIt(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, r := range []rendering{prepared, environment("dev").with("api.database.host=buffer-db", "lakekeeper.database.host=catalog-db")} {
			t.Run(r.String(), func(t *testing.T) {
				t.Parallel()
				objects := r.objects(t, helm)
				for _, job := range objects.OfKind("Job") {
					order := orderOf(t, job)
					for _, name := range secretRefs(t, manifests.PodSpec(job)) {
						secret := objects.Find("Secret", name)
						if secret == nil {
							continue // an existing Secret
						}
						hook := secret.GetAnnotations()["helm.sh/hook"]
						if strings.Contains(order.hook, "pre-install") &&
							(!strings.Contains(hook, "pre-install") || intAnnotation(t, secret, "helm.sh/hook-weight") >= order.weight) {
							t.Errorf("%s runs pre-install, but the Secret %s is created later (hook %q)", job.GetName(), name, hook)
						}
						// Argo CD runs a Helm hook Secret as a PreSync hook, before every wave.
						if hook == "" && intAnnotation(t, secret, "argocd.argoproj.io/sync-wave") > order.wave {
							t.Errorf("%s (wave %d) reads the Secret %s of a later wave", job.GetName(), order.wave, name)
						}
					}
				}
			})
		}
	})
}

// A TTL would delete finished Jobs that Argo CD and Flux then re-create and run again; the
// retries and deadline bound a Job that cannot succeed.
func TestJobsRetryForABoundedTimeAndStayAfterFinishing(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		for _, job := range withPrepared(env).objects(t, helm).OfKind("Job") {
			if manifests.Lookup(job, "spec", "ttlSecondsAfterFinished") != nil {
				t.Errorf("%s sets ttlSecondsAfterFinished: GitOps would run it again after every TTL", job.GetName())
			}
			for _, field := range []string{"backoffLimit", "activeDeadlineSeconds"} {
				if n, err := strconv.Atoi(manifests.String(job, "spec", field)); err != nil || n <= 0 {
					t.Errorf("%s spec.%s = %q, want a positive number", job.GetName(), field, manifests.String(job, "spec", field))
				}
			}
			if got := manifests.String(job, "spec", "template", "spec", "restartPolicy"); got != "Never" {
				t.Errorf("%s restartPolicy = %q, want Never (the Job retries with a new pod)", job.GetName(), got)
			}
		}
	})
}

var jobName = regexp.MustCompile(`^(.+)-[0-9a-f]{8}$`)

// Applied as plain objects, a Job must be a new object whenever what it runs changes (its pod
// template cannot be updated), and the same object otherwise.
func TestJobNamesChangeWithTheirContentOnly(t *testing.T) {
	changes := map[string][]string{ // component -> changes that must run it again
		"schema":    {"api.schema.image.tag=17.10", "api.image.tag=0.1.1", "api.database.host=other-db"},
		"migrate":   {"lakekeeper.image.tag=v0.9.4", "lakekeeper.database.host=other-db"},
		"bootstrap": {"lakekeeper.bootstrap.warehouse.name=other", "lakekeeper.secrets.storageSecretKey=rotated"},
		"prepare":   {"worker.sources[0].slot=other_slot", "worker.sources[0].preparation.adminSecret=other-admin"},
		"bucket":    {"objectStore.bucket.name=other"},
	}
	names := func(t *testing.T, r rendering, helm string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for component := range changes {
			out[component] = jobOf(t, r.objects(t, helm), component).GetName()
		}
		return out
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		base := names(t, prepared, helm)
		for component, name := range base {
			match := jobName.FindStringSubmatch(name)
			if match == nil || len(name) > 63 || !strings.HasPrefix(match[1], "philotes-") || !strings.HasSuffix(match[1], "-"+component) {
				t.Errorf("Job name %q: want philotes-...-%s-<8 hex>, at most 63 characters", name, component)
			}
		}
		if again := names(t, prepared.with("api.replicaCount=3", "worker.cdc.batchSize=5"), helm); fmt.Sprint(again) != fmt.Sprint(base) {
			t.Errorf("unrelated changes renamed Jobs: %v, then %v", base, again)
		}
		for component, sets := range changes {
			for _, set := range sets {
				t.Run(set, func(t *testing.T) {
					t.Parallel()
					if changed := jobOf(t, prepared.with(set).objects(t, helm), component).GetName(); changed == base[component] {
						t.Errorf("with %s the %s Job keeps its name %s: it would not run again", set, component, changed)
					}
				})
			}
		}
	})
}

// The guardrail function covers Deployments and StatefulSets only, so the charts give every
// Job its own NetworkPolicy wherever the namespace denies by default.
func TestEveryJobHasItsNetworkPolicyWhereTrafficIsDenied(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := withPrepared(env).objects(t, helm)
		for _, job := range objects.OfKind("Job") {
			pods := manifests.StringMap(job, "spec", "template", "metadata", "labels")
			var policies manifests.Objects
			for _, policy := range objects.OfKind("NetworkPolicy") {
				selector := manifests.StringMap(policy, "spec", "podSelector", "matchLabels")
				if len(selector) > 0 && selects(selector, pods) {
					policies = append(policies, policy)
				}
			}
			if !environmentTable[env].networkPolicy {
				if len(policies) > 0 {
					t.Errorf("%s has NetworkPolicies %v in %s", job.GetName(), policies.Names(), env)
				}
				continue
			}
			if len(policies) != 1 {
				t.Errorf("%s is selected by the NetworkPolicies %v, want its own", job.GetName(), policies.Names())
				continue
			}
			policy := policies[0]
			if manifests.Lookup(policy, "spec", "ingress") != nil {
				t.Errorf("%s lets traffic in to %s", policy.GetName(), job.GetName())
			}
			var egress []struct {
				Ports []struct{ Port int }
			}
			if err := manifests.Decode(policy, &egress, "spec", "egress"); err != nil || len(egress) < 2 || egress[0].Ports[0].Port != 53 {
				t.Errorf("%s egress %+v: want DNS first, then what the Job reaches (%v)", policy.GetName(), egress, err)
			}
			if got, want := intAnnotation(t, policy, "argocd.argoproj.io/sync-wave"), orderOf(t, job).wave; got != want {
				t.Errorf("%s is in wave %d, its Job in wave %d", policy.GetName(), got, want)
			}
		}
	})
}

type configMapSource struct {
	Name     string
	Optional bool
}

type configMapVolume struct {
	Name      string
	ConfigMap configMapSource `json:"configMap"`
}

func TestSchemaJobAppliesTheOperatorsScriptsAsThePhilotesRole(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		objects := environment(env).objects(t, helm)
		job := jobOf(t, objects, "schema")
		got := containerEnv(t, job)
		api := manifests.StringMap(objects.Find("ConfigMap", "philotes-api"), "data")
		want := map[string]string{
			"PGHOST":     api["PHILOTES_DB_HOST"],
			"PGPORT":     api["PHILOTES_DB_PORT"],
			"PGDATABASE": api["PHILOTES_DB_NAME"],
			"PGUSER":     api["PHILOTES_DB_USER"],
			"PGSSLMODE":  api["PHILOTES_DB_SSLMODE"],
			"PGOPTIONS":  "-c search_path=philotes,public",
			"PGPASSWORD": "secret:" + secretOf(t, objects, "philotes-api") + "/database-password",
		}
		for key, value := range want {
			if got[key] != value {
				t.Errorf("%s %s = %q, want %q", job.GetName(), key, got[key], value)
			}
		}
		var volumes []configMapVolume
		testenv.Decode(t, job, &volumes, "spec", "template", "spec", "volumes")
		if !slices.Contains(volumes, configMapVolume{Name: "scripts", ConfigMap: configMapSource{Name: "philotes-schema", Optional: true}}) {
			t.Errorf("%s does not mount the operator's ConfigMap philotes-schema (optional, so that its absence is reported by the script): %+v", job.GetName(), volumes)
		}
		image := manifests.String(objects.Find("Deployment", "philotes-api"), "spec", "template", "spec", "containers", "[name=api]", "image")
		if version := manifests.String(job, "spec", "template", "metadata", "annotations", "philotes.io/version"); version != image {
			t.Errorf("%s is tied to Philotes %q, the api runs %q", job.GetName(), version, image)
		}
	})
}

func TestSchemaJobIsRefusedWithoutAPasswordAndCanBeTurnedOff(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		environment("dev").with("api.vault.enabled=true", "api.vault.address=https://vault:8200", "api.vault.role=philotes", "api.vault.secretPaths.databaseBuffer=db").
			expectRefusal(t, helm, "philotes-api: schema.existingSecret is required while Vault supplies the buffer database password")
		if jobs := jobsOf(environment("dev").with("api.schema.enabled=false").objects(t, helm), "schema"); len(jobs) != 0 {
			t.Errorf("schema.enabled=false still renders %v", jobs.Names())
		}
	})
}

// Dev prepares its demo source with the dev server's own superuser Secret; a source outside
// the release has no such Secret, so an empty preparation there is refused, not guessed.
func TestSourcePreparationIsOptInPerSource(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		jobs := jobsOf(environment("dev").objects(t, helm), "prepare")
		if len(jobs) != 1 {
			t.Fatalf("dev should prepare its demo source once: %v", jobs.Names())
		}
		if refs := secretRefs(t, manifests.PodSpec(jobs[0])); !slices.Equal(refs, []string{"philotes-postgresql"}) {
			t.Errorf("the dev preparation reads %v, want the dev PostgreSQL's Secret", refs)
		}
		unprepared := environment("dev").with("worker.sources[1].name=orders", "worker.sources[1].database=orders", "worker.sources[1].user=u", "worker.sources[1].password=p")
		if jobs := jobsOf(unprepared.objects(t, helm), "prepare"); len(jobs) != 1 || jobs[0].GetLabels()["philotes.io/source"] != "demo" {
			t.Errorf("only the demo source asks for preparation, yet these Jobs prepare: %v", jobs.Names())
		}
		environment("dev").with("worker.sources[0].host=db.example.com").
			expectRefusal(t, helm, "philotes-worker: sources[0].preparation.adminSecret is required: the source is not the release's dev PostgreSQL")
	})
}

func TestSourcePreparationRunsAsTheSourceAdminForItsWorker(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		r := withPrepared(env)
		objects := r.objects(t, helm)
		job := jobOf(t, objects, "prepare")
		worker := deploymentsOf(objects, "philotes-worker")[0]
		config := manifests.StringMap(objects.Find("ConfigMap", worker.GetName()), "data")
		admin := strings.TrimPrefix(r.set[len(r.set)-1], "worker.sources[0].preparation.adminSecret=")
		got := containerEnv(t, job)
		want := map[string]string{
			"PGHOST":        config["PHILOTES_CDC_SOURCE_HOST"],
			"PGDATABASE":    config["PHILOTES_CDC_SOURCE_DATABASE"],
			"WORKER_USER":   config["PHILOTES_CDC_SOURCE_USER"],
			"SLOT":          config["PHILOTES_CDC_REPLICATION_SLOT"],
			"PGUSER":        "secret:" + admin + "/username",
			"PGPASSWORD":    "secret:" + admin + "/password",
			"CHECK_MONITOR": strconv.FormatBool(environmentTable[env].keda),
		}
		for key, value := range want {
			if got[key] != value {
				t.Errorf("%s %s = %q, want %q", job.GetName(), key, got[key], value)
			}
		}
		if source := manifests.String(job, "spec", "template", "metadata", "labels", "philotes.io/source"); source != manifests.String(worker, "spec", "selector", "matchLabels", "philotes.io/source") {
			t.Errorf("%s is labelled for source %q, its worker is %s", job.GetName(), source, worker.GetName())
		}
	})
}
