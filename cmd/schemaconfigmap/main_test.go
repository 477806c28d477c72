package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A release archive served over HTTP, as a forge serves it, becomes the ConfigMap file; a
// version that is not published fails and leaves no file behind.
func TestVersionDownloadsTheReleaseArchive(t *testing.T) {
	var archive bytes.Buffer
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	sql := "CREATE SCHEMA a;\n"
	if err := tw.WriteHeader(&tar.Header{Name: "philotes-0.1.0/deployments/docker/init-scripts/01-init.sql", Mode: 0o644, Size: int64(len(sql)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(sql))
	tw.Close()
	gz.Close()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/archive/v0.1.0.tar.gz" {
			http.NotFound(w, r)
			return
		}
		w.Write(archive.Bytes())
	}))
	defer server.Close()
	output := filepath.Join(t.TempDir(), "schema", "philotes-schema.yaml")
	if err := run("", "v0.1.0", server.URL+"/archive/%s.tar.gz", "philotes-schema", "philotes-dev", output); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(output)
	if err != nil || !strings.Contains(string(written), "01-init.sql: |\n    CREATE SCHEMA a;") {
		t.Errorf("written ConfigMap (%v):\n%s", err, written)
	}
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	err = run("", "v9.9.9", server.URL+"/archive/%s.tar.gz", "philotes-schema", "", missing)
	if err == nil || !strings.Contains(err.Error(), "404 Not Found (is the version a release tag") {
		t.Errorf("an unpublished version: %v", err)
	}
	if _, statErr := os.Stat(missing); statErr == nil {
		t.Errorf("a failed download wrote %s", missing)
	}
	if err := run("", "", archiveURL, "philotes-schema", "", ""); err == nil || !strings.Contains(err.Error(), "exactly one of -source") {
		t.Errorf("neither -source nor -version: %v", err)
	}
}
