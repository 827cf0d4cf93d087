package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// everything counts what a user has left in each table that refers to users.
func everything(t *testing.T, s *Store, userID int64) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"sessions", "forward_sessions", "oidc_tokens", "oidc_refresh", "oidc_auth_requests", "user_credentials"} {
		var n int
		if err := s.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, userID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// giveEverything gives a user a host session (the login's), a forward-auth session, an
// OpenID Connect grant (access and refresh token, a completed request) and a kept credential.
func giveEverything(t *testing.T, s *Store, src *Source, sub, username string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	done, err := s.FinishLogin(ctx, User{SourceID: src.ID, Subject: sub, Username: username,
		Credentials: []Credential{{Kind: "plex_token", Value: "tok-" + sub}}}, Event{SourceID: src.ID, Kind: EventLoginAllowed, Subject: sub}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id := done.UserID
	if _, _, err := s.CreateForwardSession(ctx, "fwd-"+sub, done.SessionID, time.Hour); err != nil {
		t.Fatal(err)
	}
	grant := "grant-" + sub
	if err := s.CreateAuthRequest(ctx, AuthRequest{ID: grant, ClientID: "app", Data: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteAuthRequest(ctx, grant, id, hashToken(done.Token), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAccessToken(ctx, AccessToken{ID: "at-" + sub, GrantID: grant, FamilyID: "fam-" + sub, ClientID: "app", UserID: id,
		Scopes: []string{"openid"}, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRefreshToken(ctx, RefreshToken{Hash: "rt-" + sub, ID: "rt-" + sub, FamilyID: "fam-" + sub, GrantID: grant, ClientID: "app",
		UserID: id, Scopes: []string{"openid"}, Expires: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return id, done.Token
}

// Deleting a user ends every session, token, grant and credential at once and keeps the
// events; the person's next login is a new user with a new public id, and the name stays
// reserved (the returning person gets a suffix, as anyone else would).
func TestDeleteUserEndsEverythingAndComesBackNew(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src := enabledSource(t, s, "plex")
	id, token := giveEverything(t, s, src, "42", "frank")
	other, _ := giveEverything(t, s, src, "43", "gus")
	before, _ := s.User(ctx, id)
	for table, n := range everything(t, s, id) {
		if n == 0 {
			t.Fatalf("the test gave the user no %s", table)
		}
	}
	if grants, _ := s.UserGrants(ctx, id); len(grants) != 1 || grants[0].ClientID != "app" {
		t.Fatalf("grants before: %+v", grants)
	}
	version := s.Changes().Version(AccessRevoked)
	if err := s.DeleteUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if s.Changes().Version(AccessRevoked) == version {
		t.Error("no revocation announced: caches keep the deleted user's forward-auth sessions")
	}
	for table, n := range everything(t, s, id) {
		if n != 0 {
			t.Errorf("%d rows of %s left", n, table)
		}
	}
	if _, err := s.User(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("user still there: %v", err)
	}
	if _, err := s.Session(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the session still works: %v", err)
	}
	for table, n := range everything(t, s, other) {
		if n == 0 {
			t.Errorf("another user's %s went too", table)
		}
	}
	if evs, _ := s.UserEvents(ctx, src.ID, "42", 10); len(evs) != 1 || evs[0].Kind != EventLoginAllowed {
		t.Fatalf("events after the deletion: %+v", evs)
	}
	if err := s.DeleteUser(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	back, _ := giveEverything(t, s, src, "42", "frank")
	u, err := s.User(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	if back == id || u.PublicID == before.PublicID {
		t.Fatalf("the person came back as the same user: id %d, public id %s", back, u.PublicID)
	}
	if u.Username != "frank-2" {
		t.Fatalf("the returning person got the name %q, want frank-2 (frank stays reserved)", u.Username)
	}
	if holder, _ := s.UsernameHolder(ctx, "frank"); holder != id {
		t.Fatalf("frank is reserved for %d, want the deleted user %d", holder, id)
	}
}

// A user's sessions and grants are listed, and one of each ends alone.
func TestEndOneSessionAndRevokeOneGrant(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src := enabledSource(t, s, "plex")
	id, token := giveEverything(t, s, src, "42", "frank")
	other, _ := giveEverything(t, s, src, "43", "gus")
	sessions, err := s.UserSessions(ctx, id)
	if err != nil || len(sessions) != 2 || sessions[0].Kind != HostSession || sessions[1].Kind != ForwardAuthSession {
		t.Fatalf("sessions: %+v %v", sessions, err)
	}
	if err := s.EndUserSession(ctx, other, HostSession, sessions[0].Ref); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user's session ended through this one's page: %v", err)
	}
	if err := s.EndUserSession(ctx, id, HostSession, sessions[0].Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the ended session works: %v", err)
	}
	if _, _, err := s.ForwardSession(ctx, "fwd-42"); err != nil {
		t.Fatalf("the forward-auth session ended too: %v", err)
	}
	if err := s.RevokeUserGrant(ctx, other, "grant-42"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user's grant revoked through this one's page: %v", err)
	}
	if err := s.RevokeUserGrant(ctx, id, "grant-42"); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.UserGrants(ctx, id); len(g) != 0 {
		t.Fatalf("grants after the revocation: %+v", g)
	}
	if _, err := s.LiveAccessToken(ctx, "at-42"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the access token lives: %v", err)
	}
	if g, _ := s.UserGrants(ctx, other); len(g) != 1 {
		t.Fatalf("the other user's grants: %+v", g)
	}
}

// Search finds people by name, username, e-mail (parts, any case) and subject or public id (whole).
func TestSearchUsers(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src := enabledSource(t, s, "plex")
	for _, u := range []User{{Subject: "2001", Username: "frank", Name: "Frank Friend", Email: "frank@example.com"},
		{Subject: "2002", Username: "gus_g", Name: "Gus Google", Email: "gus@mail.test"}} {
		u.SourceID = src.ID
		if _, err := s.FinishLogin(ctx, u, Event{Kind: EventLoginAllowed}, "", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	gus, _ := s.FindUser(ctx, src.ID, "2002")
	for q, want := range map[string]string{"FRIEND": "frank", "mail.TEST": "gus_g", "2001": "frank", gus.PublicID: "gus_g",
		"s_g": "gus_g", "200": "", "%": "", "": "frank,gus_g"} {
		users, err := s.SearchUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, u := range users {
			got[u.Username] = true
		}
		for _, w := range splitNonEmpty(want) {
			if !got[w] {
				t.Errorf("search %q: %v lacks %s", q, got, w)
			}
		}
		if len(got) != len(splitNonEmpty(want)) {
			t.Errorf("search %q found %v, want %q", q, got, want)
		}
	}
}

// splitNonEmpty is the comma-separated parts of s; none for "".
func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Deleting a source deletes its users with all they have and its logins under way, in one
// go; another source's users and every event stay.
func TestDeleteSource(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src, keep := enabledSource(t, s, "plex"), enabledSource(t, s, "other")
	a, _ := giveEverything(t, s, src, "42", "frank")
	b, _ := giveEverything(t, s, src, "43", "gus")
	c, _ := giveEverything(t, s, keep, "44", "hal")
	if _, err := s.PutLoginState(ctx, LoginState{SessionID: "x", SourceID: src.ID, Kind: StateLogin, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	use, err := s.SourceUsage(ctx, src.ID)
	if err != nil || use != (SourceUsage{Users: 2, Sessions: 2, ForwardSessions: 2, Grants: 2, Credentials: 2}) {
		t.Fatalf("usage: %+v %v", use, err)
	}
	if err := s.DeleteSource(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Source(ctx, src.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("source still there: %v", err)
	}
	for _, id := range []int64{a, b} {
		if _, err := s.User(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("user %d still there: %v", id, err)
		}
		for table, n := range everything(t, s, id) {
			if n != 0 {
				t.Errorf("user %d: %d rows of %s left", id, n, table)
			}
		}
	}
	var states int
	_ = s.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM login_states WHERE source_id = ?`, src.ID).Scan(&states)
	if states != 0 {
		t.Errorf("%d login states left", states)
	}
	if _, err := s.User(ctx, c); err != nil {
		t.Fatalf("another source's user went: %v", err)
	}
	if n, _ := s.EventCounts(ctx, time.Now().Add(-time.Hour)); n[src.ID][EventLoginAllowed] != 2 || n[keep.ID][EventLoginAllowed] != 1 {
		t.Fatalf("event counts after the deletion: %v", n)
	}
	if err := s.DeleteSource(ctx, src.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A never-configured source goes as well.
	draft, _ := s.CreateSource(ctx, "p", "draft", "Draft")
	if err := s.DeleteSource(ctx, draft.ID); err != nil {
		t.Fatal(err)
	}
}

// The home page's figures: events of a day by source and kind, and a source's last sign-in.
func TestEventCountsAndLastEvent(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	s.SetClock(func() time.Time { return now.Add(-48 * time.Hour) })
	_ = s.AddEvent(ctx, Event{SourceID: "a", Kind: EventLoginAllowed, Name: "old"})
	s.SetClock(func() time.Time { return now })
	for _, e := range []Event{{SourceID: "a", Kind: EventLoginAllowed, Name: "new"}, {SourceID: "a", Kind: EventLoginDenied},
		{SourceID: "a", Kind: EventLoginDenied}, {SourceID: "b", Kind: EventLoginFailed}} {
		_ = s.AddEvent(ctx, e)
	}
	n, err := s.EventCounts(ctx, now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n["a"][EventLoginAllowed] != 1 || n["a"][EventLoginDenied] != 2 || n["b"][EventLoginFailed] != 1 {
		t.Fatalf("counts: %v", n)
	}
	if e, err := s.LastEvent(ctx, "a", EventLoginAllowed); err != nil || e.Name != "new" {
		t.Fatalf("last sign-in: %+v %v", e, err)
	}
	if _, err := s.LastEvent(ctx, "b", EventLoginAllowed); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a source without sign-ins: %v", err)
	}
}
