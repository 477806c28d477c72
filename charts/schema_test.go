package charts_test

import (
	"testing"
)

// Each chart's values.schema.json (generated from values.yaml) closes its objects: a
// misspelled key fails with its name instead of being ignored.
func TestSchemaRejectsAMisspelledKey(t *testing.T) {
	cases := map[string]rendering{
		"replicaCont":  {chart: "philotes-api", set: []string{"replicaCont=3"}},
		"sourcs":       {chart: "philotes-worker", set: []string{"sourcs=x"}},
		"encryptinKey": {chart: "lakekeeper", set: []string{"secrets.encryptinKey=x"}},
		"enviroment":   {chart: umbrella, set: []string{"global.enviroment=dev"}},
		"replicaCount": environment("dev").with("api.autoscaling.replicaCount=2"),
		"nam":          environment("dev").with("worker.sources[0].nam=x"),
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		for key, r := range cases {
			t.Run(key, func(t *testing.T) {
				t.Parallel()
				r.expectRefusal(t, helm, "additional properties '"+key+"' not allowed")
			})
		}
	})
}

func TestSchemaRejectsAWronglyTypedValue(t *testing.T) {
	cases := map[string]struct {
		r     rendering
		where string
	}{
		"a string for an integer":    {rendering{chart: "philotes-api", set: []string{"replicaCount=two"}}, "/replicaCount"},
		"a string for a boolean":     {environment("dev").with("lakekeeper.podDisruptionBudget.enabled=maybe"), "/lakekeeper/podDisruptionBudget/enabled"},
		"an environment not allowed": {environment("dev").with("global.environment=Prod_1"), "/global/environment"},
		"a profile not allowed":      {environment("dev").with("global.profile=prod"), "/global/profile"},
		"a slot not allowed in SQL":  {environment("dev").with("worker.sources[0].slot=demo;drop"), "/worker/sources/0/slot"},
		"a duration Go cannot parse": {environment("dev").with("worker.cdc.flushInterval=5 seconds"), "/worker/cdc/flushInterval"},
	}
	forEachHelm(t, func(t *testing.T, helm string) {
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c.r.expectRefusal(t, helm, "at '"+c.where+"'")
			})
		}
	})
}
