// Package store keeps host-example's data in SQLite (pure Go driver): sources, users,
// sessions, login states, events, the OpenID Connect provider's and forward-auth's rows, with
// secrets encrypted at rest. It is persistence only: the formats of tokens and cookies belong
// to their owners (forwardauth, openid, web), which build them on its keyed MAC (MAC) and
// declare the part of it they use as their own Store interfaces; caches are theirs too, told
// of changes by Changes.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Store is the database.
type Store struct {
	db   *cachedDB // one writer connection: SQLite allows one writer at a time
	read *cachedDB // readers (WAL: they see every committed write and never block it)
	// ckpt runs SQLite's WAL checkpoints off the request path (nil on PostgreSQL).
	ckpt *checkpointer
	// dialect is the engine: SQLite, or PostgreSQL (then db and read are two pools).
	dialect dialect
	seal    *Sealer
	// clock is the store's time source (SetClock; tests age codes and states while serving).
	clock atomic.Pointer[func() time.Time]
	// pgConfig is a shared database's connection settings (connections of its own: LISTEN,
	// advisory locks); where names it in messages.
	pgConfig *pgx.ConnConfig
	where    string
	// noListen makes Follow poll only (tests of the fallback).
	noListen bool
	// feed is how the change feed runs (Follow).
	feed atomic.Pointer[FeedStatus]
	// changes announces committed changes to the consumers' caches (Changes).
	changes Changes
	// onRetry, when set, is told each transaction run again (Observe).
	onRetry atomic.Pointer[func()]
	// onEvent, when set, is told each event recorded (Observe).
	onEvent atomic.Pointer[func(Event)]
	// afterClaim, when set, runs in ClaimCode's transaction before the tokens are written (AfterClaim).
	afterClaim atomic.Pointer[func()]
}

// Observer is told what the store does, for metrics and logs: each query's duration (db is
// "read" or "write", op "query" or "exec") and each event once it is recorded.
type Observer struct {
	Query func(db, op string, d time.Duration)
	Event func(Event)
	// Retry is told each write transaction run again after a serialization failure.
	Retry func()
}

// Observe sets the observer (its nil fields observe nothing).
func (s *Store) Observe(o Observer) {
	if o.Query != nil {
		s.db.observe.Store(&o.Query)
		s.read.observe.Store(&o.Query)
	}
	if o.Event != nil {
		s.onEvent.Store(&o.Event)
	}
	if o.Retry != nil {
		s.onRetry.Store(&o.Retry)
	}
}

// recorded tells the observer, if any, of an event the store recorded.
func (s *Store) recorded(e Event) {
	if f := s.onEvent.Load(); f != nil {
		(*f)(e)
	}
}

// Changes is the store's change notifications: what consumers that cache watch.
func (s *Store) Changes() *Changes { return &s.changes }

// Options say which database a store opens.
type Options struct {
	// Database is empty for the embedded SQLite database in Dir, or a postgres:// URL of a
	// database shared by replicas.
	Database string
	// Dir is the data folder: the key file, and the SQLite database.
	Dir string
	// ConnectWait is how long an unreachable PostgreSQL is retried at start (0: 30 s).
	ConnectWait time.Duration
}

// connectWait is o.ConnectWait or its default.
func (o Options) connectWait() time.Duration {
	if o.ConnectWait > 0 {
		return o.ConnectWait
	}
	return 30 * time.Second
}

// Open opens (creating) the SQLite database under dir and migrates it.
func Open(dir string) (*Store, error) { return OpenWith(context.Background(), Options{Dir: dir}) }

// OpenWith opens the database o names (creating SQLite's, or PostgreSQL's schema) and
// migrates it.
func OpenWith(ctx context.Context, o Options) (*Store, error) {
	if IsPostgres(o.Database) {
		return openPostgres(ctx, o)
	}
	if o.Database != "" {
		return nil, fmt.Errorf("-database %q: expected empty (SQLite in the data folder) or a postgres:// URL", o.Database)
	}
	return openSQLite(o.Dir)
}

// openSQLite opens (creating) the database under dir and migrates it. The database and its
// WAL files are repaired to mode 0600 (SQLite gives new WAL files the database file's mode).
func openSQLite(dir string) (*Store, error) { return openSQLiteWith(dir, defaultCheckpoints) }

// openSQLiteWith is openSQLite with the checkpointer at the pace of cfg.
func openSQLiteWith(dir string, cfg checkpointConfig) (*Store, error) {
	seal, err := LoadOrCreateKey(dir)
	if err != nil {
		return nil, err
	}
	db := filepath.Join(dir, "host.db")
	if err := privateFiles(db, db+"-wal", db+"-shm", filepath.Join(dir, "secret.key")); err != nil {
		return nil, err
	}
	// wal_autocheckpoint(0): no commit checkpoints, the checkpointer does (checkpoint.go);
	// journal_size_limit: a WAL that grew past the bound is cut back when it starts over.
	dsn := "file:" + db + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)" +
		fmt.Sprintf("&_pragma=journal_size_limit(%d)", cfg.bound)
	// _txlock=immediate: a write transaction takes the write lock at BEGIN, waiting for it
	// (busy_timeout). A deferred one that read first and then found the lock held (by the
	// checkpointer's RESTART or TRUNCATE, waiting for readers) would fail at once with
	// SQLITE_BUSY: SQLite never waits there, as the lock's holder may be waiting for it. The
	// pool has one connection, so writers queue in Go either way.
	w, err := sql.Open("sqlite", dsn+"&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn+"&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(4)
	s := &Store{db: &cachedDB{DB: w, name: "write"}, read: &cachedDB{DB: r, name: "read"}, seal: seal, where: "SQLite database " + db}
	s.SetClock(time.Now)
	if err := s.migrate(); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	if err := s.reserveExistingUsernames(context.Background()); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("reserve the usernames of existing users: %w", err)
	}
	if s.ckpt, err = newCheckpointer(dsn, db+"-wal", cfg); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return s, nil
}

// privateFiles creates the first path if missing and sets every existing path to 0600.
func privateFiles(paths ...string) error {
	f, err := os.OpenFile(paths[0], os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	f.Close()
	for _, p := range paths {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", p, err)
		}
	}
	return nil
}

// ExposedPaths lists paths other local users can read or enter: a data folder not 0700 or
// files not 0600 (to warn about at start).
func ExposedPaths(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, fmt.Sprintf("%s (mode %04o)", p, fi.Mode().Perm()))
		}
	}
	return out
}

// Close closes the database (after the checkpointer stopped).
func (s *Store) Close() error {
	if s.ckpt != nil {
		s.ckpt.close()
	}
	s.read.Close()
	return s.db.Close()
}

// RandomID returns n random bytes as hex.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Meta reads a meta value.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}

// SetMeta writes a meta value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// MetaOnce writes value under key unless a non-empty value is there already, and answers
// the value kept (one statement: replicas racing agree on the first one's).
func (s *Store) MetaOnce(ctx context.Context, key, value string) (string, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE meta.value = ''`, key, value); err != nil {
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v); err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

// Source is a configured source.
type Source struct {
	ID            string
	PluginID      string
	Slug          string
	Name          string
	Enabled       bool
	ConfigVersion int64
	// Config is the last valid normalized config (secrets included); nil until one validated.
	Config json.RawMessage
	// Draft is the last submitted config that did not validate, if any.
	Draft json.RawMessage
	// Sync says when a login sets each display attribute of the source's people.
	Sync DisplaySync
}

// CreateSource adds a source with an empty draft config.
func (s *Store) CreateSource(ctx context.Context, pluginID, slug, name string) (*Source, error) {
	src := &Source{ID: RandomID(8), PluginID: pluginID, Slug: slug, Name: name, Draft: json.RawMessage(`{}`)}
	now := s.now().Unix()
	_, err := s.db.ExecContext(ctx, `INSERT INTO sources (id, plugin_id, slug, name, draft_enc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		src.ID, pluginID, slug, name, s.seal.Seal(src.Draft), now, now)
	if err != nil {
		return nil, fmt.Errorf("create source: %w", err)
	}
	return src, nil
}

func (s *Store) scanSource(row interface{ Scan(...any) error }) (*Source, error) {
	var src Source
	var cfg, draft []byte
	var sync string
	if err := row.Scan(&src.ID, &src.PluginID, &src.Slug, &src.Name, &src.Enabled, &src.ConfigVersion, &cfg, &draft, &sync); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	src.Sync = syncOf(sync)
	var err error
	if src.Config, err = s.seal.Open(cfg); err != nil {
		return nil, fmt.Errorf("decrypt config: %w", err)
	}
	if src.Draft, err = s.seal.Open(draft); err != nil {
		return nil, fmt.Errorf("decrypt draft: %w", err)
	}
	return &src, nil
}

const sourceCols = `id, plugin_id, slug, name, enabled, config_version, config_enc, draft_enc, display_sync`

// Source reads one source by id.
func (s *Store) Source(ctx context.Context, id string) (*Source, error) {
	return s.scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = ?`, id))
}

// SourceBySlug reads one source by slug.
func (s *Store) SourceBySlug(ctx context.Context, slug string) (*Source, error) {
	return s.scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE slug = ?`, slug))
}

// Sources lists every source.
func (s *Store) Sources(ctx context.Context) ([]*Source, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sourceCols+` FROM sources ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Source
	for rows.Next() {
		src, err := s.scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// SaveConfig stores a validated config (bumping its version) and clears the draft.
func (s *Store) SaveConfig(ctx context.Context, id string, cfg json.RawMessage) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `UPDATE sources SET config_enc = ?, draft_enc = NULL, config_version = config_version + 1, updated_at = ?
		WHERE id = ? RETURNING config_version`, s.seal.Seal(cfg), s.now().Unix(), id).Scan(&v)
	return v, err
}

// SaveDraft stores a config that did not validate.
func (s *Store) SaveDraft(ctx context.Context, id string, cfg json.RawMessage) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sources SET draft_enc = ?, updated_at = ? WHERE id = ?`, s.seal.Seal(cfg), s.now().Unix(), id)
	return err
}

// DiscardDraft drops a source's unsaved settings (a never-saved source keeps an empty draft).
func (s *Store) DiscardDraft(ctx context.Context, id string) error {
	empty := s.seal.Seal([]byte(`{}`))
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE sources SET draft_enc = ?, updated_at = ? WHERE id = ? AND config_enc IS NULL`, empty, s.now().Unix(), id); err != nil {
			return err
		}
		_, err := s.txExec(ctx, tx, `UPDATE sources SET draft_enc = NULL, updated_at = ? WHERE id = ? AND config_enc IS NOT NULL`, s.now().Unix(), id)
		return err
	})
}

// SetEnabled enables or disables a source; disabling ends its users' sessions.
func (s *Store) SetEnabled(ctx context.Context, id string, on bool) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE sources SET enabled = ?, updated_at = ? WHERE id = ?`, on, s.now().Unix(), id); err != nil {
			return err
		}
		if on {
			return nil
		}
		for _, q := range []string{`DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE source_id = ?)`,
			`DELETE FROM forward_sessions WHERE user_id IN (SELECT id FROM users WHERE source_id = ?)`,
			`UPDATE oidc_tokens SET revoked = 1 WHERE user_id IN (SELECT id FROM users WHERE source_id = ?)`,
			`UPDATE oidc_refresh SET revoked = 1 WHERE user_id IN (SELECT id FROM users WHERE source_id = ?)`,
			`DELETE FROM user_credentials WHERE user_id IN (SELECT id FROM users WHERE source_id = ?)`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return err
			}
		}
		return s.changed(ctx, tx, AccessRevoked)
	})
	if err == nil && !on {
		s.changes.Notify(AccessRevoked)
	}
	return err
}

// SetClock replaces the store's clock (tests that age codes, sessions and states).
func (s *Store) SetClock(now func() time.Time) { s.clock.Store(&now) }

// Now is the store's clock (SetClock): the time its rows' times are of.
func (s *Store) Now() time.Time { return s.now() }

// now is the store's current time.
func (s *Store) now() time.Time { return (*s.clock.Load())() }
