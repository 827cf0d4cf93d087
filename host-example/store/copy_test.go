package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
)

// copyFixture is a SQLite installation filled through the store's API, and what a copy of
// it must keep working.
type copyFixture struct {
	dir      string
	src      *Store
	source   *Source
	config   json.RawMessage
	user     *User
	deleted  int64 // the id of a user deleted before the copy (never to be given again)
	token    string
	admin    string
	forward  string
	refresh  RefreshToken
	access   string
	code     string
	secret   string // a client's secret (its hash is stored)
	pem      []byte
	credVal  string
	metaSeal []byte
}

// fillSQLite makes a SQLite data folder with a row in every table the host writes to.
func fillSQLite(t *testing.T) *copyFixture {
	t.Helper()
	ctx := context.Background()
	f := &copyFixture{dir: t.TempDir(), secret: RandomID(16), pem: []byte("-----BEGIN PRIVATE KEY-----\n" + RandomID(32)),
		credVal: "plex-token-" + RandomID(8), metaSeal: []byte(RandomID(12)), config: json.RawMessage(`{"token":"` + RandomID(8) + `"}`)}
	src, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	f.src = src
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.source, err = src.CreateSource(ctx, "plex", "plex", "Plex")
	must(err)
	_, err = src.SaveConfig(ctx, f.source.ID, f.config)
	must(err)
	must(src.SetEnabled(ctx, f.source.ID, true))
	login := func(sub, name string) *LoginDone {
		t.Helper()
		done, err := src.FinishLogin(ctx, User{SourceID: f.source.ID, Subject: sub, Username: name, Groups: []string{"friends"},
			Credentials: []Credential{{Kind: "plex", Value: f.credVal}}},
			Event{SourceID: f.source.ID, Kind: EventLoginAllowed, Subject: sub, Name: name}, "", time.Hour)
		must(err)
		return done
	}
	done := login("101", "olivia")
	f.token = done.Token
	f.user, err = src.User(ctx, done.UserID)
	must(err)
	login("102", "noah")
	// Noah again, through a second source of the plugin that declares global subjects: an identity.
	second, err := src.CreateSource(ctx, "plex", "plex-2", "Plex 2")
	must(err)
	must(src.SetEnabled(ctx, second.ID, true))
	_, err = src.FinishLogin(ctx, User{SourceID: second.ID, Subject: "102", Username: "noah", Groups: []string{"friends"}, GlobalOf: "plex",
		Revalidation: []byte("state")}, Event{SourceID: second.ID, Kind: EventLoginAllowed, Subject: "102"}, "", time.Hour)
	must(err)
	gone := login("103", "liam")
	must(src.DeleteUser(ctx, gone.UserID))
	f.deleted = gone.UserID
	must(src.CreateHandoverCode(ctx, "code-"+RandomID(8), HandoverCode{UserID: f.user.ID, SessionID: hashToken(done.Token),
		Origin: "https://web.example.test", StateHash: "st"}))
	must(src.RenewBy(ctx, f.source.ID, time.Now()))
	must(src.FinishRenewal(ctx, SourceRenewal{SourceID: f.source.ID, ConfigVersion: 1, RenewAfter: time.Now().Add(time.Hour),
		Credentials: []RenewalCredential{{Field: "token", Label: "the token", ExpiresAt: time.Now().Add(2 * time.Hour).Unix()}}}))
	f.admin, _, err = src.CreateSession(ctx, 0, true, time.Hour)
	must(err)
	f.forward = "fwd-" + RandomID(8)
	_, _, err = src.CreateForwardSession(ctx, f.forward, hashToken(done.Token), time.Hour)
	must(err)
	_, err = src.PutForwardRule(ctx, ForwardRule{Name: "Sonarr", Host: "sonarr.example.test", Groups: []string{"friends"}, Handover: "plex"})
	must(err)
	must(src.PutOIDCClient(ctx, OIDCClient{ID: "app", Name: "App", SecretSHA256: hashToken(f.secret),
		RedirectURIs: []string{"https://app.example.test/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"}, Origin: "ui",
		LaunchURL: "https://app.example.test/", IDTokenAlg: "ES256"}))
	must(src.PutAppIcon(ctx, AppIcon{Kind: ClientIcon, AppID: "app", ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n\x00\xff")}))
	now := time.Now()
	must(src.CreateAuthRequest(ctx, AuthRequest{ID: "ar-" + RandomID(4), ClientID: "app", Data: json.RawMessage(`{"state":"s"}`),
		ExpiresAt: now.Add(10 * time.Minute)}))
	ar := AuthRequest{ID: "ar-" + RandomID(4), ClientID: "app", Data: json.RawMessage(`{"state":"t"}`), ExpiresAt: now.Add(10 * time.Minute)}
	must(src.CreateAuthRequest(ctx, ar))
	must(src.CompleteAuthRequest(ctx, ar.ID, f.user.ID, hashToken(f.token), now))
	f.code = hashToken(RandomID(16))
	must(src.SaveAuthCode(ctx, ar.ID, f.code, now.Add(time.Minute)))
	f.access = "at-" + RandomID(8)
	must(src.PutAccessToken(ctx, AccessToken{ID: f.access, GrantID: ar.ID, FamilyID: "fam", ClientID: "app", UserID: f.user.ID,
		Scopes: []string{"openid"}, AuthTime: now, Expires: now.Add(time.Hour)}))
	f.refresh = RefreshToken{Hash: hashToken(RandomID(16)), ID: "rt-" + RandomID(4), FamilyID: "fam", GrantID: ar.ID, ClientID: "app",
		UserID: f.user.ID, Scopes: []string{"openid", "offline_access"}, AMR: []string{"plex"}, AuthTime: now, Expires: now.Add(24 * time.Hour)}
	must(src.PutRefreshToken(ctx, f.refresh))
	must(src.PutSigningKey(ctx, SigningKey{ID: "k-" + RandomID(4), Alg: "RS256", PrivatePEM: f.pem}))
	must(src.SetSecretMeta(ctx, "oidc_crypto_key", f.metaSeal))
	must(src.SetMeta(ctx, "admin_group", "admins"))
	for i := range 5 {
		must(src.AddEvent(ctx, Event{Kind: EventAdminAction, Detail: fmt.Sprint("event ", i)}))
	}
	must(src.PutNotifyTarget(ctx, NotifyTarget{ID: "hook", Name: "Hook", URL: "http://hooks.example.test/in", Format: "webhook",
		Kinds: []string{"refusal"}, Secret: []byte(f.secret)}))
	_, _, err = src.EnqueueNotification(ctx, "refusal", `{"kind":"refusal"}`, 10)
	must(err)
	return f
}

// rows are table t's rows as text, sorted, from a database of either engine (meta without
// the rows a copy leaves out): what a byte-for-byte copy keeps.
func rowsOf(t *testing.T, db *cachedDB, table string, cols []string) []string {
	t.Helper()
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + table
	if skip, ok := copySkip[table]; ok {
		q += ` WHERE ` + skip
	}
	rows, err := db.DB.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			switch x := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "%s=%q|", cols[i], x)
			default:
				fmt.Fprintf(&b, "%s=%#v|", cols[i], x)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// The copy keeps every row as it was, and everything the host does with them keeps
// working on PostgreSQL: sessions, forward-auth sessions, tokens, client secrets, sealed
// settings and keys; ids given later are new ones. The source stays open (a running host).
func TestCopyToPostgresKeepsEverything(t *testing.T) {
	ctx := context.Background()
	f := fillSQLite(t)
	url := postgrestest.Shared(t).NewDatabase(t)
	replica := filepath.Join(t.TempDir(), "replica")
	report, err := CopyToPostgres(ctx, CopyOptions{From: f.dir, To: url, Data: replica})
	if err != nil {
		t.Fatal(err)
	}
	if report.KeyFile != filepath.Join(replica, KeyFile) || report.SchemaVersion != schemaVersion() || !strings.Contains(report.Target, "PostgreSQL") {
		t.Fatalf("report: %+v", report)
	}
	if fi, err := os.Stat(report.KeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the replica's key file: %v %v", fi, err)
	}
	dst, err := OpenWith(ctx, Options{Database: url, Dir: replica})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	tx, err := f.src.read.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := sqliteColumns(ctx, tx)
	tx.Rollback()
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Tables) != len(tables) {
		t.Errorf("copied %d tables, the source has %d", len(report.Tables), len(tables))
	}
	for _, tc := range report.Tables {
		want := rowsOf(t, f.src.read, tc.Table, tables[tc.Table])
		got := rowsOf(t, dst.read, tc.Table, tables[tc.Table])
		if int64(len(want)) != tc.Rows || !slices.Equal(got, want) {
			t.Errorf("table %s: reported %d rows; source %d rows, target %d rows, equal %v", tc.Table, tc.Rows, len(want), len(got), slices.Equal(got, want))
		}
		if tc.Rows == 0 && !slices.Contains([]string{"admin_devices", "attempts", "change_versions", "login_states"}, tc.Table) {
			t.Errorf("table %s: the fixture wrote no row, so the copy of it is not tested", tc.Table)
		}
	}

	u, err := dst.UserByPublicID(ctx, f.user.PublicID)
	if err != nil || u.ID != f.user.ID || u.Username != "olivia" {
		t.Fatalf("the user by public id: %+v %v", u, err)
	}
	if s, err := dst.Session(ctx, f.token); err != nil || s.UserID != f.user.ID {
		t.Fatalf("the user's session: %+v %v", s, err)
	}
	if s, err := dst.Session(ctx, f.admin); err != nil || !s.Admin {
		t.Fatalf("the admin session: %+v %v", s, err)
	}
	if fu, _, err := dst.ForwardSession(ctx, f.forward); err != nil || fu.ID != f.user.ID {
		t.Fatalf("the forward-auth session: %+v %v", fu, err)
	}
	if rt, err := dst.RefreshTokenByHash(ctx, f.refresh.Hash); err != nil || rt.ID != f.refresh.ID || rt.Revoked || rt.UserID != f.user.ID {
		t.Fatalf("the refresh token: %+v %v", rt, err)
	}
	if at, err := dst.LiveAccessToken(ctx, f.access); err != nil || at.UserID != f.user.ID {
		t.Fatalf("the access token: %+v %v", at, err)
	}
	if ar, err := dst.AuthRequestByCode(ctx, f.code); err != nil || ar.UserID != f.user.ID || ar.SessionID != hashToken(f.token) {
		t.Fatalf("the authorization request: %+v %v", ar, err)
	}
	if c, err := dst.OIDCClientByID(ctx, "app"); err != nil || c.SecretSHA256 != hashToken(f.secret) {
		t.Fatalf("the client: %+v %v", c, err)
	}
	if s, err := dst.Source(ctx, f.source.ID); err != nil || !bytes.Equal(s.Config, f.config) || !s.Enabled {
		t.Fatalf("the source's sealed config: %+v %v", s, err)
	}
	if keys, err := dst.SigningKeys(ctx, time.Time{}); err != nil || len(keys) != 1 || !bytes.Equal(keys[0].PrivatePEM, f.pem) {
		t.Fatalf("the signing key: %d keys, %v", len(keys), err)
	}
	if v, err := dst.SecretMeta(ctx, "oidc_crypto_key"); err != nil || !bytes.Equal(v, f.metaSeal) {
		t.Fatalf("sealed meta: %v", err)
	}
	if c, err := dst.UserCredential(ctx, f.user.ID, "plex"); err != nil || c.Value != f.credVal {
		t.Fatalf("the credential: %v", err)
	}
	if nt, err := dst.NotifyTarget(ctx, "hook"); err != nil || string(nt.Secret) != f.secret || nt.Queued != 1 {
		t.Fatalf("the notification target's sealed secret and queue: %+v %v", nt, err)
	}
	if _, err := dst.Meta(ctx, metaKeyID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a backup's key record in the target: %v", err)
	}

	before, err := f.src.Events(ctx, 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	after, err := dst.Events(ctx, 1000, "")
	if err != nil || len(after) != len(before) || after[0].ID != before[0].ID {
		t.Fatalf("events: %d copied of %d (%v)", len(after), len(before), err)
	}
	done, err := dst.FinishLogin(ctx, User{SourceID: f.source.ID, Subject: "104", Username: "emma"},
		Event{SourceID: f.source.ID, Kind: EventLoginAllowed, Subject: "104"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if done.UserID <= f.deleted {
		t.Fatalf("a new user got id %d, not past every id given before the copy (%d, deleted)", done.UserID, f.deleted)
	}
	if err := dst.AddEvent(ctx, Event{Kind: EventAdminAction}); err != nil {
		t.Fatal(err)
	}
	if ev, err := dst.Events(ctx, 1, ""); err != nil || ev[0].ID <= before[0].ID {
		t.Fatalf("a new event's id: %+v %v", ev, err)
	}
}

// A backup file with its exported key copies as the folder does; a key that did not seal
// the backup, or none, is refused before anything is written.
func TestCopyToPostgresFromABackup(t *testing.T) {
	ctx := context.Background()
	f := fillSQLite(t)
	work := t.TempDir()
	backup, key := filepath.Join(work, "host.backup"), filepath.Join(work, "host.key")
	if err := f.src.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := ExportKey(f.dir, key); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := LoadOrCreateKey(other); err != nil {
		t.Fatal(err)
	}
	srv := postgrestest.Shared(t)
	url := srv.NewDatabase(t)
	if _, err := CopyToPostgres(ctx, CopyOptions{From: backup, Key: filepath.Join(other, KeyFile), To: url}); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("the wrong key: %v", err)
	}
	if _, err := CopyToPostgres(ctx, CopyOptions{From: backup, To: url}); err == nil || !strings.Contains(err.Error(), "-key is required") {
		t.Fatalf("no key: %v", err)
	}
	if _, err := CopyToPostgres(ctx, CopyOptions{From: backup, Key: key, To: url}); err != nil {
		t.Fatal(err)
	}
	keyDir := t.TempDir()
	if err := copyPrivate(key, filepath.Join(keyDir, KeyFile)); err != nil {
		t.Fatal(err)
	}
	dst, err := OpenWith(ctx, Options{Database: url, Dir: keyDir})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if s, err := dst.Session(ctx, f.token); err != nil || s.UserID != f.user.ID {
		t.Fatalf("the user's session: %+v %v", s, err)
	}
	if u, err := dst.UserByPublicID(ctx, f.user.PublicID); err != nil || u.ID != f.user.ID {
		t.Fatalf("the user: %+v %v", u, err)
	}
	if s, err := dst.Source(ctx, f.source.ID); err != nil || !bytes.Equal(s.Config, f.config) {
		t.Fatalf("the source's sealed config: %+v %v", s, err)
	}
	if _, err := dst.Meta(ctx, metaKeyID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the backup's key record in the target: %v", err)
	}
}

// A target that holds data is refused, whether of this installation (a second copy) or of
// another (another key); one that holds only what a first start with the source's key
// writes is taken. Nothing is written to a refused target, nor a key to -data.
func TestCopyToPostgresRefusesATargetWithData(t *testing.T) {
	ctx := context.Background()
	f := fillSQLite(t)
	srv := postgrestest.Shared(t)

	started := srv.NewDatabase(t) // a replica with the source's key started on it first
	keyDir := t.TempDir()
	if err := copyPrivate(filepath.Join(f.dir, KeyFile), filepath.Join(keyDir, KeyFile)); err != nil {
		t.Fatal(err)
	}
	st, err := OpenWith(ctx, Options{Database: started, Dir: keyDir})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := CopyToPostgres(ctx, CopyOptions{From: f.dir, To: started}); err != nil {
		t.Fatalf("a target with only the schema and the key's fingerprint: %v", err)
	}
	replica := filepath.Join(t.TempDir(), "replica")
	if _, err := CopyToPostgres(ctx, CopyOptions{From: f.dir, To: started, Data: replica}); !errors.Is(err, ErrTargetNotEmpty) ||
		!strings.Contains(err.Error(), "users") {
		t.Fatalf("a second copy: %v", err)
	}
	if _, err := os.Stat(replica); !os.IsNotExist(err) {
		t.Fatalf("a refused copy made the replica's data folder: %v", err)
	}

	foreign := srv.NewDatabase(t) // another installation's database, empty but for its key
	st, err = OpenWith(ctx, Options{Database: foreign, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := CopyToPostgres(ctx, CopyOptions{From: f.dir, To: foreign}); !errors.Is(err, ErrTargetNotEmpty) || !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another installation's database: %v", err)
	}

	other := t.TempDir()
	if _, err := LoadOrCreateKey(other); err != nil {
		t.Fatal(err)
	}
	if _, err := CopyToPostgres(ctx, CopyOptions{From: f.dir, To: srv.NewDatabase(t), Data: other}); err == nil ||
		!strings.Contains(err.Error(), "another key") {
		t.Fatalf("-data holding another key: %v", err)
	}
}

// Faults say what is wrong: a source of a newer binary, an unreachable target, a folder
// that is not a data folder, a target that is not PostgreSQL.
func TestCopyToPostgresErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, schemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	st.Close()
	url := postgrestest.Shared(t).NewDatabase(t)
	if _, err := CopyToPostgres(ctx, CopyOptions{From: dir, To: url}); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("a newer source: %v", err)
	}
	good := fillSQLite(t).dir
	unreachable := "postgres://postgres@/db?host=" + filepath.Join(t.TempDir(), "no-socket-here")
	if _, err := CopyToPostgres(ctx, CopyOptions{From: good, To: unreachable, ConnectWait: time.Second}); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("an unreachable target: %v", err)
	}
	if _, err := CopyToPostgres(ctx, CopyOptions{From: t.TempDir(), To: url}); err == nil || !strings.Contains(err.Error(), "not a data folder") {
		t.Fatalf("an empty folder: %v", err)
	}
	if _, err := CopyToPostgres(ctx, CopyOptions{From: good, To: filepath.Join(t.TempDir(), "x")}); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("a target that is not PostgreSQL: %v", err)
	}
	if _, err := CopyToPostgres(ctx, CopyOptions{From: good, Key: filepath.Join(good, KeyFile), To: url}); err == nil || !strings.Contains(err.Error(), "-key is for a backup") {
		t.Fatalf("-key with a folder: %v", err)
	}
}

// A value a PostgreSQL column cannot hold unchanged is an error, never converted.
func TestCopyValueKeepsValuesOrFails(t *testing.T) {
	for _, c := range []struct {
		v   any
		typ string
		ok  bool
	}{
		{int64(7), "bigint", true}, {"x", "text", true}, {[]byte("x"), "text", true}, {[]byte{0xff}, "text", false},
		{[]byte{0, 1}, "bytea", true}, {"x", "bytea", true}, {1.5, "bigint", false}, {"7", "bigint", false},
		{nil, "bigint", true}, {int64(1), "jsonb", false},
	} {
		got, err := copyValue(c.v, c.typ)
		if (err == nil) != c.ok {
			t.Errorf("%T %v into %s: %v, %v", c.v, c.v, c.typ, got, err)
		}
	}
}
