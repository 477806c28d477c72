package schemascripts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// archive builds a source archive as a forge serves it: every entry under one top directory.
func archive(t *testing.T, files map[string]string) *bytes.Buffer {
	t.Helper()
	var buffer bytes.Buffer
	gz := gzip.NewWriter(&buffer)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "philotes-0.1.0/" + name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return &buffer
}

func TestFromArchiveTakesOnlyTheInitScripts(t *testing.T) {
	scripts, err := FromArchive(archive(t, map[string]string{
		ScriptsDir + "/01-init.sql":   "CREATE SCHEMA a;",
		ScriptsDir + "/02-more.sql":   "CREATE SCHEMA b;",
		ScriptsDir + "/README.md":     "not SQL",
		"migrations/99-other.sql":     "elsewhere",
		ScriptsDir + "/nested/x.sql":  "deeper",
		"deployments/docker/init.sql": "beside",
	}), "test archive")
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) != 2 || scripts["01-init.sql"] != "CREATE SCHEMA a;" || scripts["02-more.sql"] != "CREATE SCHEMA b;" {
		t.Errorf("scripts = %v, want the two .sql files of %s", scripts, ScriptsDir)
	}
}

func TestBadSourcesAreRefusedByName(t *testing.T) {
	empty := t.TempDir()
	badName := t.TempDir()
	if err := os.WriteFile(filepath.Join(badName, "01 init.sql"), []byte("SELECT 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		read func() (Scripts, error)
		want string
	}{
		"an archive without scripts": {func() (Scripts, error) {
			return FromArchive(archive(t, map[string]string{"README.md": "x"}), "v9.9.9")
		}, "v9.9.9 holds no .sql file under <top directory>/" + ScriptsDir},
		"not an archive":                  {func() (Scripts, error) { return FromArchive(strings.NewReader("<html>"), "v0.1.0") }, "v0.1.0 is not a .tar.gz archive"},
		"a directory without scripts":     {func() (Scripts, error) { return FromDir(empty) }, "holds no .sql file, nor does its " + ScriptsDir},
		"a name that is no ConfigMap key": {func() (Scripts, error) { return FromDir(badName) }, `the script name "01 init.sql" cannot be a ConfigMap key`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := c.read(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestConfigMapHoldsOneKeyPerScript(t *testing.T) {
	dir := filepath.Join(t.TempDir(), filepath.FromSlash(ScriptsDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, sql := range map[string]string{"01-init.sql": "CREATE SCHEMA a;\n", "02-more.sql": "CREATE SCHEMA b;\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scripts, err := FromDir(filepath.Dir(filepath.Dir(filepath.Dir(dir))))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := scripts.ConfigMap("philotes-schema", "philotes-dev", "v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	var configMap struct {
		Kind     string
		Metadata struct {
			Name, Namespace string
			Annotations     map[string]string
		}
		Data map[string]string
	}
	if err := yaml.Unmarshal(manifest, &configMap); err != nil {
		t.Fatal(err)
	}
	if configMap.Kind != "ConfigMap" || configMap.Metadata.Name != "philotes-schema" || configMap.Metadata.Namespace != "philotes-dev" ||
		configMap.Metadata.Annotations["philotes.io/schema-source"] != "v0.1.0" || len(configMap.Data) != 2 || configMap.Data["02-more.sql"] != "CREATE SCHEMA b;\n" {
		t.Errorf("ConfigMap:\n%s", manifest)
	}
}
