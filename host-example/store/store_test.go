package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// The database and its WAL files are 0600 even under a permissive umask, and an exposed file is repaired.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	s, dir := open(t)
	if _, err := s.CreateSource(context.Background(), "p", "slug", "name"); err != nil { // writes: WAL and SHM exist
		t.Fatal(err)
	}
	db := filepath.Join(dir, "host.db")
	for _, p := range []string{db, db + "-wal", db + "-shm", filepath.Join(dir, "secret.key")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %04o", p, fi.Mode().Perm())
		}
	}
	s.Close()
	_ = os.Chmod(db, 0o644)
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if fi, _ := os.Stat(db); fi.Mode().Perm() != 0o600 {
		t.Fatalf("not repaired: %04o", fi.Mode().Perm())
	}
	_ = os.Chmod(dir, 0o700)
	if got := ExposedPaths(dir, db); len(got) != 0 {
		t.Fatalf("private paths reported exposed: %v", got)
	}
	_ = os.Chmod(dir, 0o755)
	if got := ExposedPaths(dir); len(got) != 1 {
		t.Fatalf("a 0755 data folder is not reported: %v", got)
	}
}

// A user's session ends with the user or the source being disabled.
func TestSessionLiveOnlyWhileUserAndSourceEnabled(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src, _ := s.CreateSource(ctx, "p", "slug", "name")
	_ = s.SetEnabled(ctx, src.ID, true)
	login := func() string {
		done, err := s.FinishLogin(ctx, User{SourceID: src.ID, Subject: "42"}, Event{Kind: "login_allowed"}, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return done.Token
	}
	tok := login()
	if _, err := s.Session(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// Disabled source: ended at once, and a session that survived (raced) is not live.
	_ = s.SetEnabled(ctx, src.ID, false)
	if _, err := s.Session(ctx, tok); err != ErrNotFound {
		t.Fatalf("session of a disabled source: %v", err)
	}
	_ = s.SetEnabled(ctx, src.ID, true)
	tok = login()
	if _, err := s.db.ExecContext(ctx, `UPDATE sources SET enabled = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, tok); err != ErrNotFound {
		t.Fatalf("source off, session row kept: %v", err)
	}
	_ = s.SetEnabled(ctx, src.ID, true)
	tok = login()
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET disabled = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, tok); err != ErrNotFound {
		t.Fatalf("disabled user's session: %v", err)
	}
}

// Each begun login has its own state, at most MaxLoginStates per session; a claim is exclusive
// until released, and a deleted state is gone.
func TestLoginStatesPerLogin(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	var ids []string
	for i := 0; i < MaxLoginStates+2; i++ {
		id, err := s.PutLoginState(ctx, LoginState{SessionID: "sess", SourceID: "src", Kind: "login", State: []byte{byte(i)}, ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := s.ClaimLoginState(ctx, "sess", "login", ids[0], time.Minute); err != ErrNotFound {
		t.Fatalf("oldest state kept beyond the bound: %v", err)
	}
	last := ids[len(ids)-1]
	if _, err := s.ClaimLoginState(ctx, "other-session", "login", last, time.Minute); err != ErrNotFound {
		t.Fatal("another session claimed the state")
	}
	st, err := s.ClaimLoginState(ctx, "sess", "login", last, time.Minute)
	if err != nil || st.State[0] != byte(len(ids)-1) {
		t.Fatalf("claim: %v", err)
	}
	if _, err := s.ClaimLoginState(ctx, "sess", "login", last, time.Minute); err != ErrNotFound {
		t.Fatal("claimed twice")
	}
	_ = s.ReleaseLoginState(ctx, last)
	if _, err := s.ClaimLoginState(ctx, "sess", "login", last, time.Minute); err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = s.DeleteLoginState(ctx, last)
	_ = s.ReleaseLoginState(ctx, last)
	if _, err := s.ClaimLoginState(ctx, "sess", "login", last, time.Minute); err != ErrNotFound {
		t.Fatal("deleted state claimed")
	}
	if _, err := s.ClaimLoginState(ctx, "sess", "login", ids[2], time.Minute); err != nil {
		t.Fatalf("another tab's state: %v", err)
	}
}

// A database of schema version 2 migrates: its users get an opaque public id, and the OIDC and forward-auth tables exist.
func TestMigrateVersion2Database(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Rebuild it as version 2 had it.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE oidc_clients`, `DROP TABLE oidc_auth_requests`, `DROP TABLE oidc_codes`, `DROP TABLE oidc_tokens`,
		`DROP TABLE oidc_refresh`, `DROP TABLE oidc_keys`, `DROP INDEX users_public_id`, `ALTER TABLE users DROP COLUMN public_id`,
		`DROP TABLE forward_sessions`, `DROP TABLE forward_rules`, `DROP INDEX events_subject`, `DROP INDEX events_at`, `ALTER TABLE events DROP COLUMN name`, `ALTER TABLE users DROP COLUMN preview_json`,
		`DROP TABLE usernames`, `DROP TABLE admin_devices`, `DROP TABLE user_credentials`, `DROP TABLE change_versions`, `DROP TABLE attempts`, `ALTER TABLE login_states DROP COLUMN seq`,
		`ALTER TABLE sessions DROP COLUMN auth_time`,
		`DROP INDEX login_states_client`, `DROP INDEX login_states_kind`, `ALTER TABLE login_states DROP COLUMN client_key`,
		`DROP TABLE handover_codes`,
		`ALTER TABLE sessions DROP COLUMN remembered`, `ALTER TABLE sessions DROP COLUMN last_seen_at`, `ALTER TABLE sessions DROP COLUMN slide`,
		`ALTER TABLE sessions DROP COLUMN expires_cap`, `DROP TABLE app_icons`, `ALTER TABLE sources DROP COLUMN display_sync`,
		`DROP TABLE notify_queue`, `DROP TABLE notify_targets`, `DROP TABLE source_renewals`, `DROP TABLE identities`, `ALTER TABLE users DROP COLUMN linked_to`,
		`DELETE FROM schema_version WHERE version >= 3`,
		`INSERT INTO users (source_id, sub, created_at, last_login_at) VALUES ('src', '42', 1, 1)`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer s.Close()
	users, err := s.Users(context.Background())
	if err != nil || len(users) != 1 || len(users[0].PublicID) != 32 {
		t.Fatalf("migrated user: %+v %v", users, err)
	}
	if _, err := s.OIDCClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ForwardRules(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// An older binary refuses a database a newer one migrated (it would misread it).
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO schema_version (version) VALUES (?)`, schemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("open a newer database: %v", err)
	}
}

// Events are found by subject, name, reason or detail; % and _ are taken literally.
func TestEventsSearch(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, e := range []Event{{Kind: "login_denied", Subject: "2003", Name: "Nora_N", Reason: "not_a_member"},
		{Kind: "login_allowed", Subject: "2001", Name: "frank", Detail: "100% fine"}, {Kind: "admin_login"}} {
		if err := s.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]int{"": 3, "nora_n": 1, "2003": 1, "200": 0, "nor_": 0, "%": 1, "NOT_A": 1, "fine": 1} {
		evs, err := s.Events(ctx, 10, q)
		if err != nil || len(evs) != want {
			t.Errorf("query %q: %d events (%v), want %d", q, len(evs), err, want)
		}
	}
}
