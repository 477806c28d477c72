package testenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CopyRepository copies into a temporary directory every file a commit of the
// working tree would hold (tracked, or new and not ignored: no .bin/, no
// .cache/), regular files with the given mode, links as links.
func CopyRepository(tb testing.TB, mode os.FileMode) string {
	tb.Helper()
	source := RepoRoot()
	dir := filepath.Join(tb.TempDir(), "repository")
	files := Run(tb, source, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for _, file := range strings.Split(strings.TrimSuffix(string(files), "\x00"), "\x00") {
		from, to := filepath.Join(source, file), filepath.Join(dir, filepath.FromSlash(file))
		info, err := os.Lstat(from)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree, not yet in the index
		}
		if err == nil {
			err = os.MkdirAll(filepath.Dir(to), 0o755)
		}
		if err == nil && info.Mode()&os.ModeSymlink != 0 {
			var link string
			if link, err = os.Readlink(from); err == nil {
				err = os.Symlink(link, to)
			}
		} else if err == nil {
			var data []byte
			if data, err = os.ReadFile(from); err == nil {
				err = os.WriteFile(to, data, mode)
			}
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
