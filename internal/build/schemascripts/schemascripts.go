// Package schemascripts builds the ConfigMap the schema Job applies: the SQL scripts that ship
// in a Philotes source release (deployments/docker/init-scripts), read from a checkout or from
// the release's source archive. The scripts are Philotes' own and are never copied into this
// repository; the ConfigMap is built on the user's machine from the release they run.
package schemascripts

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// ScriptsDir is where a Philotes source release keeps its SQL scripts.
const ScriptsDir = "deployments/docker/init-scripts"

// maxConfigMapBytes is the API server's limit on a ConfigMap's data.
const maxConfigMapBytes = 1 << 20

// scriptName is what a ConfigMap key may be and what the schema Job accepts.
var scriptName = regexp.MustCompile(`^[A-Za-z0-9._-]+\.sql$`)

// Scripts maps a script's file name to its SQL.
type Scripts map[string]string

// FromDir reads the *.sql files of a source checkout's ScriptsDir, or of dir itself when it
// holds them directly.
func FromDir(dir string) (Scripts, error) {
	for _, candidate := range []string{filepath.Join(dir, filepath.FromSlash(ScriptsDir)), dir} {
		entries, err := os.ReadDir(candidate)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		scripts := Scripts{}
		for _, entry := range entries {
			if entry.IsDir() || !strings.HasSuffix(entry.Name(), ".sql") {
				continue
			}
			sql, err := os.ReadFile(filepath.Join(candidate, entry.Name()))
			if err != nil {
				return nil, err
			}
			scripts[entry.Name()] = string(sql)
		}
		if len(scripts) > 0 {
			return scripts, scripts.check(candidate)
		}
	}
	return nil, fmt.Errorf("%s holds no .sql file, nor does its %s: give a checkout of Philotes' source release", dir, ScriptsDir)
}

// FromArchive reads the scripts from a release's source archive (.tar.gz), whose entries sit
// under one top directory (<repository>-<version>/).
func FromArchive(archive io.Reader, origin string) (Scripts, error) {
	gz, err := gzip.NewReader(archive)
	if err != nil {
		return nil, fmt.Errorf("%s is not a .tar.gz archive: %w", origin, err)
	}
	defer gz.Close()
	reader := tar.NewReader(gz)
	scripts := Scripts{}
	for {
		header, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", origin, err)
		}
		_, inRelease, found := strings.Cut(header.Name, "/")
		if !found || header.Typeflag != tar.TypeReg || path.Dir(inRelease) != ScriptsDir || !strings.HasSuffix(inRelease, ".sql") {
			continue
		}
		if header.Size > maxConfigMapBytes {
			return nil, fmt.Errorf("%s: %s has %d bytes, more than a ConfigMap holds", origin, inRelease, header.Size)
		}
		sql, err := io.ReadAll(reader)
		if err != nil {
			return nil, fmt.Errorf("reading %s from %s: %w", inRelease, origin, err)
		}
		scripts[path.Base(inRelease)] = string(sql)
	}
	if len(scripts) == 0 {
		return nil, fmt.Errorf("%s holds no .sql file under <top directory>/%s: is it a Philotes source release?", origin, ScriptsDir)
	}
	return scripts, scripts.check(origin)
}

func (s Scripts) check(origin string) error {
	size := 0
	for _, name := range slices.Sorted(maps.Keys(s)) {
		if !scriptName.MatchString(name) {
			return fmt.Errorf("%s: the script name %q cannot be a ConfigMap key (allowed: letters, digits, . _ -, ending in .sql)", origin, name)
		}
		size += len(name) + len(s[name])
	}
	if size > maxConfigMapBytes {
		return fmt.Errorf("%s: the scripts have %d bytes, more than the %d a ConfigMap holds", origin, size, maxConfigMapBytes)
	}
	return nil
}

// ConfigMap is the manifest of the scripts as a ConfigMap, one key per script; source says
// where they came from (a release version or a directory), as an annotation.
func (s Scripts) ConfigMap(name, namespace, source string) ([]byte, error) {
	metadata := map[string]any{
		"name":        name,
		"labels":      map[string]string{"app.kubernetes.io/part-of": "philotes", "app.kubernetes.io/component": "schema"},
		"annotations": map[string]string{"philotes.io/schema-source": source},
	}
	if namespace != "" {
		metadata["namespace"] = namespace
	}
	return yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": map[string]string(s)})
}
