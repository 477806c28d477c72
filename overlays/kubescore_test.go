package overlays_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// kube-score's grades (scorecard.Grade).
const (
	gradeCritical = 1
	gradeAllOK    = 10
)

// acceptedWarnings are the kube-score warnings a staging or production
// rendering may show, by check id, with the reason they are accepted. The
// chart README repeats them. A critical finding is never accepted.
var acceptedWarnings = map[string]string{
	"deployment-has-host-podantiaffinity": "the API and Lakekeeper spread their replicas over zones and nodes with topologySpreadConstraints (ScheduleAnyway), which a cluster with fewer nodes than replicas still schedules, where a required host anti-affinity would leave replicas pending; a worker runs a single pod per source, so there is nothing to keep apart",
}

type kubeScoreObject struct {
	ObjectName string `json:"object_name"`
	Checks     []struct {
		Check struct {
			ID string `json:"id"`
		} `json:"check"`
		Grade    int  `json:"grade"`
		Skipped  bool `json:"skipped"`
		Comments []struct {
			Path    string `json:"path"`
			Summary string `json:"summary"`
		} `json:"comments"`
	} `json:"checks"`
}

// TestKubeScoreFindsNothingCriticalInTheProtectedEnvironments runs the pinned
// kube-score on the rendering of every environment that is not a development
// one: no CRITICAL finding, and no warning other than the accepted ones.
func TestKubeScoreFindsNothingCriticalInTheProtectedEnvironments(t *testing.T) {
	kubeScore := testenv.Tool(t, "kube-score")
	seen := map[string]bool{}
	protected := 0
	for _, env := range testenv.Environments(t) {
		profile, err := envgen.Profile(testenv.RepoRoot(), env)
		if err != nil {
			t.Fatal(err)
		}
		if profile == "development" {
			continue
		}
		protected++
		file := filepath.Join(render.RenderedDir, env, render.ManifestsFile)
		// kube-score exits 1 when it finds anything CRITICAL; the JSON says what.
		out, _ := testenv.RunErr(testenv.RepoRoot(), kubeScore, "score", "--output-format", "json", file)
		var objects []kubeScoreObject
		if err := json.Unmarshal(out, &objects); err != nil || len(objects) == 0 {
			t.Fatalf("%s: kube-score printed no objects (%v):\n%s", file, err, out)
		}
		for _, o := range objects {
			for _, c := range o.Checks {
				if c.Skipped || c.Grade == gradeAllOK {
					continue
				}
				var summaries []string
				for _, comment := range c.Comments {
					summaries = append(summaries, fmt.Sprintf("%s %s", comment.Path, comment.Summary))
				}
				switch _, accepted := acceptedWarnings[c.Check.ID]; {
				case c.Grade <= gradeCritical:
					t.Errorf("%s: %s: CRITICAL %s %v", env, o.ObjectName, c.Check.ID, summaries)
				case !accepted:
					t.Errorf("%s: %s: warning %s (grade %d) %v, which is not one of the accepted warnings", env, o.ObjectName, c.Check.ID, c.Grade, summaries)
				default:
					seen[c.Check.ID] = true
				}
			}
		}
	}
	if protected == 0 {
		t.Fatal("no environment other than development to score")
	}
	for id := range acceptedWarnings {
		if !seen[id] {
			t.Errorf("accepted warning %s no longer occurs: remove it from the list (and the chart README)", id)
		}
	}
}
