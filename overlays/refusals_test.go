package overlays_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/envgen"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// The Helm door refuses the network settings the guardrail function refuses in the Kustomize
// door: the same bad value in values-production.yaml fails both, each naming the setting,
// rather than rendering a NetworkPolicy that only the API server (or nobody) rejects.
func TestBothDoorsRefuseTheSameBadNetworkSettings(t *testing.T) {
	const env = "production"
	valuesFile := "charts/philotes/values-" + env + ".yaml"
	original, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), filepath.FromSlash(valuesFile)))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		from, to string // one edit of the values file
		names    string // what both errors must name
	}{
		"a cidr that is no CIDR":          {"[198.51.100.64/28]", "[not-a-cidr]", "object-store"},
		"a cidr with host bits":           {"[198.51.100.64/28]", "[198.51.100.65/28]", "object-store"},
		"a cidr open to every address":    {"[198.51.100.64/28]", "[0.0.0.0/0]", "object-store"},
		"a port out of range":             {"port: 443", "port: 70000", "object-store"},
		"a namespace that is no DNS name": {"monitoring: monitoring", "monitoring: Monitoring_NS", "monitoring"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if n := strings.Count(string(original), c.from); n != 1 {
				t.Fatalf("%s holds %q %d times, want once: update the case", valuesFile, c.from, n)
			}
			m := testenv.NewMirror(t, testenv.RepoRoot())
			m.Replace(t, valuesFile, []byte(strings.Replace(string(original), c.from, c.to, 1)))
			tl := tools(t, "helm")
			_, helmErr := tl.Umbrella(m.Root, env)
			// The Kustomize door reads what `make generate` derives from the values file.
			kustomizeErr := func() error {
				files, err := envgen.Generate(m.Root)
				if err != nil {
					return err
				}
				m.ReplaceAll(t, files, "overlays/"+env+"/")
				_, err = tl.Overlay(m.Root, env)
				return err
			}()
			for door, err := range map[string]error{"Helm": helmErr, "Kustomize": kustomizeErr} {
				switch {
				case err == nil:
					t.Errorf("the %s door accepts %q in %s", door, c.to, valuesFile)
				case !strings.Contains(err.Error(), c.names):
					t.Errorf("the %s door refuses %q without naming %s: %v", door, c.to, c.names, err)
				}
			}
		})
	}
}
