package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgres reports whether database names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than the embedded SQLite one.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// postgresPool is how many connections each of a replica's two pools (writes, reads) opens at most.
const postgresPool = 8

// openPostgres opens the PostgreSQL database of o.Database, migrates it and checks that the
// key in o.Dir is this installation's.
func openPostgres(ctx context.Context, o Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(o.Database)
	if err != nil {
		return nil, fmt.Errorf("-database: not a PostgreSQL URL (postgres://user:password@host:5432/dbname): %w", err)
	}
	where := describe(cfg)
	if err := waitForPostgres(ctx, cfg, o.connectWait(), where); err != nil {
		return nil, err
	}
	w := stdlib.OpenDB(*cfg)
	r := stdlib.OpenDB(*cfg)
	for _, db := range []*sql.DB{w, r} {
		db.SetMaxOpenConns(postgresPool)
		db.SetMaxIdleConns(postgresPool) // database/sql keeps 2 by default: a burst would reconnect
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	s := &Store{db: &cachedDB{DB: w, name: "write", dialect: postgresDialect}, read: &cachedDB{DB: r, name: "read", dialect: postgresDialect},
		dialect: postgresDialect, pgConfig: cfg, where: where}
	s.SetClock(time.Now)
	fail := func(err error) (*Store, error) {
		w.Close()
		r.Close()
		return nil, err
	}
	if err := s.migratePostgres(ctx); err != nil {
		return fail(fmt.Errorf("%s: %w", where, err))
	}
	if s.seal, err = s.installationKey(ctx, o.Dir); err != nil {
		return fail(err)
	}
	return s, nil
}

// describe names a database for messages: host, port and name, never the password.
func describe(cfg *pgx.ConnConfig) string {
	host := cfg.Host
	if !strings.HasPrefix(host, "/") {
		host = net.JoinHostPort(host, fmt.Sprint(cfg.Port))
	}
	return fmt.Sprintf("PostgreSQL database %q at %s", cfg.Database, host)
}

// waitForPostgres connects once to the database, retrying with backoff for up to wait while
// it is unreachable; a refused login or a missing database fails at once.
func waitForPostgres(ctx context.Context, cfg *pgx.ConnConfig, wait time.Duration, where string) error {
	deadline := time.Now().Add(wait)
	pause := 250 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, err := pgx.ConnectConfig(cctx, cfg)
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			switch {
			case pe.Code == "28P01" || pe.Code == "28000":
				return fmt.Errorf("%s refused the login (check the user and password in -database): %w", where, err)
			case pe.Code == "3D000":
				return fmt.Errorf("%s does not exist (create it: createdb, or CREATE DATABASE): %w", where, err)
			}
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("%s unreachable for %s (is PostgreSQL running, and -database right?): %w", where, wait.Round(time.Second), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// migrationLock is the advisory lock key replicas migrate under (one at a time).
const migrationLock = 0x686f73746578 // "hostex"

// migratePostgres brings the schema to this binary's version in one transaction under the
// migration lock: replicas starting together migrate once, the others wait and find it done.
func (s *Store) migratePostgres(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := newerSchema(v); err != nil {
		return err
	}
	if v == 0 {
		if _, err := tx.ExecContext(ctx, postgresBaseline); err != nil {
			return fmt.Errorf("create the schema: %w", err)
		}
		v = postgresBaselineVersion
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v); err != nil {
			return err
		}
	}
	for ; v < schemaVersion(); v++ {
		if _, err := tx.ExecContext(ctx, laterMigrations[v-postgresBaselineVersion].postgres); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// conn opens a connection of its own to the shared database, outside the pools (LISTEN,
// advisory locks held for a while).
func (s *Store) conn(ctx context.Context) (*pgx.Conn, error) {
	return pgx.ConnectConfig(ctx, s.pgConfig)
}
