package storetest

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Review 34 (security review of issue 34's commits, 1ed6fde..): a forward-auth cache miss now
// reads only who the person is (ForwardSession), and a refresh grant reads its token and user in
// one statement (RefreshTokenAndUser). These probes fail if either answers a session or a
// person the full reads (Session liveness, RefreshTokenByHash and User) would not.

// review34Checks run on SQLite and PostgreSQL.
var review34Checks = []check{
	{"ForwardSessionLiveness", review34ForwardSessionLiveness},
	{"RefreshTokenAndUserAsTwoReads", review34RefreshTokenAndUserAsTwoReads},
}

func TestReview34SQLite(t *testing.T) { runChecks(t, review34Checks, sqliteStore) }

func TestReview34Postgres(t *testing.T) {
	runChecks(t, review34Checks, postgresPair(postgrestest.Shared(t)))
}

// A forward-auth session gives nobody once its person is disabled, retired by a link or
// deleted, their source turned off, or the session expired; its person's groups are read
// fresh (no copy kept with the session).
func review34ForwardSessionLiveness(e *env) {
	cases := []struct {
		name string
		end  func(src *store.Source, d *store.LoginDone, sid string)
	}{
		{"disabled", func(_ *store.Source, d *store.LoginDone, _ string) {
			e.ok(e.a.SetDisabled(e.ctx, d.UserID, true, store.DisabledByAdmin), "disable")
		}},
		{"source off", func(src *store.Source, _ *store.LoginDone, _ string) {
			e.ok(e.a.SetEnabled(e.ctx, src.ID, false), "source off")
		}},
		{"deleted", func(_ *store.Source, d *store.LoginDone, _ string) { e.ok(e.a.DeleteUser(e.ctx, d.UserID), "delete") }},
		{"expired", func(*store.Source, *store.LoginDone, string) { e.advance(2 * time.Hour) }},
		{"logged out", func(_ *store.Source, _ *store.LoginDone, sid string) {
			e.ok(e.a.DeleteForwardSession(e.ctx, sid), "log out")
		}},
		{"retired by a link", func(src *store.Source, d *store.LoginDone, _ string) {
			other := e.source("other-" + src.Slug)
			keep := e.login(e.a, other, "7", "")
			e.ok(e.a.LinkPeople(e.ctx, keep.UserID, d.UserID), "link")
		}},
		{"signed out everywhere", func(_ *store.Source, d *store.LoginDone, _ string) {
			e.ok(e.a.SignOutEverywhere(e.ctx, d.UserID), "sign out everywhere")
		}},
	}
	for i, c := range cases {
		src := e.source("s" + string(rune('a'+i)))
		d := e.login(e.a, src, "7", "")
		sid := "f-" + c.name
		_, _, err := e.a.CreateForwardSession(e.ctx, sid, d.SessionID, time.Hour)
		e.ok(err, "create "+c.name)
		u, _, err := e.b.ForwardSession(e.ctx, sid)
		e.ok(err, "read "+c.name)
		e.ok(e.a.SetAdminGroups(e.ctx, d.UserID, []string{"later"}), "groups")
		if u2, _, err := e.b.ForwardSession(e.ctx, sid); err != nil || !slices.Contains(u2.Groups, "later") || u2.ID != u.ID {
			e.Fatalf("%s: the person's groups not read fresh: %+v %v", c.name, u2, err)
		}
		c.end(src, d, sid)
		if u, _, err := e.b.ForwardSession(e.ctx, sid); !errors.Is(err, store.ErrNotFound) {
			e.Fatalf("HOLE: %s, yet the forward-auth session answers %+v (%v)", c.name, u, err)
		}
		if c.name == "expired" {
			e.advance(-2 * time.Hour)
		}
	}
}

// RefreshTokenAndUser answers what RefreshTokenByHash and User answer, in every state of the
// token and its person (revoked read as revoked for a disabled person or a source turned off).
func review34RefreshTokenAndUserAsTwoReads(e *env) {
	type state struct {
		name string
		set  func(src *store.Source, uid int64, rt store.RefreshToken)
	}
	for i, s := range []state{
		{"live", func(*store.Source, int64, store.RefreshToken) {}},
		{"rotated", func(_ *store.Source, _ int64, rt store.RefreshToken) {
			n, _ := next(rt, rt.Hash+"-next")
			e.ok(e.a.RotateRefreshToken(e.ctx, rt.Hash, n), "rotate")
		}},
		{"revoked", func(_ *store.Source, _ int64, rt store.RefreshToken) {
			e.ok(e.a.RevokeFamily(e.ctx, rt.FamilyID), "revoke")
		}},
		{"disabled", func(_ *store.Source, uid int64, _ store.RefreshToken) {
			e.ok(e.a.SetDisabled(e.ctx, uid, true, store.DisabledByAdmin), "disable")
		}},
		{"source off", func(src *store.Source, _ int64, _ store.RefreshToken) {
			e.ok(e.a.SetEnabled(e.ctx, src.ID, false), "off")
		}},
		{"deleted", func(_ *store.Source, uid int64, _ store.RefreshToken) { e.ok(e.a.DeleteUser(e.ctx, uid), "delete") }},
	} {
		src := e.source("r" + string(rune('a'+i)))
		uid := e.login(e.a, src, "7", "").UserID
		rt := e.refreshFamily("h-"+s.name, "f-"+s.name, "g-"+s.name, uid)
		s.set(src, uid, rt)
		wantT, errT := e.b.RefreshTokenByHash(e.ctx, rt.Hash)
		var wantU *store.User
		var errU error
		if errT == nil {
			wantU, errU = e.b.User(e.ctx, wantT.UserID)
		}
		gotT, gotU, err := e.b.RefreshTokenAndUser(e.ctx, rt.Hash)
		twoFound := errT == nil && errU == nil
		if (err == nil) != twoFound {
			e.Fatalf("HOLE: %s: one read %v, two reads %v / %v", s.name, err, errT, errU)
		}
		if err == nil && (!reflect.DeepEqual(gotT, wantT) || !reflect.DeepEqual(gotU, wantU)) {
			e.Fatalf("HOLE: %s: one read %+v %+v, two reads %+v %+v", s.name, gotT, gotU, wantT, wantU)
		}
		if live := err == nil && !gotT.Revoked && !gotT.Rotated; live != (s.name == "live") {
			e.Fatalf("HOLE: %s: read as live=%v (%+v)", s.name, live, gotT)
		}
	}
}

// With write transactions beginning immediate, no read path takes the write lock: while
// another connection holds it (an open BEGIN IMMEDIATE, as a writer or the checkpointer's
// RESTART would), the reads of forward-auth, sessions and the refresh grant answer at once.
func TestReview34ReadsWhileWriteLockHeld(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := newEnv(t, func(*testing.T) (a, b *store.Store) { return s, s })
	src := e.source("s")
	d := e.login(e.a, src, "7", "")
	_, _, err = e.a.CreateForwardSession(e.ctx, "f", d.SessionID, time.Hour)
	e.ok(err, "forward session")
	e.refreshFamily("h", "f", "g", d.UserID)
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "host.db")+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(e.ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(e.ctx, `ROLLBACK`) //nolint:errcheck
	// A read that waited for the lock (the busy timeout is 5 s) would fail with this context.
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	defer cancel()
	if _, _, err := s.ForwardSession(ctx, "f"); err != nil {
		t.Fatalf("HOLE: forward-auth read under a held write lock: %v", err)
	}
	if _, err := s.Session(ctx, d.Token); err != nil {
		t.Fatalf("HOLE: session read under a held write lock: %v", err)
	}
	if _, _, err := s.RefreshTokenAndUser(ctx, "h"); err != nil {
		t.Fatalf("HOLE: refresh read under a held write lock: %v", err)
	}
	// The lock is held: a write waits for it (and gives up with its context).
	short, stop := context.WithTimeout(e.ctx, 300*time.Millisecond)
	defer stop()
	if err := s.SetAdminGroups(short, d.UserID, []string{"x"}); err == nil {
		t.Fatal("a write passed while the other connection held the write lock: the test shows nothing")
	}
}
