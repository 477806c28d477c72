// Package tarball writes reproducible tar.gz archives, the form of a packaged
// chart and of a Flux artifact: entries sorted by name, regular files only, one
// fixed time, so that the same files give the same bytes.
package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"maps"
	"slices"
	"time"
)

// modTime is every entry's time; nothing that reads these archives uses it.
var modTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Write archives files (slash paths to contents) at the gzip level given.
func Write(files map[string][]byte, level int) ([]byte, error) {
	var out bytes.Buffer
	zipped, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		return nil, err
	}
	archive := tar.NewWriter(zipped)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		header := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(files[name])), ModTime: modTime, Format: tar.FormatPAX}
		if err := archive.WriteHeader(header); err != nil {
			return nil, err
		}
		if _, err := archive.Write(files[name]); err != nil {
			return nil, err
		}
	}
	if err := archive.Close(); err != nil {
		return nil, err
	}
	if err := zipped.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
