package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// openPG opens a store on a fresh PostgreSQL database with its key in a fresh folder, and
// answers the database's URL too.
func openPG(t *testing.T) (*Store, string) {
	t.Helper()
	url := postgrestest.Shared(t).NewDatabase(t)
	s, err := OpenWith(context.Background(), Options{Database: url, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// Three replicas starting at once on an empty database migrate it once and agree on one
// key: given the same key file all three start; each with a key of its own, one starts and
// the others refuse, naming the key to copy.
func TestPostgresFirstStartOfThree(t *testing.T) {
	srv := postgrestest.Shared(t)
	for _, shared := range []bool{true, false} {
		url := srv.NewDatabase(t)
		dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
		if shared {
			key := make([]byte, 32)
			for i := range key {
				key[i] = byte(i)
			}
			for _, d := range dirs {
				if err := os.WriteFile(filepath.Join(d, KeyFile), key, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		errs := make([]error, len(dirs))
		var wg sync.WaitGroup
		for i, d := range dirs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := OpenWith(context.Background(), Options{Database: url, Dir: d})
				if err == nil {
					_, err = s.CreateSource(context.Background(), "p", "slug-"+filepath.Base(d), "n")
					s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		started, refused := 0, 0
		for i, err := range errs {
			switch {
			case err == nil:
				started++
				if _, serr := os.Stat(filepath.Join(dirs[i], KeyFile)); serr != nil {
					t.Errorf("a replica that started has no key file: %v", serr)
				}
			case errors.Is(err, ErrWrongKey) && strings.Contains(err.Error(), "secret.key"):
				refused++
				if _, serr := os.Stat(filepath.Join(dirs[i], KeyFile)); !os.IsNotExist(serr) {
					t.Errorf("a refused replica kept a key of its own: %v", serr)
				}
			default:
				t.Errorf("shared key %v: unexpected error: %v", shared, err)
			}
		}
		if shared && started != 3 || !shared && (started != 1 || refused != 2) {
			t.Errorf("shared key %v: %d started, %d refused", shared, started, refused)
		}
		var versions int
		s, err := OpenWith(context.Background(), Options{Database: url, Dir: dirs[0]})
		if shared || errs[0] == nil {
			if err != nil {
				t.Fatal(err)
			}
			if err := s.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM schema_version`).Scan(&versions); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if want := schemaVersion() - postgresBaselineVersion + 1; versions != want {
				t.Errorf("schema_version has %d rows, want %d (migrated more than once?)", versions, want)
			}
		} else if err == nil {
			s.Close()
		}
	}
}

// A replica whose key file is not the installation's refuses to start, and says so.
func TestPostgresWrongKeyRefused(t *testing.T) {
	s, url := openPG(t)
	s.Close()
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, KeyFile), make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenWith(context.Background(), Options{Database: url, Dir: other})
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "is not the key of the installation") {
		t.Fatalf("a replica with another key: %v", err)
	}
	_, err = OpenWith(context.Background(), Options{Database: url, Dir: t.TempDir()})
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "copy secret.key") {
		t.Fatalf("a replica with no key: %v", err)
	}
}

// Bad URLs, refused logins, missing databases and unreachable servers get clear errors.
func TestPostgresBadDatabaseErrors(t *testing.T) {
	srv := postgrestest.Shared(t)
	ctx := context.Background()
	for url, want := range map[string]string{
		"postgres://a b@/x":         "not a PostgreSQL URL",
		"mysql://x":                 "expected empty",
		srv.DSN("no_such_database"): "does not exist",
		strings.Replace(srv.DSN("postgres"), "postgres@", "nobody_here@", 1): "refused the login",
		"postgres://postgres@/x?host=/nonexistent-sock":                      "unreachable",
	} {
		_, err := OpenWith(ctx, Options{Database: url, Dir: t.TempDir(), ConnectWait: 1})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", url, err, want)
		}
	}
}

// columnsOf describes a schema: each table's columns (name, type class, not null) and each
// index (table, columns, unique), as comparable lines.
func columnsOf(t *testing.T, s *Store) []string {
	t.Helper()
	ctx := context.Background()
	var q string
	if s.dialect == postgresDialect {
		q = `SELECT c.table_name || '.' || c.column_name || ' ' || CASE WHEN c.data_type IN ('bigint','integer') THEN 'int'
			WHEN c.data_type = 'bytea' THEN 'blob' ELSE c.data_type END || CASE WHEN c.is_nullable = 'NO' THEN ' not null' ELSE '' END
			FROM information_schema.columns c WHERE c.table_schema = 'public'
			UNION ALL SELECT i.tablename || ' index (' || regexp_replace(substring(i.indexdef from '\((.*)\)'), '\s', '', 'g') || ')' ||
			CASE WHEN i.indexdef LIKE 'CREATE UNIQUE%' THEN ' unique' ELSE '' END FROM pg_indexes i WHERE i.schemaname = 'public' AND i.indexname NOT LIKE '%_pkey'
			UNION ALL SELECT k.table_name || ' primary key (' || string_agg(k.column_name, ',' ORDER BY k.ordinal_position) || ')'
			FROM information_schema.table_constraints c JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
			WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = 'public' GROUP BY k.table_name`
	} else {
		q = `SELECT m.name || '.' || p.name || ' ' || CASE lower(p.type) WHEN 'integer' THEN 'int' WHEN 'blob' THEN 'blob' ELSE lower(p.type) END ||
			CASE WHEN p."notnull" OR p.pk AND lower(p.type) != 'integer' THEN ' not null' WHEN p.pk THEN ' not null' ELSE '' END
			FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
			UNION ALL SELECT m.name || ' index (' || (SELECT group_concat(ii.name, ',') FROM pragma_index_info(l.name) ii) || ')' ||
			CASE WHEN l."unique" THEN ' unique' ELSE '' END FROM sqlite_master m, pragma_index_list(m.name) l
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND l.origin != 'pk'
			UNION ALL SELECT m.name || ' primary key (' || (SELECT group_concat(name, ',') FROM (SELECT p.name FROM pragma_table_info(m.name) p
			WHERE p.pk > 0 ORDER BY p.pk)) || ')' FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
			AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.pk > 0)`
	}
	rows, err := s.read.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// The PostgreSQL baseline plus the later migrations make the schema SQLite's migrations make:
// the same tables, columns (type class, nullability) and indexes.
func TestSchemasAreEquivalent(t *testing.T) {
	lite, _ := open(t)
	pg, _ := openPG(t)
	a, b := columnsOf(t, lite), columnsOf(t, pg)
	seen := map[string]int{}
	for _, l := range a {
		seen[l]++
	}
	for _, l := range b {
		seen[l]--
	}
	for l, n := range seen {
		if n > 0 {
			t.Errorf("only in SQLite: %s", l)
		} else if n < 0 {
			t.Errorf("only in PostgreSQL: %s", l)
		}
	}
	if len(a) < 100 {
		t.Errorf("the schema description has only %d lines: %v", len(a), a)
	}
}

// A database out of reach is told apart from answers about the data: a stopped server's
// errors are Unavailable, a missing row or a reused code is not.
func TestUnavailableIsAnOutage(t *testing.T) {
	srv := postgrestest.Start(t)
	url := srv.NewDatabase(t)
	s, err := OpenWith(context.Background(), Options{Database: url, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.AuthRequestByCode(ctx, "nothing"); !errors.Is(err, ErrNotFound) || Unavailable(err) {
		t.Fatalf("a missing code: %v (unavailable %v)", err, Unavailable(err))
	}
	if Unavailable(ErrCodeReused) || Unavailable(nil) {
		t.Fatal("a reused code or no error counted as an outage")
	}
	srv.Stop(t)
	_, err = s.AuthRequestByCode(ctx, "nothing")
	if err == nil || !Unavailable(err) {
		t.Fatalf("with the server stopped: %v (unavailable %v)", err, Unavailable(err))
	}
	srv.Start(t)
	if _, err := s.AuthRequestByCode(ctx, "nothing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the restart: %v", err)
	}
	lite, _ := open(t)
	lite.Close()
	if _, err := lite.AuthRequestByCode(ctx, "nothing"); !Unavailable(err) {
		t.Fatalf("a closed SQLite store: %v", err)
	}
}

// A replica of an older binary refuses a database a newer one migrated, on PostgreSQL too.
func TestPostgresNewerSchemaRefused(t *testing.T) {
	s, url := openPG(t)
	if _, err := s.db.ExecContext(context.Background(), `INSERT INTO schema_version (version) VALUES (?)`, schemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenWith(context.Background(), Options{Database: url, Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("open a newer database: %v", err)
	}
}
