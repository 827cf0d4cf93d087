package storetest

import (
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var purgeChecks = []check{
	{"PurgeExpired", purgeExpired},
	{"PurgeKeepsCodeTombstonesAndLiveFamilies", purgeKeepsCodeTombstonesAndLiveFamilies},
}

// purge runs a purge on s and answers how many rows went.
func (e *env) purge(s *store.Store) int64 {
	e.Helper()
	n, err := s.Purge(e.ctx)
	e.ok(err, "purge")
	return n
}

// A purge deletes what expired and keeps what did not; a second purge finds nothing.
func purgeExpired(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID // a session for an hour
	e.ok(e.a.AddEvent(e.ctx, store.Event{Kind: store.EventAdminLogin}), "old event")
	e.advance(store.EventsKeep)
	e.ok(e.a.AddEvent(e.ctx, store.Event{Kind: store.EventAdminLoginFailed}), "recent event")
	short, long := e.time().Add(time.Minute), e.time().Add(time.Hour)
	for i, exp := range []time.Time{short, long} {
		tag := []string{"short", "long"}[i]
		_, sess, err := e.a.CreateSession(e.ctx, uid, false, exp.Sub(e.time()))
		e.ok(err, "session")
		_, _, err = e.a.CreateForwardSession(e.ctx, "fwd-"+tag, sess.ID, exp.Sub(e.time()))
		e.ok(err, "forward-auth session")
		_, err = e.a.PutLoginState(e.ctx, store.LoginState{SessionID: "sess-" + tag, Kind: store.StateLogin, ExpiresAt: exp})
		e.ok(err, "login state")
		e.ok(e.a.CreateAuthRequest(e.ctx, store.AuthRequest{ID: "ar-" + tag, ClientID: "c", Data: []byte(`{}`), ExpiresAt: exp}), "request")
		e.ok(e.a.PutAccessToken(e.ctx, store.AccessToken{ID: "at-" + tag, GrantID: "g", ClientID: "c", UserID: uid, Expires: exp}), "access token")
	}
	e.advance(2 * time.Minute)
	before, err := e.b.CountSessions(e.ctx)
	e.ok(err, "count")
	if n := e.purge(e.b); n < 7 { // the hour's session, the short ones (5 kinds), the old event
		e.Fatalf("purged %d rows, want at least 7", n)
	}
	if after, err := e.a.CountSessions(e.ctx); err != nil || after != before-2 {
		e.Fatalf("sessions %d → %d (%v)", before, after, err)
	}
	if !e.forwardLive(e.a, "fwd-long") {
		e.Error("an unexpired forward-auth session went")
	}
	if _, err := e.a.AuthRequestByID(e.ctx, "ar-long"); err != nil {
		e.Errorf("an unexpired request went: %v", err)
	}
	if !e.accessLive(e.a, "at-long") {
		e.Error("an unexpired access token went")
	}
	if got := e.takeAll(e.a, "sess-long", store.StateLogin); len(got) != 1 {
		e.Error("an unexpired login state went")
	}
	if evs, err := e.a.Events(e.ctx, 10, ""); err != nil || len(evs) != 1 || evs[0].Kind != store.EventAdminLoginFailed {
		e.Errorf("events after a purge: %+v %v", evs, err)
	}
	if n := e.purge(e.a); n != 0 {
		e.Errorf("a second purge found %d rows", n)
	}
}

// A used code's tombstone outlives the code (a replay still revokes the grant) and goes in
// the end; a refresh family stays whole, rotated tokens included, while one of its tokens is
// unexpired.
func purgeKeepsCodeTombstonesAndLiveFamilies(e *env) {
	src := e.source("s")
	g := e.issue(src, "g1") // a code for a minute
	if ok, err := e.a.ClaimCode(e.ctx, g.code, store.CodeTokens{}); err != nil || !ok {
		e.Fatalf("claim: %v %v", ok, err)
	}
	uid := e.login(e.a, src, "fam", "").UserID
	r0 := e.refreshFamily("r0", "f", "gf", uid)
	r1, _ := next(r0, "r1")
	r1.Expires = e.time().Add(3 * time.Hour)
	e.ok(e.a.RotateRefreshToken(e.ctx, "r0", r1), "rotate")
	e.advance(2 * time.Minute)
	e.purge(e.b)
	_, err := e.a.AuthRequestByCode(e.ctx, g.code)
	e.is(err, store.ErrCodeReused, "a replayed code after the code expired and a purge")
	e.advance(2 * time.Hour) // r0 expired, r1 not
	e.purge(e.a)
	_, err = e.b.AuthRequestByCode(e.ctx, g.code)
	e.is(err, store.ErrNotFound, "a code whose tombstone's time is over")
	if st := e.refreshState(e.b, "r0"); st != "rotated" {
		e.Fatalf("an expired token of a live family is %s after a purge", st)
	}
	e.advance(2 * time.Hour)
	e.purge(e.b)
	for _, h := range []string{"r0", "r1"} {
		if st := e.refreshState(e.a, h); st != "missing" {
			e.Errorf("%s of an expired family is %s after a purge", h, st)
		}
	}
}
