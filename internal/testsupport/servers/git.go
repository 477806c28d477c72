package servers

import (
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/command"
)

// GitServer serves Git repositories over smart HTTP on 127.0.0.1, through Git's
// own git http-backend, as a forge would to Flux's source-controller.
type GitServer struct {
	// Root holds the bare repositories, <name>.git.
	Root string
	// URL is the base URL: <URL>/<name>.git clones a repository.
	URL    string
	server *http.Server
}

// StartGitServer serves the bare repositories under a new temporary directory
// until the test ends.
func StartGitServer(tb testing.TB) *GitServer {
	tb.Helper()
	execPath, err := command.Run("", nil, "git", "--exec-path")
	if err != nil {
		tb.Skipf("git is not installed: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		tb.Fatalf("git http-backend: %v", err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	g := &GitServer{Root: tb.TempDir(), URL: "http://" + listener.Addr().String()}
	g.server = &http.Server{
		Handler: &cgi.Handler{
			Path: backend,
			Env: []string{
				"GIT_PROJECT_ROOT=" + g.Root,
				"GIT_HTTP_EXPORT_ALL=1",
				// The repositories belong to the test's user; git refuses to serve a
				// directory another user owns unless it is marked safe.
				"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=*",
			},
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = g.server.Serve(listener) }()
	tb.Cleanup(func() { _ = g.server.Close() })
	return g
}

// Publish commits the files of dir (every file, as they are) to the bare
// repository <name>.git on branch main, creating it on the first call, and
// returns the commit. Each call is one commit on top of the last.
func (g *GitServer) Publish(tb testing.TB, name, dir, message string) string {
	tb.Helper()
	bare := filepath.Join(g.Root, name+".git")
	if _, err := os.Stat(bare); err != nil {
		g.git(tb, "", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	}
	work := tb.TempDir()
	g.git(tb, work, "clone", "--quiet", bare, ".")
	g.git(tb, work, "checkout", "--quiet", "-B", "main")
	// Replace the tree: what dir holds now is the commit.
	entries, err := os.ReadDir(work)
	if err != nil {
		tb.Fatal(err)
	}
	for _, entry := range entries {
		if entry.Name() != ".git" {
			if err := os.RemoveAll(filepath.Join(work, entry.Name())); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := os.CopyFS(work, os.DirFS(dir)); err != nil {
		tb.Fatal(err)
	}
	g.git(tb, work, "add", "--all")
	g.git(tb, work, "-c", "user.name=philotes-tests", "-c", "user.email=tests@philotes.invalid", "commit", "--quiet", "--allow-empty", "-m", message)
	g.git(tb, work, "push", "--quiet", "origin", "main")
	return strings.TrimSpace(g.git(tb, work, "rev-parse", "HEAD"))
}

func (g *GitServer) git(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	out, err := command.Run(dir, []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + g.Root}, "git", args...)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}
