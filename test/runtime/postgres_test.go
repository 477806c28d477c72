package runtime

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/manifests"
	"github.com/janovincze/philotes-deploy/internal/testsupport/servers"
)

// devPostgreSQL starts a local server with the settings the door's dev PostgreSQL
// StatefulSet passes as -c flags (those this server's version knows), then creates the roles
// and databases from the rendered init.sql, with the superuser password of the rendered Secret:
// the dev data service as the door deploys it, in a process instead of a pod.
func devPostgreSQL(t *testing.T, d door, extraSettings ...string) *servers.PostgreSQL {
	t.Helper()
	statefulSet := d.objects.Find("StatefulSet", "philotes-postgresql")
	if statefulSet == nil {
		t.Fatalf("the %s door deploys no dev PostgreSQL", d.name)
	}
	var args []string
	if err := manifests.Decode(manifests.Containers(manifests.PodSpec(statefulSet))[0], &args, "args"); err != nil {
		t.Fatal(err)
	}
	known := knownSettings(t)
	var settings []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] != "-c" {
			continue
		}
		name, _, _ := strings.Cut(args[i+1], "=")
		switch {
		case name == "dynamic_library_path":
			// The pod mounts wal2json at /extensions/wal2json; here it is the distribution's
			// package, in $libdir already.
		case known[name]:
			settings = append(settings, args[i+1])
		default:
			t.Logf("the local PostgreSQL (%s) does not know %s: left out", servers.PostgreSQLBinDir(t), args[i+1])
		}
	}
	server := servers.StartPostgreSQL(t, append(settings, extraSettings...)...)
	password := d.secret(t, "philotes-postgresql", "password")
	server.Query(t, "postgres", "ALTER ROLE postgres PASSWORD '"+strings.ReplaceAll(password, "'", "''")+"'")
	server.SuperuserPassword = password
	server.Query(t, "postgres", d.secret(t, "philotes-postgresql", "init.sql"))
	return server
}

// knownSettings are the parameter names of the installed server (postgres --describe-config).
func knownSettings(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(filepath.Join(servers.PostgreSQLBinDir(t), "postgres"), "--describe-config").Output()
	if err != nil {
		t.Fatalf("postgres --describe-config: %v", err)
	}
	known := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		name, _, _ := strings.Cut(line, "\t")
		known[name] = true
	}
	return known
}

// pgOverrides point a Job at the local server instead of <release>-postgresql.
func pgOverrides(server *servers.PostgreSQL) map[string]string {
	return map[string]string{"PGHOST": server.Host, "PGPORT": strconv.Itoa(server.Port),
		"PATH": server.BinDir + string(os.PathListSeparator) + os.Getenv("PATH")}
}

// Scripts shaped like Philotes' own (which are not copied here): the first creates a schema
// without IF NOT EXISTS, so it cannot run twice; with search_path philotes,public and no
// philotes schema yet, its function lands in public; both grant to the role philotes.
var schemaScripts = map[string]string{
	"01-init.sql": `CREATE SCHEMA cdc;
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;
GRANT ALL ON SCHEMA cdc TO philotes;`,
	"02-sources.sql": `CREATE SCHEMA IF NOT EXISTS philotes;
CREATE TABLE IF NOT EXISTS philotes.sources (id bigserial PRIMARY KEY, name text NOT NULL, updated_at timestamptz);
CREATE OR REPLACE TRIGGER sources_touch BEFORE UPDATE ON philotes.sources FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
GRANT ALL ON TABLE philotes.sources TO philotes;`,
}

func writeSchemaScripts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, sql := range schemaScripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSchemaJobAppliesEachScriptOnce(t *testing.T) {
	forEachDoor(t, func(t *testing.T, d door) {
		server := devPostgreSQL(t, d)
		job := d.job(t, "schema")
		overrides := pgOverrides(server)
		overrides["SCRIPTS_DIR"] = writeSchemaScripts(t) // the pod mounts the ConfigMap there
		job.run(t, overrides).succeeds(t, "applying 01-init.sql", "applying 02-sources.sql", "schema is up to date (2 scripts)")
		if got := server.Query(t, "philotes", "SELECT string_agg(name, ',' ORDER BY name) FROM philotes_deploy.applied_scripts"); got != "01-init.sql,02-sources.sql" {
			t.Errorf("recorded scripts = %q", got)
		}
		if got := server.Query(t, "philotes", "SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE proname = 'touch_updated_at'"); got != "public" {
			t.Errorf("the first script's function is in schema %q, want public (as Philotes' scripts put it)", got)
		}
		job.run(t, overrides).succeeds(t, "none pending")
		if got := server.Query(t, "philotes", "SELECT count(*) FROM philotes_deploy.applied_scripts"); got != "2" {
			t.Errorf("after a second run %s scripts are recorded, want 2", got)
		}
	})
}

func TestSchemaJobRefusesBadInputAndChangesNothing(t *testing.T) {
	forEachDoor(t, func(t *testing.T, d door) {
		server := devPostgreSQL(t, d)
		job := d.job(t, "schema")
		scripts := writeSchemaScripts(t)
		server.Query(t, "postgres", "CREATE ROLE weak LOGIN PASSWORD 'weak-password'; CREATE DATABASE locked OWNER postgres")
		cases := map[string]struct {
			overrides map[string]string
			fragments []string
		}{
			"a wrong password": {map[string]string{"PGPASSWORD": "not-the-password"},
				[]string{"philotes schema: cannot read what is applied", "password authentication failed"}},
			"a role without the schema privileges": {map[string]string{"PGUSER": "weak", "PGPASSWORD": "weak-password", "PGDATABASE": "locked"},
				[]string{"weak cannot apply 2 pending script(s) to locked", "weak lacks CREATE on database locked", "GRANT CREATE ON DATABASE locked TO weak",
					"lacks CREATE on schema public"}},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				overrides := pgOverrides(server)
				overrides["SCRIPTS_DIR"] = scripts
				for key, value := range c.overrides {
					overrides[key] = value
				}
				job.run(t, overrides).failsWithOneLine(t, c.fragments...)
				for _, database := range []string{"philotes", "locked"} {
					if got := server.Query(t, database, "SELECT string_agg(nspname, ',') FROM pg_namespace WHERE nspname IN ('philotes_deploy', 'cdc', 'philotes')"); got != "" {
						t.Errorf("a refused run left the schemas %s in %s", got, database)
					}
				}
			})
		}
		// The role the scripts grant to must exist: on a server without it, the Job says so.
		bare := servers.StartPostgreSQL(t)
		bare.Query(t, "postgres", "CREATE DATABASE philotes")
		overrides := pgOverrides(bare)
		overrides["SCRIPTS_DIR"], overrides["PGUSER"], overrides["PGPASSWORD"] = scripts, "postgres", bare.SuperuserPassword
		job.run(t, overrides).failsWithOneLine(t, "the role philotes does not exist (the scripts grant to it): CREATE ROLE philotes")
	})
}

// wal2jsonInsert matches the insert of the demo row in wal2json's output (format 1).
var wal2jsonInsert = regexp.MustCompile(`"kind":"insert","schema":"public","table":"items",.*"streamed through wal2json"`)

func TestSourcePreparationCreatesAWal2jsonSlotThatStreams(t *testing.T) {
	forEachDoor(t, func(t *testing.T, d door) {
		server := devPostgreSQL(t, d)
		job := d.job(t, "prepare")
		slot := job.env["SLOT"]
		first := job.run(t, pgOverrides(server))
		first.succeeds(t, "created the logical replication slot "+slot+" (wal2json) in demo")
		// Dev runs with wal_sender_timeout 0: nothing to warn about.
		if strings.Contains(first.stdout, "wal_sender_timeout") {
			t.Errorf("the dev server keeps the worker connected, yet the Job warns:\n%s", first)
		}
		if _, err := server.QueryAs("demo", "philotes_replication", d.secret(t, "philotes-worker-demo", "source-password"),
			"CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items VALUES (1, 'streamed through wal2json')"); err != nil {
			t.Fatalf("as the worker's role, with its rendered password: %v", err)
		}
		changes := server.Query(t, "demo", "SELECT string_agg(data, E'\\n') FROM pg_logical_slot_peek_changes('"+slot+"', NULL, NULL)")
		if !wal2jsonInsert.MatchString(changes) {
			t.Errorf("the slot %s does not show the insert as wal2json JSON:\n%s", slot, changes)
		}
		job.run(t, pgOverrides(server)).succeeds(t, "the logical replication slot "+slot+" (wal2json) exists")
		if got := server.Query(t, "demo", "SELECT count(*) FROM pg_replication_slots"); got != "1" {
			t.Errorf("after a second run there are %s slots, want 1", got)
		}
		// A role setting above 0 for the worker would cut its connection: the Job warns.
		server.Query(t, "postgres", "ALTER ROLE philotes_replication SET wal_sender_timeout = '30s'")
		job.run(t, pgOverrides(server)).succeeds(t, "warning: wal_sender_timeout is 30s for philotes_replication",
			"ALTER ROLE philotes_replication SET wal_sender_timeout = 0")
	})
}

func TestSourcePreparationRefusesBadInputAndChangesNothing(t *testing.T) {
	forEachDoor(t, func(t *testing.T, d door) {
		server := devPostgreSQL(t, d)
		job := d.job(t, "prepare")
		server.Query(t, "postgres", "CREATE ROLE no_replication LOGIN PASSWORD 'p'")
		// A server that cannot load wal2json: its library path leaves out the package's directory.
		withoutWal2json := devPostgreSQL(t, d, "dynamic_library_path=/nonexistent")
		cases := map[string]struct {
			server    *servers.PostgreSQL
			overrides map[string]string
			fragments []string
		}{
			"a wrong password": {server, map[string]string{"PGPASSWORD": "not-the-password"},
				[]string{"password authentication failed"}},
			"a role without REPLICATION": {server, map[string]string{"WORKER_USER": "no_replication"},
				[]string{"source demo (127.0.0.1:", "the worker's role no_replication lacks REPLICATION: ALTER ROLE no_replication REPLICATION"}},
			"a source without wal2json": {withoutWal2json, nil,
				[]string{"source demo: the wal2json output plugin is not installed on 127.0.0.1"}},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				overrides := pgOverrides(c.server)
				for key, value := range c.overrides {
					overrides[key] = value
				}
				job.run(t, overrides).failsWithOneLine(t, c.fragments...)
				if got := c.server.Query(t, "demo", "SELECT count(*) FROM pg_replication_slots"); got != "0" {
					t.Errorf("a refused run left %s slots", got)
				}
			})
		}
	})
}
