package postgrestest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { Main(m) }

// connect opens dsn with pgx, closed at the end of the test.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// tableExists reports whether table t1 is visible on conn.
func tableExists(t *testing.T, conn *pgx.Conn) bool {
	t.Helper()
	var found bool
	if err := conn.QueryRow(context.Background(), `SELECT to_regclass('public.t1') IS NOT NULL`).Scan(&found); err != nil {
		t.Fatalf("look for t1: %v", err)
	}
	return found
}

func TestDatabasesAreSeparate(t *testing.T) {
	srv := Start(t)
	dsnA, dsnB := srv.NewDatabase(t), srv.NewDatabase(t)
	if dsnA == dsnB {
		t.Fatalf("two databases share the DSN %s", dsnA)
	}
	for _, dsn := range []string{dsnA, dsnB} {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("pgx cannot parse %s: %v", dsn, err)
		}
		if cfg.Host != srv.SocketDir() || cfg.User != "postgres" {
			t.Fatalf("%s parses to host %q user %q, want host %q user postgres", dsn, cfg.Host, cfg.User, srv.SocketDir())
		}
	}
	a, b := connect(t, dsnA), connect(t, dsnB)
	if _, err := a.Exec(context.Background(), `CREATE TABLE t1 (id int PRIMARY KEY)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if !tableExists(t, a) {
		t.Fatal("t1 missing in the database it was created in")
	}
	if tableExists(t, b) {
		t.Fatal("t1 visible in the other database")
	}
	var listen string
	if err := a.QueryRow(context.Background(), `SHOW listen_addresses`).Scan(&listen); err != nil || listen != "" {
		t.Fatalf("listen_addresses = %q (%v), want empty: Unix socket only", listen, err)
	}
}

func TestRestartKeepsData(t *testing.T) {
	srv := Start(t)
	dsn := srv.NewDatabase(t)
	conn := connect(t, dsn)
	if _, err := conn.Exec(context.Background(), `CREATE TABLE t1 (id int); INSERT INTO t1 VALUES (7)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	srv.Restart(t)
	var pgErr *pgconn.PgError
	if _, err := conn.Exec(context.Background(), `SELECT 1`); err == nil {
		t.Fatal("a connection from before the restart still works")
	} else if errors.As(err, &pgErr) && pgErr.Code != "57P01" {
		t.Logf("old connection after restart: %v", err)
	}
	var id int
	if err := connect(t, dsn).QueryRow(context.Background(), `SELECT id FROM t1`).Scan(&id); err != nil || id != 7 {
		t.Fatalf("after restart: id %d, %v; want 7", id, err)
	}
}

func TestStopRefusesThenStartServes(t *testing.T) {
	srv := Start(t)
	dsn := srv.NewDatabase(t)
	srv.Stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, dsn); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	srv.Start(t)
	connect(t, dsn)
}

func TestStartCleansUp(t *testing.T) {
	var base string
	t.Run("server", func(t *testing.T) {
		srv := Start(t)
		base = srv.base
		connect(t, srv.NewDatabase(t))
	})
	if _, err := os.Stat(base); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("server folder %s left behind (%v)", base, err)
	}
}

func TestShared(t *testing.T) {
	srv := Shared(t)
	if Shared(t) != srv {
		t.Fatal("Shared started a second server")
	}
	connect(t, srv.NewDatabase(t))
}

// BenchmarkStart measures what Start costs: initdb, the start, and the cleanup.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s := prepare(b)
		if err := s.init(); err != nil {
			b.Fatal(err)
		}
		if err := s.start(); err != nil {
			s.close()
			b.Fatal(err)
		}
		s.close()
	}
}

// BenchmarkNewDatabase measures a CREATE DATABASE (its DROP runs at the end).
func BenchmarkNewDatabase(b *testing.B) {
	srv := Start(b)
	for b.Loop() {
		srv.NewDatabase(b)
	}
}
