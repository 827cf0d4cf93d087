package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var sessionChecks = []check{
	{"SessionCreateReadExpireDelete", sessionCreateReadExpireDelete},
	{"SessionAdminOnesEnd", sessionAdminOnesEnd},
	{"SessionKeepsItsSignInTime", sessionKeepsItsSignInTime},
	{"UpgradeSessionNeedsALiveSession", upgradeSessionNeedsALiveSession},
	{"CountLiveSessions", countLiveSessions},
	{"SessionSlidesWhenSeen", sessionSlidesWhenSeen},
}

// The live sessions are counted by kind as live.go says: signed-in host sessions (not a
// visitor's), forward-auth sessions; an expired one, or a disabled person's, is not counted.
func countLiveSessions(e *env) {
	count := func(host, forward int, what string) {
		e.Helper()
		n, err := e.b.CountLiveSessions(e.ctx)
		e.ok(err, "count")
		if n.Host != host || n.Forward != forward {
			e.Fatalf("%s: %+v, want %d host and %d forward-auth", what, n, host, forward)
		}
	}
	count(0, 0, "empty")
	src := e.source("s")
	alice, bob := e.login(e.a, src, "1", "alice"), e.login(e.a, src, "2", "bob")
	_, _, err := e.a.CreateSession(e.ctx, 0, false, time.Hour)
	e.ok(err, "a visitor's session")
	_, _, err = e.a.CreateSession(e.ctx, 0, true, 2*time.Hour)
	e.ok(err, "an admin's session")
	_, _, err = e.a.CreateForwardSession(e.ctx, "fa", alice.SessionID, 2*time.Hour)
	e.ok(err, "forward-auth session")
	_, _, err = e.a.CreateForwardSession(e.ctx, "fb", bob.SessionID, 30*time.Minute)
	e.ok(err, "forward-auth session")
	count(3, 2, "alice's, bob's and the admin's")
	e.ok(e.a.SetDisabled(e.ctx, bob.UserID, true, store.DisabledByAdmin), "disable")
	count(2, 1, "bob disabled")
	e.advance(time.Hour)
	count(1, 0, "the logins' sessions expired, their forward-auth sessions with them")
}

// A remembered session slides: seen, it ends its slide after that, never past its cap; its
// sign-in time never moves; an earlier "seen" changes nothing; an ended session stays ended;
// an admin session is never touched.
func sessionSlidesWhenSeen(e *env) {
	src := e.source("slide")
	signedIn := e.time()
	d, err := e.a.FinishLoginWith(e.ctx, store.User{SourceID: src.ID, Subject: "s"}, store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed},
		"", store.SessionTerms{Life: 10 * time.Hour, Slide: 4 * time.Hour, Remembered: true})
	e.ok(err, "login")
	if !d.ExpiresAt.Equal(signedIn.Add(4 * time.Hour)) {
		e.Fatalf("first expiry %v, want the slide's", d.ExpiresAt)
	}
	read := func(what string) *store.Session {
		e.Helper()
		got, err := e.b.Session(e.ctx, d.Token)
		e.ok(err, what)
		return got
	}
	if got := read("read"); !got.Remembered || got.Slide != 4*time.Hour || !got.ExpiresCap.Equal(signedIn.Add(10*time.Hour)) || !got.LastSeen.Equal(signedIn) {
		e.Fatalf("the new session: %+v", got)
	}
	e.advance(3 * time.Hour)
	seen := e.time()
	e.ok(e.a.TouchSessions(e.ctx, []store.SessionSeen{{ID: d.SessionID, At: seen}}), "touch")
	if got := read("after a touch"); !got.ExpiresAt.Equal(seen.Add(4*time.Hour)) || !got.LastSeen.Equal(seen) || !got.AuthTime.Equal(signedIn) {
		e.Fatalf("slid: %+v", got)
	}
	_, _, err = e.a.CreateForwardSession(e.ctx, "forward-of-remembered", d.SessionID, time.Hour)
	e.ok(err, "forward-auth session")
	listed, err := e.b.UserSessions(e.ctx, d.UserID)
	e.ok(err, "list")
	if len(listed) != 2 || listed[0].Kind != store.HostSession || !listed[0].Remembered || !listed[0].LastSeen.Equal(seen) ||
		listed[1].Kind != store.ForwardAuthSession || listed[1].Remembered || !listed[1].LastSeen.IsZero() {
		e.Fatalf("the person's sessions: %+v", listed)
	}
	e.ok(e.a.TouchSessions(e.ctx, []store.SessionSeen{{ID: d.SessionID, At: signedIn.Add(time.Hour)}}), "an earlier touch")
	if got := read("after an earlier touch"); !got.LastSeen.Equal(seen) || !got.ExpiresAt.Equal(seen.Add(4*time.Hour)) {
		e.Fatalf("an earlier touch moved it: %+v", got)
	}
	e.advance(3*time.Hour + 30*time.Minute)
	e.ok(e.a.TouchSessions(e.ctx, []store.SessionSeen{{ID: d.SessionID, At: e.time()}}), "touch near the cap")
	if got := read("capped"); !got.ExpiresAt.Equal(signedIn.Add(10*time.Hour)) || !got.AuthTime.Equal(signedIn) {
		e.Fatalf("past its cap: %+v", got)
	}
	e.advance(4 * time.Hour)
	e.ok(e.a.TouchSessions(e.ctx, []store.SessionSeen{{ID: d.SessionID, At: e.time()}}), "touch an ended one")
	if e.sessionLive(e.b, d.Token) {
		e.Fatal("a touch revived an ended session")
	}
	tok, admin, err := e.a.CreateSession(e.ctx, 0, true, time.Hour)
	e.ok(err, "admin session")
	e.advance(30 * time.Minute)
	e.ok(e.a.TouchSessions(e.ctx, []store.SessionSeen{{ID: admin.ID, At: e.time()}}), "touch an admin session")
	if got, err := e.b.Session(e.ctx, tok); err != nil || !got.ExpiresAt.Equal(admin.ExpiresAt) || !got.LastSeen.Equal(admin.LastSeen) {
		e.Fatalf("an admin session was touched: %+v %v", got, err)
	}
}

// A session keeps the time of the sign-in it stands on: now for a new sign-in, the person's
// sign-in for the admin session made of it (UpgradeSession), which never outlives that
// sign-in by more than its life.
func sessionKeepsItsSignInTime(e *env) {
	tok, sess, err := e.a.CreateSession(e.ctx, 0, false, time.Hour)
	e.ok(err, "create")
	if got, err := e.b.Session(e.ctx, tok); err != nil || !got.AuthTime.Equal(e.time()) || !sess.AuthTime.Equal(e.time()) {
		e.Fatalf("a new sign-in's session: %+v %v", got, err)
	}
	signedIn := e.time()
	d := e.login(e.a, e.source("since"), "since", "")
	e.advance(10 * time.Minute)
	tok, sess, err = e.a.UpgradeSession(e.ctx, d.SessionID, d.UserID, time.Hour)
	e.ok(err, "upgrade")
	got, err := e.b.Session(e.ctx, tok)
	e.ok(err, "read")
	if !got.AuthTime.Equal(signedIn) || !got.ExpiresAt.Equal(signedIn.Add(time.Hour)) || !got.CreatedAt.Equal(e.time()) || !got.Admin ||
		!sess.ExpiresAt.Equal(got.ExpiresAt) {
		e.Fatalf("a session from an earlier sign-in: %+v (created %+v)", got, sess)
	}
	e.advance(50 * time.Minute)
	if e.sessionLive(e.b, tok) {
		e.Error("a session outlived its sign-in by more than its life")
	}
}

// A session is read on either handle by its cookie token until it expires or is deleted.
func sessionCreateReadExpireDelete(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	token, sess, err := e.a.CreateSession(e.ctx, uid, false, time.Hour)
	e.ok(err, "create")
	anonToken, anon, err := e.a.CreateSession(e.ctx, 0, false, 2*time.Hour)
	e.ok(err, "create anonymous")
	if token == "" || sess.ID == "" || sess.ID == token || sess.CSRF == "" || anon.ID == sess.ID {
		e.Fatalf("sessions: %q %+v %+v", token, sess, anon)
	}
	got, err := e.b.Session(e.ctx, token)
	e.ok(err, "read")
	if got.ID != sess.ID || got.UserID != uid || got.Admin || got.CSRF != sess.CSRF || !got.CreatedAt.Equal(e.time()) ||
		!got.ExpiresAt.Equal(e.time().Add(time.Hour)) {
		e.Fatalf("read %+v, created %+v", got, sess)
	}
	if got, err := e.b.Session(e.ctx, anonToken); err != nil || got.UserID != 0 || got.ID != anon.ID {
		e.Fatalf("anonymous session: %+v %v", got, err)
	}
	_, err = e.b.Session(e.ctx, "no-such-token")
	e.is(err, store.ErrNotFound, "unknown token")
	_, err = e.b.Session(e.ctx, sess.ID)
	e.is(err, store.ErrNotFound, "the session id as a token")
	if n, err := e.b.CountSessions(e.ctx); err != nil || n != 3 { // the login's, and these two
		e.Fatalf("%d sessions (%v)", n, err)
	}
	e.advance(time.Hour)
	if e.sessionLive(e.b, token) {
		e.Error("session live at its expiry")
	}
	if !e.sessionLive(e.b, anonToken) {
		e.Error("session ended before its expiry")
	}
	e.ok(e.a.DeleteSession(e.ctx, anon.ID), "delete")
	if e.sessionLive(e.b, anonToken) {
		e.Error("deleted session live")
	}
}

// Ending the admin sessions ends those only, and answers how many.
func sessionAdminOnesEnd(e *env) {
	var admins []string
	for range 2 {
		tok, sess, err := e.a.CreateSession(e.ctx, 0, true, time.Hour)
		e.ok(err, "admin session")
		if !sess.Admin {
			e.Fatal("an admin session without Admin")
		}
		admins = append(admins, tok)
	}
	plain, _, err := e.a.CreateSession(e.ctx, 0, false, time.Hour)
	e.ok(err, "session")
	if got, err := e.b.Session(e.ctx, admins[0]); err != nil || !got.Admin {
		e.Fatalf("admin session read: %+v %v", got, err)
	}
	if n, err := e.b.DeleteAdminSessions(e.ctx); err != nil || n != 2 {
		e.Fatalf("ended %d admin sessions (%v), want 2", n, err)
	}
	if e.sessionLive(e.a, admins[1]) || !e.sessionLive(e.a, plain) {
		e.Error("ending the admin sessions ended the wrong ones")
	}
}

var loginStateChecks = []check{
	{"LoginStateTakeSingleUse", loginStateTakeSingleUse},
	{"LoginStateClaimReleaseDelete", loginStateClaimReleaseDelete},
	{"LoginStateCapKeepsNewest", loginStateCapKeepsNewest},
	{"LoginStartsBound", loginStartsBound},
}

// putState stores a login state of session and kind on s, expiring in a minute.
func (e *env) putState(s *store.Store, session string, kind store.LoginStateKind, state string) string {
	e.Helper()
	id, err := s.PutLoginState(e.ctx, store.LoginState{SessionID: session, SourceID: "src", Kind: kind, ActionID: "act",
		State: []byte(state), ExpiresAt: e.time().Add(time.Minute)})
	e.ok(err, "put login state")
	return id
}

// takeAll takes a session's states of a kind, newest first, until none is left.
func (e *env) takeAll(s *store.Store, session string, kind store.LoginStateKind) []string {
	e.Helper()
	var out []string
	for {
		st, err := s.TakeLoginState(e.ctx, session, kind)
		if errors.Is(err, store.ErrNotFound) {
			return out
		}
		e.ok(err, "take login state")
		out = append(out, string(st.State))
		if len(out) > 100 {
			e.Fatal("a state was taken more than once")
		}
	}
}

// Taking gives the session's newest state of a kind once, whole; other sessions and kinds are
// apart; an expired state is not given.
func loginStateTakeSingleUse(e *env) {
	id := e.putState(e.a, "sess", store.StateLogin, "first")
	e.advance(time.Second)
	e.putState(e.a, "sess", store.StateLogin, "second")
	e.putState(e.a, "sess", store.StateStep, "step")
	e.putState(e.a, "other", store.StateLogin, "other's")
	given, err := e.a.PutLoginState(e.ctx, store.LoginState{ID: "chosen-id", SessionID: "sess", Kind: store.StateAction,
		ExpiresAt: e.time().Add(time.Minute)})
	if err != nil || given != "chosen-id" || id == "" {
		e.Fatalf("ids: %q %v, and %q", given, err, id)
	}
	st, err := e.b.TakeLoginState(e.ctx, "sess", store.StateLogin)
	e.ok(err, "take")
	if string(st.State) != "second" || st.SessionID != "sess" || st.SourceID != "src" || st.Kind != store.StateLogin || st.ActionID != "act" {
		e.Fatalf("taken: %+v", st)
	}
	if got := e.takeAll(e.b, "sess", store.StateLogin); len(got) != 1 || got[0] != "first" {
		e.Fatalf("left: %v", got)
	}
	if got := e.takeAll(e.a, "sess", store.StateLogin); len(got) != 0 {
		e.Fatalf("taken twice: %v", got)
	}
	if got := e.takeAll(e.a, "sess", store.StateStep); len(got) != 1 {
		e.Fatalf("another kind: %v", got)
	}
	e.advance(time.Minute + time.Second)
	if got := e.takeAll(e.b, "other", store.StateLogin); len(got) != 0 {
		e.Fatalf("expired state taken: %v", got)
	}
}

// A claim is exclusive on either handle until released, lapses after its hold, and finds
// nothing for another session, another kind, or a deleted or expired state.
func loginStateClaimReleaseDelete(e *env) {
	id := e.putState(e.a, "sess", store.StateLogin, "s")
	_, err := e.b.ClaimLoginState(e.ctx, "other", store.StateLogin, id, time.Minute)
	e.is(err, store.ErrNotFound, "another session's claim")
	_, err = e.b.ClaimLoginState(e.ctx, "sess", store.StateStep, id, time.Minute)
	e.is(err, store.ErrNotFound, "a claim of another kind")
	st, err := e.b.ClaimLoginState(e.ctx, "sess", store.StateLogin, id, 10*time.Second)
	if err != nil || string(st.State) != "s" || st.ID != id {
		e.Fatalf("claim: %+v %v", st, err)
	}
	_, err = e.a.ClaimLoginState(e.ctx, "sess", store.StateLogin, id, time.Minute)
	e.is(err, store.ErrNotFound, "second claim")
	e.ok(e.a.ReleaseLoginState(e.ctx, id), "release")
	_, err = e.b.ClaimLoginState(e.ctx, "sess", store.StateLogin, id, 10*time.Second)
	e.ok(err, "claim after a release")
	e.advance(11 * time.Second)
	_, err = e.a.ClaimLoginState(e.ctx, "sess", store.StateLogin, id, time.Minute)
	e.ok(err, "claim after the hold lapsed")
	e.ok(e.b.DeleteLoginState(e.ctx, id), "delete")
	e.ok(e.b.ReleaseLoginState(e.ctx, id), "release a deleted state")
	_, err = e.a.ClaimLoginState(e.ctx, "sess", store.StateLogin, id, time.Minute)
	e.is(err, store.ErrNotFound, "claim of a deleted state")
	old := e.putState(e.a, "sess", store.StateLogin, "old")
	e.advance(2 * time.Minute)
	_, err = e.b.ClaimLoginState(e.ctx, "sess", store.StateLogin, old, time.Minute)
	e.is(err, store.ErrNotFound, "claim of an expired state")
}

// A session keeps its newest MaxLoginStates states of a kind; states begun in the same
// instant are ordered as they were stored. Other sessions and kinds keep theirs.
func loginStateCapKeepsNewest(e *env) {
	for _, tick := range []time.Duration{time.Second, 0} {
		session := fmt.Sprintf("sess-%d", tick)
		var want []string
		for i := range store.MaxLoginStates + 3 {
			e.advance(tick)
			s := e.a
			if i%2 == 1 {
				s = e.b
			}
			e.putState(s, session, store.StateLogin, fmt.Sprint(i))
			want = append([]string{fmt.Sprint(i)}, want...)
		}
		e.putState(e.a, session, store.StateStep, "step")
		e.putState(e.a, "other-"+session, store.StateLogin, "other")
		got := e.takeAll(e.b, session, store.StateLogin)
		if fmt.Sprint(got) != fmt.Sprint(want[:store.MaxLoginStates]) {
			e.Errorf("tick %v: kept %v, want %v", tick, got, want[:store.MaxLoginStates])
		}
		if n := len(e.takeAll(e.b, session, store.StateStep)) + len(e.takeAll(e.b, "other-"+session, store.StateLogin)); n != 2 {
			e.Errorf("tick %v: the cap took other kinds' or sessions' states", tick)
		}
	}
}

// Login starts are bounded per client (its newest kept) and in all (a batch down to nine
// tenths, the busiest client's oldest first); other kinds of state are not counted nor dropped.
func loginStartsBound(e *env) {
	start := func(s *store.Store, id, client string) {
		e.Helper()
		e.advance(time.Millisecond)
		_, err := s.PutLoginState(e.ctx, store.LoginState{ID: id, SessionID: "sess-" + id, SourceID: "src", Kind: store.StateLogin,
			ClientKey: client, ExpiresAt: e.time().Add(time.Hour)})
		e.ok(err, "put login start")
	}
	live := func(id string) bool {
		e.Helper()
		_, err := e.b.ClaimLoginState(e.ctx, "sess-"+id, store.StateLogin, id, time.Second)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			e.Fatalf("claim %s: %v", id, err)
		}
		return err == nil
	}
	e.putState(e.a, "sess-step", store.StateStep, "a step")
	flood := []string{"f0", "f1", "f2", "f3", "f4"}
	for i, id := range flood {
		start([]*store.Store{e.a, e.b}[i%2], id, "flood")
	}
	start(e.b, "q0", "quiet")
	if n, err := e.b.CountLoginStarts(e.ctx); err != nil || n != 6 {
		e.Fatalf("%d login starts (%v), want 6", n, err)
	}
	if n, err := e.a.BoundLoginStarts(e.ctx, "flood", 3, 100); err != nil || n != 2 {
		e.Fatalf("per client: dropped %d (%v), want 2", n, err)
	}
	if n, err := e.b.BoundLoginStarts(e.ctx, "quiet", 3, 2); err != nil || n != 3 {
		e.Fatalf("in all: dropped %d (%v), want 3", n, err)
	}
	for _, id := range flood { // down to one: the flood's newest is older than the quiet client's one
		if live(id) {
			e.Errorf("%s was kept", id)
		}
	}
	if !live("q0") {
		e.Error("the quiet client's one start went")
	}
	if got := e.takeAll(e.a, "sess-step", store.StateStep); len(got) != 1 {
		e.Errorf("another kind of state was dropped: %v", got)
	}
}

// A person's live session becomes an admin session standing on the same sign-in (the old one
// ends); after Sign out everywhere, ending that session, Disable or the source turned off
// (each on the other handle), none is made (ErrAccessEnded).
func upgradeSessionNeedsALiveSession(e *env) {
	src := e.source("s")
	d := e.login(e.a, src, "up", "")
	old, err := e.a.Session(e.ctx, d.Token)
	e.ok(err, "the person's session")
	tok, sess, err := e.b.UpgradeSession(e.ctx, d.SessionID, d.UserID, time.Hour)
	e.ok(err, "upgrade a live session")
	if !sess.Admin || !sess.AuthTime.Equal(old.AuthTime) || !e.sessionLive(e.a, tok) || e.sessionLive(e.a, d.Token) {
		e.Fatalf("upgraded %+v from %+v: admin, the same sign-in, the old one ended", sess, old)
	}
	ends := []struct {
		name string
		end  func(d *store.LoginDone) error
	}{
		{"sign out everywhere", func(d *store.LoginDone) error { return e.b.SignOutEverywhere(e.ctx, d.UserID) }},
		{"that session ended", func(d *store.LoginDone) error { return e.b.DeleteSession(e.ctx, d.SessionID) }},
		{"disable", func(d *store.LoginDone) error { return e.b.SetDisabled(e.ctx, d.UserID, true, store.DisabledByAdmin) }},
		{"source off", func(*store.LoginDone) error { return e.b.SetEnabled(e.ctx, src.ID, false) }},
	}
	for i, end := range ends {
		d := e.login(e.a, src, fmt.Sprint("up-", i), "")
		e.ok(end.end(d), end.name)
		if _, _, err := e.a.UpgradeSession(e.ctx, d.SessionID, d.UserID, time.Hour); !errors.Is(err, store.ErrAccessEnded) {
			e.Fatalf("%s: an admin session made after it: %v", end.name, err)
		}
	}
	e.ok(e.a.SetEnabled(e.ctx, src.ID, true), "source on again")
}
