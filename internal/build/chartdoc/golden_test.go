package chartdoc

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected files under testdata/ from the generator's output")

// Each directory under testdata/ is a case named by the behaviour it shows:
// charts/ holds the input charts together with the files the generator must
// produce for them, or error.txt holds the error it must report instead.
func TestEachTestdataCaseGeneratesItsExpectedFilesOrError(t *testing.T) {
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", c.Name())
			charts := os.DirFS(filepath.Join(dir, "charts"))
			files, err := Generate(charts)
			if wantErr, readErr := os.ReadFile(filepath.Join(dir, "error.txt")); readErr == nil {
				checkError(t, dir, err, string(wantErr))
				return
			}
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			checkNoStrayOutput(t, charts, files)
			for name, got := range files {
				expected := filepath.Join(dir, "charts", filepath.FromSlash(name))
				if *update {
					if err := os.WriteFile(expected, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(expected)
				if err != nil {
					t.Fatalf("%v (run go test -update to write it)", err)
				}
				if string(got) != string(want) {
					t.Errorf("%s differs from the generated content:\n--- want\n%s\n--- got\n%s", expected, want, got)
				}
			}
		})
	}
}

func checkError(t *testing.T, dir string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Generate succeeded; want the error of %s/error.txt:\n%s", dir, want)
	}
	if *update {
		if err := os.WriteFile(filepath.Join(dir, "error.txt"), []byte(err.Error()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	var problems *Problems
	if !errors.As(err, &problems) {
		t.Fatalf("Generate returned %T (%v); want *Problems", err, err)
	}
	if got := err.Error() + "\n"; got != want {
		t.Errorf("error:\n%s\nwant:\n%s", got, want)
	}
}

// checkNoStrayOutput fails when a case holds a generated file the generator no
// longer writes, such as a schema for a library chart.
func checkNoStrayOutput(t *testing.T, charts fs.FS, files Files) {
	t.Helper()
	schemas, err := fs.Glob(charts, path.Join("*", schemaFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range schemas {
		if _, generated := files[name]; !generated {
			t.Errorf("%s is not generated, so the case must not hold it", name)
		}
	}
	for name := range files {
		if !strings.HasSuffix(name, schemaFile) && !strings.HasSuffix(name, readmeFile) {
			t.Errorf("generated %s, which is neither a schema nor a README", name)
		}
	}
}
