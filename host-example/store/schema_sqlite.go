package store

import "fmt"

// migrations are SQLite's first migrations, applied in order; the index+1 is the schema
// version. PostgreSQL starts at their result (postgresBaseline); later changes are
// laterMigrations, of both engines.
var migrations = []string{
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE sources (
		id TEXT PRIMARY KEY, plugin_id TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
		enabled INTEGER NOT NULL DEFAULT 0, config_version INTEGER NOT NULL DEFAULT 0,
		config_enc BLOB, draft_enc BLOB, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
	CREATE TABLE users (
		id INTEGER PRIMARY KEY AUTOINCREMENT, source_id TEXT NOT NULL, sub TEXT NOT NULL,
		username TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', email_verified INTEGER NOT NULL DEFAULT 0,
		name TEXT NOT NULL DEFAULT '', picture TEXT NOT NULL DEFAULT '', groups_json TEXT NOT NULL DEFAULT '[]',
		attributes_json TEXT NOT NULL DEFAULT '{}', raw_json TEXT NOT NULL DEFAULT '{}', reval_enc BLOB,
		disabled INTEGER NOT NULL DEFAULT 0, disabled_reason TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL, last_login_at INTEGER NOT NULL, last_check_at INTEGER NOT NULL DEFAULT 0,
		UNIQUE (source_id, sub));
	CREATE TABLE sessions (
		id TEXT PRIMARY KEY, user_id INTEGER, admin INTEGER NOT NULL DEFAULT 0, csrf TEXT NOT NULL,
		created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
	CREATE INDEX sessions_user ON sessions(user_id);
	CREATE TABLE login_states (
		id TEXT PRIMARY KEY, session_id TEXT NOT NULL, source_id TEXT NOT NULL, kind TEXT NOT NULL,
		action_id TEXT NOT NULL DEFAULT '', state_enc BLOB, expires_at INTEGER NOT NULL);
	CREATE INDEX login_states_session ON login_states(session_id, kind);
	CREATE TABLE events (
		id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, source_id TEXT NOT NULL DEFAULT '',
		kind TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');`,
	// 2: one state per begun login (several tabs), claimed for the duration of one call.
	`ALTER TABLE login_states ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE login_states ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;`,
	// 3: the OpenID Connect provider: an opaque public id per user (the sub apps see), clients,
	// authorization requests, used codes (tombstones), access tokens, refresh token families, keys.
	`ALTER TABLE users ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
	UPDATE users SET public_id = lower(hex(randomblob(16))) WHERE public_id = '';
	CREATE UNIQUE INDEX users_public_id ON users(public_id);
	CREATE TABLE oidc_clients (
		id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_sha256 TEXT NOT NULL DEFAULT '', public INTEGER NOT NULL DEFAULT 0,
		redirect_uris TEXT NOT NULL DEFAULT '[]', post_logout_uris TEXT NOT NULL DEFAULT '[]', grant_types TEXT NOT NULL DEFAULT '[]',
		allowed_groups TEXT NOT NULL DEFAULT '[]', release_attributes TEXT NOT NULL DEFAULT '[]', origin TEXT NOT NULL DEFAULT 'ui',
		created_at INTEGER NOT NULL);
	CREATE TABLE oidc_auth_requests (
		id TEXT PRIMARY KEY, client_id TEXT NOT NULL, data TEXT NOT NULL, user_id INTEGER, auth_time INTEGER NOT NULL DEFAULT 0,
		done INTEGER NOT NULL DEFAULT 0, code_hash TEXT UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
	CREATE TABLE oidc_codes (code_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, used_at INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL);
	CREATE TABLE oidc_tokens (
		id TEXT PRIMARY KEY, grant_id TEXT NOT NULL, family_id TEXT NOT NULL DEFAULT '', client_id TEXT NOT NULL, user_id INTEGER NOT NULL,
		scopes TEXT NOT NULL, auth_time INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX oidc_tokens_grant ON oidc_tokens(grant_id);
	CREATE INDEX oidc_tokens_user ON oidc_tokens(user_id);
	CREATE TABLE oidc_refresh (
		hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, family_id TEXT NOT NULL, grant_id TEXT NOT NULL, client_id TEXT NOT NULL,
		user_id INTEGER NOT NULL, scopes TEXT NOT NULL, amr TEXT NOT NULL DEFAULT '[]', auth_time INTEGER NOT NULL DEFAULT 0,
		expires_at INTEGER NOT NULL, rotated_at INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX oidc_refresh_family ON oidc_refresh(family_id);
	CREATE INDEX oidc_refresh_user ON oidc_refresh(user_id);
	CREATE TABLE oidc_keys (
		id TEXT PRIMARY KEY, alg TEXT NOT NULL, private_enc BLOB NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER NOT NULL DEFAULT 0);`,
	// 4: forward-auth: its own sessions (identity only, never admin) and the protected apps' rules.
	`CREATE TABLE forward_sessions (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
	CREATE INDEX forward_sessions_user ON forward_sessions(user_id);
	CREATE TABLE forward_rules (
		id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', host TEXT NOT NULL, path_prefix TEXT NOT NULL DEFAULT '',
		groups_json TEXT NOT NULL DEFAULT '[]', bypass_json TEXT NOT NULL DEFAULT '[]', bypass_options INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL, UNIQUE (host, path_prefix));`,
	// 5: events say whom they were about in words (a username), and can be searched by it.
	`ALTER TABLE events ADD COLUMN name TEXT NOT NULL DEFAULT '';
	CREATE INDEX events_subject ON events(subject);`,
	// 6: each user's last login document (the plugin's mapping input, secrets stripped), for previews.
	`ALTER TABLE users ADD COLUMN preview_json TEXT NOT NULL DEFAULT '';`,
	// 7: OpenID Connect: an authorization request is bound to the browser that started it (the hash of
	// a value in that browser's cookie) and counted against its client (user or address); purges
	// and bounds find rows by index.
	`ALTER TABLE oidc_auth_requests ADD COLUMN binding_hash TEXT NOT NULL DEFAULT '';
	ALTER TABLE oidc_auth_requests ADD COLUMN client_key TEXT NOT NULL DEFAULT '';
	CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests(expires_at);
	CREATE INDEX oidc_auth_requests_open ON oidc_auth_requests(done, created_at, id);
	CREATE INDEX oidc_auth_requests_client ON oidc_auth_requests(client_key, done, created_at, id);
	CREATE INDEX oidc_codes_expiry ON oidc_codes(expires_at);
	CREATE INDEX oidc_tokens_expiry ON oidc_tokens(expires_at);
	CREATE INDEX oidc_refresh_expiry ON oidc_refresh(expires_at);
	CREATE INDEX events_at ON events(at);`,
	// 8: forward-auth: a rule may let paths with an encoded slash (%2F) pass.
	`ALTER TABLE forward_rules ADD COLUMN allow_encoded_slash INTEGER NOT NULL DEFAULT 0;`,
	// 9: usernames are unique on the host and never given to another user: each name given
	// is reserved for its user (key: usernameKey). The users a database already has get theirs
	// at the next open (reserveExistingUsernames: the oldest keeps a shared name).
	`CREATE TABLE usernames (key TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL);
	CREATE INDEX usernames_user ON usernames(user_id);
	INSERT INTO meta (key, value) VALUES ('usernames_pending', '1') ON CONFLICT(key) DO UPDATE SET value = excluded.value;`,
	// 10: browsers that signed in as admin (known-device cookies): wrong passwords sent
	// with one count here, and lock that device out.
	`CREATE TABLE admin_devices (id TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0,
		updated_at INTEGER NOT NULL);`,
	// 11: upstream credentials a login handed over (sealed), one per user and kind, and the
	// protected apps that may receive one (a rule's handover kind).
	`CREATE TABLE user_credentials (user_id INTEGER NOT NULL, kind TEXT NOT NULL, value_enc BLOB NOT NULL, stamp TEXT NOT NULL,
		created_at INTEGER NOT NULL, PRIMARY KEY (user_id, kind));
	ALTER TABLE forward_rules ADD COLUMN handover TEXT NOT NULL DEFAULT '';`,
}

// migrate brings a SQLite database to this binary's schema version, a transaction per migration.
func (s *Store) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var v int
	if err := s.db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := newerSchema(v); err != nil {
		return err
	}
	for i := v; i < schemaVersion(); i++ {
		q := ""
		if i < len(migrations) {
			q = migrations[i]
		} else {
			q = laterMigrations[i-len(migrations)].sqlite
		}
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(q); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_version (version) VALUES (?)`, i+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// schemaVersion is this binary's schema version.
func schemaVersion() int { return len(migrations) + len(laterMigrations) }

// newerSchema refuses a database whose schema version v is newer than this binary's.
func newerSchema(v int) error {
	if v > schemaVersion() {
		return fmt.Errorf("the database has schema version %d, newer than this binary's %d: run the newer binary, or restore a backup made for this one", v, schemaVersion())
	}
	return nil
}
