package charts_test

import (
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/manifests"
)

// Applied as plain objects, the migration Job must be a new object whenever what it runs
// changes (a Job's pod template cannot be updated), and the same object otherwise.
func TestLakekeeperMigrationJobIsNamedAfterItsPodTemplate(t *testing.T) {
	jobName := func(t *testing.T, objects manifests.Objects) string {
		t.Helper()
		jobs := objects.OfKind("Job")
		if len(jobs) != 1 {
			t.Fatalf("want one migration Job, got %v", jobs.IDs())
		}
		job := jobs[0]
		if args := manifests.String(job, "spec", "template", "spec", "containers", "[name=migrate]", "args", "[=migrate]"); args != "migrate" {
			t.Errorf("%s does not run `migrate`", job.GetName())
		}
		annotations := job.GetAnnotations()
		if annotations["helm.sh/hook"] != "pre-install,pre-upgrade" || annotations["helm.sh/hook-delete-policy"] != "before-hook-creation" {
			t.Errorf("%s hook annotations = %v", job.GetName(), annotations)
		}
		return job.GetName()
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		base := environment("dev")
		name := jobName(t, base.objects(t, helm))
		if !strings.HasPrefix(name, "philotes-lakekeeper-migrate-") || len(name) > 63 {
			t.Errorf("Job name %q: want philotes-lakekeeper-migrate-<hash>, at most 63 characters", name)
		}
		if again := jobName(t, base.with("api.replicaCount=1").objects(t, helm)); again != name {
			t.Errorf("an unrelated change renamed the Job: %s, then %s", name, again)
		}
		for _, set := range []string{"lakekeeper.image.tag=v0.9.4", "lakekeeper.database.host=other-db"} {
			if changed := jobName(t, base.with(set).objects(t, helm)); changed == name {
				t.Errorf("with %s the Job keeps its name %s: it would not run again", set, name)
			}
		}
	})
}

// The migration pods must not look like server pods: the Service would route to them
// and the server's PodDisruptionBudget would count them.
func TestLakekeeperMigrationPodsAreNotServerPods(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		objects := environment("staging").objects(t, helm)
		server := manifests.StringMap(objects.Find("Deployment", "philotes-lakekeeper"), "spec", "selector", "matchLabels")
		job := objects.OfKind("Job")[0]
		labels := manifests.StringMap(job, "spec", "template", "metadata", "labels")
		matches := true
		for key, value := range server {
			matches = matches && labels[key] == value
		}
		if matches {
			t.Errorf("migration pod labels %v match the server selector %v", labels, server)
		}
		if objects.Find("NetworkPolicy", "philotes-lakekeeper-migrate") == nil {
			t.Errorf("with the default deny the migration Job needs its own NetworkPolicy: %v", objects.OfKind("NetworkPolicy").Names())
		}
	})
}
