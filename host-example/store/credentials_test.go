package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A handed-over credential is sealed at rest, replaced at each login, and deleted when the
// user is disabled, signs out everywhere, or the source is turned off; a backup holds it
// only sealed.
func TestCredentialsSealedReplacedAndDeleted(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	src, _ := s.CreateSource(ctx, "p", "slug", "name")
	_ = s.SetEnabled(ctx, src.ID, true)
	const secret = "account-token-7f3a9c0e51d2"
	login := func(value string) int64 {
		u := User{SourceID: src.ID, Subject: "42"}
		if value != "" {
			u.Credentials = []Credential{{Kind: "x.token", Value: value}}
		}
		done, err := s.FinishLogin(ctx, u, Event{Kind: "login_allowed"}, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return done.UserID
	}
	id := login(secret)
	c, err := s.UserCredential(ctx, id, "x.token")
	if err != nil || c.Value != secret || c.Stamp == "" {
		t.Fatalf("stored credential: %v %v", c, err)
	}
	first := c.Stamp
	if stamp, _ := s.CredentialStamp(ctx, id, "x.token"); stamp != first {
		t.Fatalf("stamp %q, want %q", stamp, first)
	}
	// Never in the clear: not in the database file, nor in a backup.
	_, _ = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "host.db"), filepath.Join(dir, "host.db-wal"), backup} {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%s holds the credential in the clear", f)
		}
	}
	// A new login replaces it (new stamp); a login without one deletes it.
	id = login("second-token")
	if c, _ := s.UserCredential(ctx, id, "x.token"); c == nil || c.Value != "second-token" || c.Stamp == first {
		t.Fatalf("not replaced: %v", c)
	}
	login("")
	if _, err := s.UserCredential(ctx, id, "x.token"); err != ErrNotFound {
		t.Fatalf("a login without a credential kept the old one: %v", err)
	}
	for name, end := range map[string]func(){
		"disabled":            func() { _ = s.SetDisabled(ctx, id, true, DisabledByAdmin); _ = s.SetDisabled(ctx, id, false, "") },
		"signed out":          func() { _ = s.SignOutEverywhere(ctx, id) },
		"source turned off":   func() { _ = s.SetEnabled(ctx, src.ID, false); _ = s.SetEnabled(ctx, src.ID, true) },
		"setting turned off":  func() { _, _ = s.DeleteSourceCredentials(ctx, src.ID, "x.token") },
		"refused by upstream": func() { _ = s.DeleteUserCredentials(ctx, id, "x.token") },
	} {
		login(secret)
		end()
		if n, _ := s.CountCredentials(ctx, "x.token"); n != 0 {
			t.Errorf("%s: %d credentials kept", name, n)
		}
	}
}
