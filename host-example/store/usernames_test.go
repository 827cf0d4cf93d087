package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// enabledSource is a turned-on source (FinishLogin refuses others).
func enabledSource(t *testing.T, s *Store, slug string) *Source {
	t.Helper()
	ctx := context.Background()
	src, err := s.CreateSource(ctx, "p", slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	return src
}

// userID logs (source, sub) in and returns the user's id.
func userID(t *testing.T, s *Store, src *Source, sub string) int64 {
	t.Helper()
	done, err := s.FinishLogin(context.Background(), User{SourceID: src.ID, Subject: sub}, Event{Kind: EventLoginAllowed}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return done.UserID
}

// loginAs logs (source, sub) in with the mapped username and returns the username the host gave.
func loginAs(t *testing.T, s *Store, src *Source, sub, mapped string) string {
	t.Helper()
	done, err := s.FinishLogin(context.Background(), User{SourceID: src.ID, Subject: sub, Username: mapped}, Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.User(context.Background(), done.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// A Home profile titled "alice" and a friend whose Plex username is "alice" are two names; so
// are names that differ only in case, width or invisible characters. Each keeps its name at
// every later login.
func TestUsernamesAreUniqueOnTheHost(t *testing.T) {
	s, _ := open(t)
	plex, other := enabledSource(t, s, "plex"), enabledSource(t, s, "other")
	steps := []struct {
		src               *Source
		sub, mapped, want string
	}{
		{plex, "2001", "alice", "alice"},          // the friend
		{plex, "3002", "alice", "alice-2"},        // the Home profile titled "alice"
		{other, "x", "Alice", "Alice-3"},          // another source, another case
		{plex, "3002", "alice", "alice-2"},        // again: the same name
		{plex, "2001", "alice", "alice"},          // and the first keeps hers
		{plex, "4001", "ａｌｉｃｅ", "ａｌｉｃｅ-4"},        // full-width letters
		{plex, "4002", "al\u200bice ", "alice-5"}, // a zero-width space and a trailing space
		{plex, "4003", "alice-2", "alice-2-2"},    // a name equal to someone's suffixed name
		{plex, "4006", "alıce", "alıce-6"},        // a dotless i (.NET and Java map it to I)
		{plex, "4007", "ALİCE", "ALİCE-7"},        // a dotted capital I
		{plex, "4008", "al𝚤ce", "al𝚤ce-8"},        // a mathematical dotless i (NFKC makes it ı)
		{plex, "4009", "alíce", "alíce-9"},        // an accent (MySQL's default collation ignores it)
		{plex, "4004", "", ""},                    // no username: none given, none reserved
		{plex, "4005", "", ""},
	}
	for i, st := range steps {
		if got := loginAs(t, s, st.src, st.sub, st.mapped); got != st.want {
			t.Fatalf("step %d: %s/%s mapped %q got %q, want %q", i, st.src.Slug, st.sub, st.mapped, got, st.want)
		}
	}
}

// A name is never given to another user: not after its user was renamed at the source, nor
// after the user was disabled; a renamed user who comes back to a name of theirs gets it back.
func TestRenamedUsernameIsNotFreed(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	plex := enabledSource(t, s, "plex")
	if got := loginAs(t, s, plex, "1", "alice"); got != "alice" {
		t.Fatalf("first alice: %q", got)
	}
	if got := loginAs(t, s, plex, "1", "alicia"); got != "alicia" { // renamed at Plex
		t.Fatalf("renamed: %q", got)
	}
	if got := loginAs(t, s, plex, "2", "alice"); got != "alice-2" { // someone else takes "alice" at Plex
		t.Fatalf("the newcomer got the old name: %q", got)
	}
	holder, err := s.UsernameHolder(ctx, "ALICE")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s.FindUser(ctx, plex.ID, "1")
	if err := s.SetDisabled(ctx, first.ID, true, DisabledByAdmin); err != nil || holder != first.ID {
		t.Fatalf("holder %d, want %d (%v)", holder, first.ID, err)
	}
	if got := loginAs(t, s, plex, "2", "alice"); got != "alice-2" { // the holder is disabled: no flip
		t.Fatalf("the newcomer after the holder was disabled: %q", got)
	}
	if got := loginAs(t, s, plex, "3", "alice"); got != "alice-3" {
		t.Fatalf("a third alice: %q", got)
	}
	if err := s.SetDisabled(ctx, first.ID, false, ""); err != nil {
		t.Fatal(err)
	}
	if got := loginAs(t, s, plex, "1", "alice"); got != "alice" { // back to a name of hers
		t.Fatalf("renamed back: %q", got)
	}
}

// A login that finishes after its source was turned off stores nothing and starts no session.
func TestFinishLoginRefusedWhileTheSourceIsOff(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src := enabledSource(t, s, "plex")
	if err := s.SetEnabled(ctx, src.ID, false); err != nil {
		t.Fatal(err)
	}
	done, err := s.FinishLogin(ctx, User{SourceID: src.ID, Subject: "42", Username: "x"}, Event{Kind: "login_allowed"}, "", time.Hour)
	if !errors.Is(err, ErrSourceOff) {
		t.Fatalf("login on a source turned off: %+v %v", done, err)
	}
	if n, _ := s.CountSessions(ctx); n != 0 {
		t.Fatalf("%d sessions", n)
	}
	if n, _ := s.CountUsers(ctx, src.ID, "42"); n != 0 {
		t.Fatalf("%d users stored", n)
	}
	if _, err := s.FinishLogin(ctx, User{SourceID: "gone", Subject: "42"}, Event{Kind: "login_allowed"}, "", time.Hour); !errors.Is(err, ErrSourceOff) {
		t.Fatalf("login on a removed source: %v", err)
	}
}

// todaysSchema builds a database as the schema before unique usernames (version 6) had it.
func todaysSchema(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_version (version INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:6] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (?)`, i+1); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// A database with duplicate usernames migrates deterministically: the oldest user of a name
// keeps it, a user whose own name looks like a suffix keeps it too, the others get the lowest
// free suffix, oldest first; later logins keep those names, and a newcomer gets the next one.
func TestMigrateDuplicateUsernames(t *testing.T) {
	dir := t.TempDir()
	db := todaysSchema(t, dir)
	if _, err := db.Exec(`INSERT INTO sources (id, plugin_id, slug, name, enabled, created_at, updated_at) VALUES
		('a', 'p', 'a', 'A', 1, 1, 1), ('b', 'p', 'b', 'B', 1, 1, 1)`); err != nil {
		t.Fatal(err)
	}
	users := []struct {
		src, sub, name string
		created        int
		want           string
	}{
		{"a", "1", "alice", 100, "alice-3"},
		{"b", "2", "Alice", 50, "Alice"}, // the oldest "alice"
		{"a", "3", "alice", 200, "alice-4"},
		{"a", "4", "alice-2", 300, "alice-2"}, // her own name
		{"a", "5", "", 10, ""},
		{"b", "6", " ", 20, ""},
		{"a", "7", "bob", 400, "bob"},
		{"b", "8", "BOB", 400, "BOB-2"}, // same time: the lower id is older
	}
	for i, u := range users {
		if _, err := db.Exec(`INSERT INTO users (source_id, sub, username, created_at, last_login_at, public_id) VALUES (?, ?, ?, ?, ?, ?)`,
			u.src, u.sub, u.name, u.created, u.created, fmt.Sprintf("%032d", i)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	check := func(when string) {
		for _, u := range users {
			got, err := s.FindUser(ctx, u.src, u.sub)
			if err != nil || got.Username != u.want {
				t.Fatalf("%s: %s/%s (%q): %+v %v, want %q", when, u.src, u.sub, u.name, got, err, u.want)
			}
		}
	}
	check("migrated")
	s.Close()
	if s, err = Open(dir); err != nil { // the reservation runs once
		t.Fatal(err)
	}
	check("reopened")
	src, _ := s.Source(ctx, "a")
	if got := loginAs(t, s, src, "1", "alice"); got != "alice-3" {
		t.Fatalf("a migrated user's next login: %q", got)
	}
	if got := loginAs(t, s, src, "9", "alice"); got != "alice-5" {
		t.Fatalf("a newcomer: %q", got)
	}
	if _, err := s.Meta(ctx, metaUsernamesPending); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the pending mark stayed: %v", err)
	}
}
