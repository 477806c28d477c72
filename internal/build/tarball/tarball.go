// Package tarball writes reproducible tar.gz archives, the form of a packaged
// chart, of a Flux artifact and of an image layer: entries sorted by name, one
// fixed time, no owner, so that the same files give the same bytes.
package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"maps"
	"path"
	"slices"
	"time"
)

// modTime is every entry's time; nothing that reads these archives uses it.
var modTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one regular file of a tree: its content and permission bits.
type File struct {
	Content []byte
	Mode    int64
}

// Write archives files (slash paths to contents, each mode 0644) at the gzip
// level given, regular files only.
func Write(files map[string][]byte, level int) ([]byte, error) {
	entries := map[string]File{}
	for name, content := range files {
		entries[name] = File{Content: content, Mode: 0o644}
	}
	return write(entries, false, level)
}

// WriteTree archives files with their modes and, before them, every directory
// above them (mode 0755): the form of an image layer, which a container runtime
// unpacks as the root of a filesystem.
func WriteTree(files map[string]File, level int) ([]byte, error) {
	return write(files, true, level)
}

func write(files map[string]File, withDirectories bool, level int) ([]byte, error) {
	headers := map[string]*tar.Header{}
	for name, file := range files {
		headers[name] = &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: file.Mode, Size: int64(len(file.Content))}
		for dir := path.Dir(name); withDirectories && dir != "." && dir != "/"; dir = path.Dir(dir) {
			headers[dir+"/"] = &tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755}
		}
	}
	var out bytes.Buffer
	zipped, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		return nil, err
	}
	archive := tar.NewWriter(zipped)
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		header := headers[name]
		header.ModTime, header.Format = modTime, tar.FormatPAX
		if err := archive.WriteHeader(header); err != nil {
			return nil, err
		}
		if header.Typeflag == tar.TypeReg {
			if _, err := archive.Write(files[name].Content); err != nil {
				return nil, err
			}
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
