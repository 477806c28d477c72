// Package servers runs, for one test, the real programs that the deployment's Jobs and
// workers talk to, where this machine can run them: PostgreSQL from the distribution's
// packages (with wal2json), SeaweedFS as an S3 server built from its pinned Go module, and a
// test double of the Lakekeeper catalog, which cannot run here. Every server listens on
// 127.0.0.1 only, in a temporary directory, and is stopped by the test's cleanup; a server
// started as a child of the test binary dies with it.
package servers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/command"
	"github.com/janovincze/philotes-deploy/internal/testsupport/process"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
	// superuser is the bootstrap superuser of a test server.
	superuser = "postgres"
)

// PostgreSQL is a running server for one test.
type PostgreSQL struct {
	Host string // always 127.0.0.1
	Port int
	// SuperuserPassword is the password of the superuser postgres (scram-sha-256 over TCP).
	SuperuserPassword string
	// BinDir holds the server's client programs (psql, pg_isready) too.
	BinDir string
	dir    string
}

// StartPostgreSQL initialises a cluster in a temporary directory and runs it on a free port
// of 127.0.0.1 with wal_level=logical and the given settings ("name=value", passed as -c).
// PostgreSQL refuses to run as root: as root, the server runs as the packages' postgres user.
func StartPostgreSQL(tb testing.TB, settings ...string) *PostgreSQL {
	tb.Helper()
	binDir := PostgreSQLBinDir(tb)
	credential, err := serverCredential()
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "philotes-postgres-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	// The server's user must reach its directory; nothing secret lives there but the test's.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	p := &PostgreSQL{Host: "127.0.0.1", SuperuserPassword: "test-superuser-password", BinDir: binDir, dir: dir}
	passwordFile := filepath.Join(dir, "superuser-password")
	if err := os.WriteFile(passwordFile, []byte(p.SuperuserPassword+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := chownAll(credential, dir, passwordFile); err != nil {
		tb.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(binDir, "initdb"), "--pgdata", data, "--username", superuser,
		"--pwfile", passwordFile, "--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	initdb.SysProcAttr = process.Attributes(credential)
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	ports, err := process.FreePorts(1)
	if err != nil {
		tb.Fatal(err)
	}
	p.Port = ports[0]
	args := []string{"-D", data, "-c", "listen_addresses=127.0.0.1", "-c", "port=" + strconv.Itoa(p.Port),
		"-c", "unix_socket_directories=" + dir, "-c", "wal_level=logical", "-c", "fsync=off"}
	for _, setting := range settings {
		args = append(args, "-c", setting)
	}
	server, err := process.Start(filepath.Join(dir, "server.log"), credential, filepath.Join(binDir, "postgres"), args...)
	if err != nil {
		tb.Fatal(err)
	}
	// SIGINT is PostgreSQL's fast shutdown: it ends the sessions and exits cleanly.
	tb.Cleanup(func() { server.Stop(syscall.SIGINT, stopTimeout) })
	err = waitUntil(startTimeout, server, func() error {
		return exec.Command(filepath.Join(binDir, "pg_isready"), "--host", p.Host, "--port", strconv.Itoa(p.Port), "--quiet").Run()
	})
	if err != nil {
		tb.Fatalf("PostgreSQL on 127.0.0.1:%d did not start: %v", p.Port, err)
	}
	return p
}

// Env is the libpq environment of a client: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD.
func (p *PostgreSQL) Env(database, user, password string) []string {
	return []string{"PGHOST=" + p.Host, "PGPORT=" + strconv.Itoa(p.Port), "PGDATABASE=" + database,
		"PGUSER=" + user, "PGPASSWORD=" + password, "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5"}
}

// Query runs SQL as the superuser in a database and returns psql's unaligned output without
// its trailing newline; an error fails the test.
func (p *PostgreSQL) Query(tb testing.TB, database, sql string) string {
	tb.Helper()
	out, err := p.QueryAs(database, superuser, p.SuperuserPassword, sql)
	if err != nil {
		tb.Fatalf("psql %s: %v", database, err)
	}
	return out
}

// QueryAs runs SQL as a role; the error carries psql's stderr.
func (p *PostgreSQL) QueryAs(database, user, password, sql string) (string, error) {
	// On stdin, not as --command: each statement then runs on its own, as CREATE DATABASE must.
	out, err := command.RunWithInput("", p.Env(database, user, password), strings.NewReader(sql),
		filepath.Join(p.BinDir, "psql"), "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "--set", "ON_ERROR_STOP=1", "--file", "-")
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// PostgreSQLBinDir finds the newest installed PostgreSQL server (Debian: /usr/lib/postgresql/N/bin).
func PostgreSQLBinDir(tb testing.TB) string {
	tb.Helper()
	candidates, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	slices.SortFunc(candidates, func(a, b string) int { return majorOf(b) - majorOf(a) })
	if len(candidates) == 0 {
		testenv.Missing(tb, "a PostgreSQL server (/usr/lib/postgresql/<major>/bin/postgres)", "runtime-deps")
		return ""
	}
	return filepath.Dir(candidates[0])
}

func majorOf(path string) int {
	major, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return major
}

// serverCredential is the user a server runs as: the test's own, or postgres when the test
// runs as root.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	account, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running PostgreSQL as root is refused, and there is no postgres user to run it as (the postgresql package creates one): %w", err)
	}
	uid, _ := strconv.ParseUint(account.Uid, 10, 32)
	gid, _ := strconv.ParseUint(account.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chownAll(credential *syscall.Credential, paths ...string) error {
	if credential == nil {
		return nil
	}
	for _, path := range paths {
		if err := os.Chown(path, int(credential.Uid), int(credential.Gid)); err != nil {
			return err
		}
	}
	return nil
}

// waitUntil polls ready until it succeeds, the server exits, or the timeout passes.
func waitUntil(timeout time.Duration, server *process.Process, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-server.Exited():
			return server.Failure()
		default:
		}
		if time.Now().After(deadline) {
			return errors.Join(err, fmt.Errorf("not ready after %s:\n%s", timeout, server.LogTail()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
