package store

import (
	"context"
	"slices"
	"testing"
)

// groupOriginsMigration is the schema version that brought group origins and sign-in times.
const groupOriginsMigration = 13

// rewindGroupOrigins puts s back as the schema before group origins and sign-in times had
// it (undoing that migration and the later ones), with a user whose groups are bare names (one no text) and a
// session begun at 100.
func rewindGroupOrigins(t *testing.T, s *Store) {
	t.Helper()
	for _, q := range []string{`ALTER TABLE sessions DROP COLUMN auth_time`,
		`DROP INDEX login_states_client`, `DROP INDEX login_states_kind`, `ALTER TABLE login_states DROP COLUMN client_key`,
		`ALTER TABLE oidc_auth_requests DROP COLUMN session_id`, `DROP TABLE handover_codes`,
		`ALTER TABLE sessions DROP COLUMN remembered`, `ALTER TABLE sessions DROP COLUMN last_seen_at`, `ALTER TABLE sessions DROP COLUMN slide`,
		`ALTER TABLE sessions DROP COLUMN expires_cap`, `DROP TABLE app_icons`, `ALTER TABLE oidc_clients DROP COLUMN launch_url`,
		`ALTER TABLE sources DROP COLUMN display_sync`, `DROP TABLE notify_queue`, `DROP TABLE notify_targets`, `ALTER TABLE oidc_clients DROP COLUMN id_token_alg`, `DROP TABLE source_renewals`, `DROP TABLE identities`, `ALTER TABLE users DROP COLUMN linked_to`,
		`ALTER TABLE oidc_refresh DROP COLUMN access_revoked`, `ALTER TABLE oidc_refresh DROP COLUMN access_expires`, `DELETE FROM schema_version WHERE version >= ?`,
		`INSERT INTO users (source_id, sub, created_at, last_login_at, public_id, groups_json) VALUES ('src', '42', 1, 1, 'pub', '["b","a",3]')`,
		`INSERT INTO users (source_id, sub, created_at, last_login_at, public_id) VALUES ('src', '43', 1, 1, 'pub2')`,
		`INSERT INTO sessions (id, user_id, admin, csrf, created_at, expires_at) VALUES ('sid', NULL, 1, 'c', 100, 200)`,
		`INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, expires_at)
			VALUES ('h', 'rid', 'f', 'g', 'c', (SELECT id FROM users WHERE public_id = 'pub'), '[]', 4000000000)`} {
		var err error
		if q == `DELETE FROM schema_version WHERE version >= ?` {
			_, err = s.db.ExecContext(context.Background(), q, groupOriginsMigration)
		} else {
			_, err = s.db.ExecContext(context.Background(), q)
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// checkGroupOrigins checks what the migration made of rewindGroupOrigins' rows: the groups
// are the user's own source's, in order, and the session's sign-in time is its start.
func checkGroupOrigins(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	u, err := s.UserByPublicID(ctx, "pub")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Membership{{"b", "src"}, {"a", "src"}}; !slices.Equal(u.Memberships, want) || !slices.Equal(u.Groups, []string{"b", "a"}) {
		t.Fatalf("migrated groups %+v %v, want %+v", u.Memberships, u.Groups, want)
	}
	var raw string
	if err := s.read.QueryRowContext(ctx, `SELECT groups_json FROM users WHERE public_id = 'pub2'`).Scan(&raw); err != nil || raw != "[]" {
		t.Fatalf("no groups migrated to %q (%v)", raw, err)
	}
	var auth int64
	if err := s.read.QueryRowContext(ctx, `SELECT auth_time FROM sessions WHERE id = 'sid'`).Scan(&auth); err != nil || auth != 100 {
		t.Fatalf("the session's sign-in time %d (%v), want its start", auth, err)
	}
	// Devices that stay signed in (16): a session is last seen at its start, fixed to its expiry.
	var seen, slide, capped int64
	var remembered bool
	if err := s.read.QueryRowContext(ctx, `SELECT remembered, last_seen_at, slide, expires_cap FROM sessions WHERE id = 'sid'`).Scan(&remembered, &seen, &slide, &capped); err != nil ||
		remembered || seen != 100 || slide != 0 || capped != 200 {
		t.Fatalf("the session's sliding columns: %v %d %d %d (%v)", remembered, seen, slide, capped, err)
	}
	// A refresh token's row holds its access token (23): an earlier row holds none.
	var aexp, arev int64
	if err := s.read.QueryRowContext(ctx, `SELECT access_expires, access_revoked FROM oidc_refresh WHERE hash = 'h'`).Scan(&aexp, &arev); err != nil ||
		aexp != 0 || arev != 0 {
		t.Fatalf("an earlier refresh token's access columns: %d %d (%v), want 0 0", aexp, arev, err)
	}
}

// A database from before group origins migrates on SQLite: each group a person had is kept
// as one their own source gave (the only origin there was), and sessions keep their start as
// their sign-in time.
func TestMigrateGroupOriginsSQLite(t *testing.T) {
	s, dir := open(t)
	rewindGroupOrigins(t, s)
	s.Close()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer s.Close()
	checkGroupOrigins(t, s)
}

// The same on PostgreSQL.
func TestMigrateGroupOriginsPostgres(t *testing.T) {
	s, _ := openPG(t)
	rewindGroupOrigins(t, s)
	if err := s.migratePostgres(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	checkGroupOrigins(t, s)
}
