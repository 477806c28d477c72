package chartdeps

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/tree"
)

var threeCharts = map[string]string{
	"charts/library/Chart.yaml":            "name: library\nversion: 0.2.0\ntype: library\n",
	"charts/library/templates/_names.tpl":  "{{- define \"library.name\" -}}x{{- end -}}\n",
	"charts/service/Chart.yaml":            "name: service\nversion: 1.0.0\ndependencies:\n- {name: library, version: 0.2.0, repository: \"file://../library\"}\n",
	"charts/service/values.yaml":           "replicas: 1\n",
	"charts/umbrella/Chart.yaml":           "name: umbrella\nversion: 1.0.0\ndependencies:\n- {name: service, alias: api, version: 1.0.0, repository: \"file://../service\"}\n",
	"charts/umbrella/charts/leftover.tgz":  "an archive of an old version",
	"charts/service/charts/library/x.yaml": "a copy that is not the package",
}

// entries lists an archive's files with their contents.
func entries(t *testing.T, archive []byte) map[string]string {
	t.Helper()
	zipped, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	reader := tar.NewReader(zipped)
	for {
		header, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(reader)
		if err != nil {
			t.Fatal(err)
		}
		out[header.Name] = string(data)
	}
}

func TestEachChartGetsItsDependenciesPackagedWithTheirOwn(t *testing.T) {
	root := tree.New(t, threeCharts)
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	want := map[string]bool{"charts/service/charts/library-0.2.0.tgz": true, "charts/umbrella/charts/service-1.0.0.tgz": true}
	if len(files) != len(want) {
		t.Fatalf("generated %v, want %v", names, want)
	}
	service := entries(t, files["charts/umbrella/charts/service-1.0.0.tgz"])
	library := files["charts/service/charts/library-0.2.0.tgz"]
	if service["service/charts/library-0.2.0.tgz"] != string(library) {
		t.Errorf("the packaged service does not hold its own library archive: %v", keys(service))
	}
	if _, copied := service["service/charts/library/x.yaml"]; copied {
		t.Error("what stood in the service's charts/ was packaged instead of its dependency archives")
	}
	if service["service/values.yaml"] != "replicas: 1\n" || service["service/Chart.yaml"] == "" {
		t.Errorf("the service's files are missing from its archive: %v", keys(service))
	}
	stray, err := Stray(root, files)
	if err != nil {
		t.Fatal(err)
	}
	if wantStray := []string{"charts/service/charts/library", "charts/umbrella/charts/leftover.tgz"}; !reflect.DeepEqual(stray, wantStray) {
		t.Errorf("stray = %v, want %v", stray, wantStray)
	}
}

func TestArchivesAreTheSameBytesOnEveryRun(t *testing.T) {
	root := tree.New(t, threeCharts)
	first, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	// A later run, after the files were touched: times must not leak in.
	for _, name := range []string{"charts/library/Chart.yaml", "charts/service/values.yaml"} {
		data, _ := os.ReadFile(filepath.Join(root, name))
		if err := os.WriteFile(filepath.Join(root, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	second, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Error("two runs on the same charts gave different archives")
	}
}

func TestBadDependenciesAreRefusedWithTheChartNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"a repository that is not a path": {map[string]string{
			"charts/a/Chart.yaml": "name: a\nversion: 1.0.0\ndependencies:\n- {name: b, repository: \"oci://example.com/charts\"}\n",
		}, `charts/a/Chart.yaml: dependency b comes from "oci://example.com/charts"; allowed: a file:// path`},
		"a version the chart is not": {map[string]string{
			"charts/a/Chart.yaml": "name: a\nversion: 1.0.0\ndependencies:\n- {name: b, version: 2.0.0, repository: \"file://../b\"}\n",
			"charts/b/Chart.yaml": "name: b\nversion: 1.0.0\n",
		}, "charts/a/Chart.yaml: dependency b wants version 2.0.0, charts/b/Chart.yaml is 1.0.0"},
		"a cycle": {map[string]string{
			"charts/a/Chart.yaml": "name: a\nversion: 1.0.0\ndependencies:\n- {name: b, repository: \"file://../b\"}\n",
			"charts/b/Chart.yaml": "name: b\nversion: 1.0.0\ndependencies:\n- {name: a, repository: \"file://../a\"}\n",
		}, "charts depend on each other in a cycle"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Generate(tree.New(t, tc.files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTheCommittedArchivesAreCurrent(t *testing.T) {
	// Three levels up from this package.
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	if stale, err := files.Stale(root); err != nil || len(stale) > 0 {
		t.Errorf("stale chart dependency archives, run `make generate`: %v (%v)", stale, err)
	}
	if stray, err := Stray(root, files); err != nil || len(stray) > 0 {
		t.Errorf("files in a charts/ directory that no dependency produces, run `make generate`: %v (%v)", stray, err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
