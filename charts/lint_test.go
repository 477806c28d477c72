package charts_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

func TestEveryChartPassesStrictLintWithEveryValuesFile(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, chart := range append([]string{"philotes-common"}, installableCharts...) {
			for _, file := range valuesFiles(t, chart) {
				t.Run(file, func(t *testing.T) {
					t.Parallel()
					version := kubeVersion
					if chart == "postgresql" || filepath.Base(file) == "values-dev.yaml" {
						version = devKubeVersion // the dev PostgreSQL's image volume
					}
					args := []string{"lint", "--strict", chart, "--values", file, "--kube-version", version}
					for _, set := range dataServiceDevValues[chart] {
						args = append(args, "--set", set)
					}
					out, err := testenv.RunErr(chartsDir(), helm, args...)
					if err != nil {
						t.Errorf("helm lint --strict %s --values %s: %v\n%s", chart, file, err, out)
					}
				})
			}
		}
	})
}

func TestEveryChartRendersWithEveryValuesFile(t *testing.T) {
	forEachHelm(t, func(t *testing.T, helm string) {
		for _, chart := range installableCharts {
			for _, file := range valuesFiles(t, chart) {
				t.Run(file, func(t *testing.T) {
					t.Parallel()
					r := standalone(chart)
					r.values = []string{file}
					if env, isEnvironment := strings.CutPrefix(strings.TrimSuffix(filepath.Base(file), ".yaml"), "values-"); chart == umbrella && isEnvironment {
						r = environment(env)
					}
					objects := r.objects(t, helm)
					workloads := len(objects.OfKind("Deployment")) + len(objects.OfKind("StatefulSet"))
					if workloads == 0 && chart != "philotes-worker" {
						t.Errorf("%s with %s rendered no Deployment or StatefulSet: %v", chart, file, objects.IDs())
					}
				})
			}
		}
	})
}

// Helm 3 and Helm 4 differ in blank lines only; the objects must be the same.
func TestHelm3AndHelm4RenderTheSameObjects(t *testing.T) {
	helm3, helm4 := helmTool(t, "helm3"), helmTool(t, "helm4")
	for _, r := range everyRendering(t) {
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			three, err := manifests.Encode(r.objects(t, helm3))
			if err != nil {
				t.Fatal(err)
			}
			four, err := manifests.Encode(r.objects(t, helm4))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(three, four) {
				t.Errorf("helm3 and helm4 render %s differently:\n--- helm3\n%s\n--- helm4\n%s", r, three, four)
			}
		})
	}
}

// A clean render prints nothing but the manifests: no warning a user would have to read
// (Helm warns once per symbolic link in a chart, for instance).
func TestACleanRenderPrintsNothingOnStderr(t *testing.T) {
	forEachEnvironment(t, func(t *testing.T, helm, env string) {
		r := environment(env)
		cmd := exec.Command(helm, r.args()...)
		cmd.Dir = chartsDir()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(r.args(), " "), err, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("helm %s printed on stderr:\n%s", strings.Join(r.args(), " "), stderr.String())
		}
	})
}
