package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var userChecks = []check{
	{"UserCreatedThenUpdated", userCreatedThenUpdated},
	{"UserLoginReplacesBrowserSession", userLoginReplacesBrowserSession},
	{"UserDisabled", userDisabled},
	{"UserLoginRefusedWhileSourceOff", userLoginRefusedWhileSourceOff},
	{"UsernamesUnique", usernamesUnique},
	{"UserCredentials", userCredentials},
	{"UserSignOutEverywhere", userSignOutEverywhere},
	{"UserRevalidationBookkeeping", userRevalidationBookkeeping},
}

// The first login creates the user, a later one updates the same row: id and public id (the
// sub apps see) stay, attributes follow the source.
func userCreatedThenUpdated(e *env) {
	src := e.source("s")
	u := store.User{SourceID: src.ID, Subject: "42", Username: "alice", Email: "a@example.org", EmailVerified: true, Name: "Alice",
		Groups: []string{"g1", "g2"}, Attributes: json.RawMessage(`{"k":"v"}`), Revalidation: []byte("state-1")}
	first, err := e.a.FinishLogin(e.ctx, u, store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: "42", Name: "alice"}, "", time.Hour)
	e.ok(err, "first login")
	if first.UserID == 0 || first.Token == "" || first.Disabled || first.Username != "alice" {
		e.Fatalf("first login: %+v", first)
	}
	sess, err := e.b.Session(e.ctx, first.Token)
	e.ok(err, "the login's session")
	if sess.UserID != first.UserID || sess.Admin || !sess.ExpiresAt.Equal(e.time().Add(time.Hour)) {
		e.Fatalf("the login's session: %+v", sess)
	}
	got, err := e.b.User(e.ctx, first.UserID)
	e.ok(err, "read user")
	if got.PublicID == "" || got.SourceID != src.ID || got.Subject != "42" || got.Username != "alice" || got.Email != "a@example.org" ||
		!got.EmailVerified || got.Name != "Alice" || !slices.Equal(got.Groups, []string{"g1", "g2"}) || string(got.Revalidation) != "state-1" ||
		!slices.Equal(got.Memberships, []store.Membership{{Group: "g1", From: src.ID}, {Group: "g2", From: src.ID}}) {
		e.Fatalf("stored user: %+v", got)
	}
	var attrs map[string]string
	if err := json.Unmarshal(got.Attributes, &attrs); err != nil || attrs["k"] != "v" {
		e.Fatalf("attributes %s: %v", got.Attributes, err)
	}
	e.advance(time.Minute)
	u.Email, u.Groups = "new@example.org", []string{"g3"}
	second, err := e.b.FinishLogin(e.ctx, u, store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: "42"}, "", time.Hour)
	e.ok(err, "second login")
	if second.UserID != first.UserID || second.Username != "alice" || second.Token == first.Token {
		e.Fatalf("second login: %+v, first %+v", second, first)
	}
	again, err := e.a.User(e.ctx, first.UserID)
	e.ok(err, "read user again")
	if again.PublicID != got.PublicID || again.Email != "new@example.org" || !slices.Equal(again.Groups, []string{"g3"}) ||
		!slices.Equal(again.Memberships, []store.Membership{{Group: "g3", From: src.ID}}) ||
		!again.LastLoginAt.Equal(e.time()) {
		e.Fatalf("updated user: %+v (was %+v)", again, got)
	}
	if n, err := e.a.CountUsers(e.ctx, src.ID, "42"); err != nil || n != 1 {
		e.Fatalf("%d users (%v)", n, err)
	}
	for _, who := range []string{"42", "ALICE"} {
		if f, err := e.b.FindUser(e.ctx, src.ID, who); err != nil || f.ID != first.UserID {
			e.Fatalf("find %q: %+v %v", who, f, err)
		}
	}
	_, err = e.b.FindUser(e.ctx, src.ID, "bob")
	e.is(err, store.ErrNotFound, "find nobody")
	if p, err := e.b.UserByPublicID(e.ctx, got.PublicID); err != nil || p.ID != first.UserID {
		e.Fatalf("by public id: %+v %v", p, err)
	}
	_, err = e.b.User(e.ctx, first.UserID+1000)
	e.is(err, store.ErrNotFound, "unknown user")
	evs, err := e.b.Events(e.ctx, 10, "")
	e.ok(err, "events")
	if len(evs) != 2 || evs[0].Kind != store.EventLoginAllowed || evs[0].Subject != "42" {
		e.Fatalf("login events: %+v", evs)
	}
}

// A login replaces the browser's (anonymous) session, and logins under way in its other tabs
// follow the browser to the new session.
func userLoginReplacesBrowserSession(e *env) {
	src := e.source("s")
	anonToken, anon, err := e.a.CreateSession(e.ctx, 0, false, time.Hour)
	e.ok(err, "anonymous session")
	_, err = e.a.PutLoginState(e.ctx, store.LoginState{SessionID: anon.ID, SourceID: src.ID, Kind: store.StateLogin,
		State: []byte("other tab"), ExpiresAt: e.time().Add(time.Minute)})
	e.ok(err, "other tab's state")
	done, err := e.b.FinishLogin(e.ctx, store.User{SourceID: src.ID, Subject: "7"}, store.Event{Kind: store.EventLoginAllowed}, anon.ID, time.Hour)
	e.ok(err, "login")
	if e.sessionLive(e.a, anonToken) {
		e.Error("the browser's old session outlived the login")
	}
	sess, err := e.a.Session(e.ctx, done.Token)
	e.ok(err, "new session")
	st, err := e.a.TakeLoginState(e.ctx, sess.ID, store.StateLogin)
	if err != nil || string(st.State) != "other tab" {
		e.Fatalf("the other tab's state did not follow the browser: %+v %v", st, err)
	}
}

// A user an admin disabled logs in to no session (and the refusal is recorded); a user
// re-validation disabled is enabled again by logging in.
func userDisabled(e *env) {
	src := e.source("s")
	first := e.login(e.a, src, "1", "")
	e.ok(e.b.SetDisabled(e.ctx, first.UserID, true, store.DisabledByAdmin), "disable")
	if e.sessionLive(e.a, first.Token) {
		e.Error("a disabled user's session is live")
	}
	done := e.login(e.a, src, "1", "")
	if !done.Disabled || done.Token != "" || done.UserID != first.UserID {
		e.Fatalf("login of a disabled user: %+v", done)
	}
	if evs, err := e.b.Events(e.ctx, 1, ""); err != nil || len(evs) != 1 || evs[0].Kind != store.EventLoginDenied {
		e.Fatalf("refusal not recorded: %+v %v", evs, err)
	}
	if u, err := e.b.User(e.ctx, first.UserID); err != nil || !u.Disabled || u.DisabledReason != store.DisabledByAdmin {
		e.Fatalf("disabled user: %+v %v", u, err)
	}
	e.ok(e.b.SetDisabled(e.ctx, first.UserID, false, ""), "enable")
	e.ok(e.a.SetDisabled(e.ctx, first.UserID, true, store.DisabledByRevalidation), "disable by re-validation")
	done = e.login(e.b, src, "1", "")
	if done.Disabled || !e.sessionLive(e.a, done.Token) {
		e.Fatalf("login of a user re-validation disabled: %+v", done)
	}
	if u, err := e.a.User(e.ctx, first.UserID); err != nil || u.Disabled || u.DisabledReason != "" {
		e.Fatalf("user after a login: %+v %v", u, err)
	}
}

// A login finishing while its source is off (or gone) stores nothing.
func userLoginRefusedWhileSourceOff(e *env) {
	src, err := e.a.CreateSource(e.ctx, "plugin", "s", "S")
	e.ok(err, "create")
	for _, id := range []string{src.ID, "no-such-source"} {
		_, err := e.b.FinishLogin(e.ctx, store.User{SourceID: id, Subject: "1", Username: "alice"}, store.Event{Kind: store.EventLoginAllowed}, "", time.Hour)
		e.is(err, store.ErrSourceOff, "login at a source that is off")
		if n, err := e.a.CountUsers(e.ctx, id, "1"); err != nil || n != 0 {
			e.Fatalf("%d users stored (%v)", n, err)
		}
	}
	if _, err := e.a.UsernameHolder(e.ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		e.Fatalf("a refused login reserved its username: %v", err)
	}
}

// A username is given to one user on the host: another user (any source) mapped to the same
// name, without regard to case, gets the next free suffix, and each keeps theirs.
func usernamesUnique(e *env) {
	first, other := e.source("first"), e.source("other")
	steps := []struct {
		s      *store.Store
		src    *store.Source
		sub    string
		mapped string
		want   string
	}{
		{e.a, first, "1", "alice", "alice"},
		{e.b, other, "1", "Alice", "Alice-2"},
		{e.a, first, "2", "ALICE", "ALICE-3"},
		{e.b, first, "1", "alice", "alice"},
		{e.a, other, "1", "Alice", "Alice-2"},
		{e.b, first, "3", "alice-2", "alice-2-2"},
	}
	ids := map[string]int64{}
	for _, s := range steps {
		done := e.login(s.s, s.src, s.sub, s.mapped)
		if done.Username != s.want {
			e.Fatalf("%s/%s mapped to %q: given %q, want %q", s.src.Slug, s.sub, s.mapped, done.Username, s.want)
		}
		u, err := e.a.User(e.ctx, done.UserID)
		e.ok(err, "read user")
		if u.Username != s.want {
			e.Fatalf("stored username %q, want %q", u.Username, s.want)
		}
		if id, ok := ids[s.want]; ok && id != done.UserID {
			e.Fatalf("%q given to users %d and %d", s.want, id, done.UserID)
		}
		ids[s.want] = done.UserID
		if holder, err := e.b.UsernameHolder(e.ctx, s.want); err != nil || holder != done.UserID {
			e.Fatalf("holder of %q: %d %v, want %d", s.want, holder, err, done.UserID)
		}
	}
	if holder, err := e.b.UsernameHolder(e.ctx, "ALICE-2"); err != nil || holder != ids["Alice-2"] {
		e.Fatalf("holder of ALICE-2 (any case): %d %v", holder, err)
	}
	if empty := e.login(e.a, first, "4", ""); empty.Username != "" {
		e.Fatalf("no mapped name gave %q", empty.Username)
	}
}

// loginWith finishes a login of (source, sub) handing over credentials.
func (e *env) loginWith(s *store.Store, src *store.Source, sub string, creds ...store.Credential) *store.LoginDone {
	e.Helper()
	done, err := s.FinishLogin(e.ctx, store.User{SourceID: src.ID, Subject: sub, Credentials: creds},
		store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: sub}, "", time.Hour)
	e.ok(err, "finish login of "+sub)
	return done
}

// A login's credentials replace the user's stored ones (a new stamp each time); they are read
// back on either handle and deleted by kind, by user or by source.
func userCredentials(e *env) {
	src := e.source("s")
	u := e.loginWith(e.a, src, "1", store.Credential{Kind: "token", Value: "v1"}, store.Credential{Kind: "other", Value: "o1"})
	c1, err := e.b.UserCredential(e.ctx, u.UserID, "token")
	e.ok(err, "read credential")
	if c1.Value != "v1" || c1.Stamp == "" {
		e.Fatalf("credential: %+v", *c1)
	}
	if stamp, err := e.b.CredentialStamp(e.ctx, u.UserID, "token"); err != nil || stamp != c1.Stamp {
		e.Fatalf("stamp %q %v, want %q", stamp, err, c1.Stamp)
	}
	all, err := e.b.UserCredentials(e.ctx, u.UserID)
	e.ok(err, "list credentials")
	if len(all) != 2 || all[0].Kind != "other" || all[0].Value != "o1" || all[1].Kind != "token" {
		e.Fatalf("credentials by kind: %v", all)
	}
	e.loginWith(e.b, src, "1", store.Credential{Kind: "token", Value: "v2"})
	c2, err := e.a.UserCredential(e.ctx, u.UserID, "token")
	e.ok(err, "read replaced credential")
	if c2.Value != "v2" || c2.Stamp == c1.Stamp {
		e.Fatalf("replaced credential: %+v (was stamp %s)", *c2, c1.Stamp)
	}
	_, err = e.a.UserCredential(e.ctx, u.UserID, "other")
	e.is(err, store.ErrNotFound, "a kind the last login did not hand over")
	e.ok(e.b.DeleteUserCredentials(e.ctx, u.UserID, "token"), "delete by kind")
	_, err = e.a.UserCredential(e.ctx, u.UserID, "token")
	e.is(err, store.ErrNotFound, "deleted credential")
	if stamp, err := e.a.CredentialStamp(e.ctx, u.UserID, "token"); err != nil || stamp != "" {
		e.Fatalf("stamp of none: %q %v", stamp, err)
	}
	e.loginWith(e.a, src, "1", store.Credential{Kind: "token", Value: "v3"}, store.Credential{Kind: "other", Value: "o3"})
	e.loginWith(e.a, src, "2", store.Credential{Kind: "token", Value: "w"})
	elsewhere := e.loginWith(e.a, e.source("t"), "1", store.Credential{Kind: "token", Value: "x"})
	if n, err := e.b.CountCredentials(e.ctx, "token"); err != nil || n != 3 {
		e.Fatalf("%d token credentials (%v)", n, err)
	}
	if n, err := e.b.DeleteSourceCredentials(e.ctx, src.ID, "token"); err != nil || n != 2 {
		e.Fatalf("deleted %d of the source's (%v), want 2", n, err)
	}
	if _, err := e.a.UserCredential(e.ctx, elsewhere.UserID, "token"); err != nil {
		e.Fatalf("another source's credential: %v", err)
	}
	e.ok(e.b.DeleteUserCredentials(e.ctx, u.UserID), "delete all of a user's")
	if all, err := e.a.UserCredentials(e.ctx, u.UserID); err != nil || len(all) != 0 {
		e.Fatalf("left: %v %v", all, err)
	}
}

// Signing out everywhere ends every session and grant of the user and deletes the credentials
// handed over; the user stays enabled, and another user keeps theirs.
func userSignOutEverywhere(e *env) {
	src := e.source("s")
	u := e.loginWith(e.a, src, "1", store.Credential{Kind: "token", Value: "v"})
	other := e.loginWith(e.a, src, "2", store.Credential{Kind: "token", Value: "w"})
	for _, d := range []*store.LoginDone{u, other} {
		_, _, err := e.a.CreateForwardSession(e.ctx, "fwd-"+d.Token, d.SessionID, time.Hour)
		e.ok(err, "forward session")
		e.ok(e.a.PutAccessToken(e.ctx, store.AccessToken{ID: "at-" + d.Token, GrantID: "g-" + d.Token, FamilyID: "f-" + d.Token,
			ClientID: "c", UserID: d.UserID, Expires: e.time().Add(time.Hour)}), "access token")
		e.ok(e.a.PutRefreshToken(e.ctx, store.RefreshToken{Hash: "rt-" + d.Token, ID: "rid-" + d.Token, FamilyID: "f-" + d.Token,
			GrantID: "g-" + d.Token, ClientID: "c", UserID: d.UserID, Expires: e.time().Add(time.Hour)}), "refresh token")
	}
	before := e.b.Changes().Version(store.AccessRevoked)
	e.ok(e.b.SignOutEverywhere(e.ctx, u.UserID), "sign out everywhere")
	if e.b.Changes().Version(store.AccessRevoked) == before {
		e.Error("signing out everywhere was not announced as AccessRevoked")
	}
	check := func(d *store.LoginDone, live bool) {
		e.Helper()
		_, _, ferr := e.a.ForwardSession(e.ctx, "fwd-"+d.Token)
		_, aerr := e.a.LiveAccessToken(e.ctx, "at-"+d.Token)
		rt, rerr := e.a.RefreshTokenByHash(e.ctx, "rt-"+d.Token)
		e.ok(rerr, "read refresh token")
		_, cerr := e.a.UserCredential(e.ctx, d.UserID, "token")
		got := []bool{e.sessionLive(e.a, d.Token), ferr == nil, aerr == nil, !rt.Revoked, cerr == nil}
		for i, g := range got {
			if g != live {
				e.Errorf("user %d: %s live %v, want %v", d.UserID, []string{"session", "forward-auth session", "access token", "refresh token", "credential"}[i], g, live)
			}
		}
	}
	check(u, false)
	check(other, true)
	if got, err := e.a.User(e.ctx, u.UserID); err != nil || got.Disabled {
		e.Fatalf("user after signing out everywhere: %+v %v", got, err)
	}
}

// Re-validation lists the enabled users (and those it disabled) of a source not checked since
// a time, and keeps each user's state.
func userRevalidationBookkeeping(e *env) {
	src := e.source("s")
	u := e.login(e.a, src, "1", "")
	admin := e.login(e.a, src, "2", "")
	reval := e.login(e.a, src, "3", "")
	e.ok(e.b.SetDisabled(e.ctx, admin.UserID, true, store.DisabledByAdmin), "disable by admin")
	e.ok(e.b.SetDisabled(e.ctx, reval.UserID, true, store.DisabledByRevalidation), "disable by re-validation")
	ids := func(before time.Time) []int64 {
		e.Helper()
		us, err := e.b.UsersToCheck(e.ctx, src.ID, before)
		e.ok(err, "users to check")
		var out []int64
		for _, x := range us {
			out = append(out, x.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(e.time()); !slices.Equal(got, []int64{u.UserID, reval.UserID}) {
		e.Fatalf("to check: %v, want %v", got, []int64{u.UserID, reval.UserID})
	}
	e.advance(time.Hour)
	e.ok(e.a.MarkChecked(e.ctx, u.UserID), "mark checked")
	if got := ids(e.time().Add(-time.Minute)); !slices.Equal(got, []int64{reval.UserID}) {
		e.Fatalf("to check after a check: %v", got)
	}
	e.ok(e.a.SetRevalidation(e.ctx, u.UserID, []byte("next")), "set re-validation state")
	if got, err := e.b.User(e.ctx, u.UserID); err != nil || string(got.Revalidation) != "next" {
		e.Fatalf("re-validation state: %+v %v", got, err)
	}
}
