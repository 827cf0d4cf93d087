package storetest

import (
	"errors"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var oidcChecks = []check{
	{"AuthRequestLifecycle", authRequestLifecycle},
	{"AuthRequestExpires", authRequestExpires},
	{"AuthRequestBound", authRequestBound},
	{"CodeSingleUse", codeSingleUse},
	{"CodeReplayRevokesGrant", codeReplayRevokesGrant},
	{"CodeDiesWithItsAccess", codeDiesWithItsAccess},
	{"CodeClaimRacingEndOfAccess", codeClaimRacingEndOfAccess},
	{"OIDCClients", oidcClients},
}

// authRequest stores a new authorization request of client key ck, expiring in ten minutes.
func (e *env) authRequest(s *store.Store, id, ck string) {
	e.Helper()
	e.ok(s.CreateAuthRequest(e.ctx, store.AuthRequest{ID: id, ClientID: "client", Data: []byte(`{"scope":"openid"}`), BindingHash: "bind-" + id,
		ClientKey: ck, ExpiresAt: e.time().Add(10 * time.Minute)}), "create authorization request")
}

// grant is an authorization request completed by a new user in the host session of cookie
// token session and given code, with an access and a refresh token issued from it (the
// grant's id is the request's).
type grant struct {
	id, code, access, refresh, session string
	userID                             int64
}

// sessionID is the stored id of the live host session of cookie token.
func (e *env) sessionID(s *store.Store, token string) string {
	e.Helper()
	sess, err := s.Session(e.ctx, token)
	e.ok(err, "read session")
	return sess.ID
}

// issue makes a grant: a request completed on a, its code saved on b, its tokens stored.
func (e *env) issue(src *store.Source, id string) grant {
	e.Helper()
	g := e.minted(src, id)
	e.ok(e.a.PutRefreshToken(e.ctx, *e.tokens(g).Refresh), "refresh token (and its access token)")
	return g
}

// minted makes a grant whose tokens are not stored yet: a request completed on a by a new
// user, its code saved on b.
func (e *env) minted(src *store.Source, id string) grant {
	e.Helper()
	done := e.login(e.a, src, "sub-"+id, "")
	g := grant{id: id, code: "code-" + id, access: "at-" + id, refresh: "rt-" + id, userID: done.UserID, session: done.Token}
	e.authRequest(e.a, id, "ck")
	e.ok(e.a.CompleteAuthRequest(e.ctx, id, g.userID, e.sessionID(e.a, g.session), e.time()), "complete")
	e.ok(e.b.SaveAuthCode(e.ctx, id, g.code, e.time().Add(time.Minute)), "save code")
	return g
}

// tokens are a grant's refresh token (a family of one) and the access token it holds, as the
// provider issues them.
func (e *env) tokens(g grant) store.CodeTokens {
	return store.CodeTokens{Refresh: &store.RefreshToken{Hash: g.refresh, ID: g.access, FamilyID: "fam-" + g.id, GrantID: g.id,
		ClientID: "client", UserID: g.userID, Scopes: []string{"openid"}, AuthTime: e.time(), Expires: e.time().Add(time.Hour),
		AccessExpires: e.time().Add(time.Hour)}}
}

// revoked reports whether a grant's access and refresh tokens are both revoked (false when
// both are live; fails on a mix).
func (e *env) revoked(s *store.Store, g grant) bool {
	e.Helper()
	_, aerr := s.LiveAccessToken(e.ctx, g.access)
	if aerr != nil && !errors.Is(aerr, store.ErrNotFound) {
		e.Fatalf("read access token: %v", aerr)
	}
	rt, err := s.RefreshTokenByHash(e.ctx, g.refresh)
	e.ok(err, "read refresh token")
	if (aerr != nil) != rt.Revoked {
		e.Fatalf("grant %s: access token revoked %v, refresh token revoked %v", g.id, aerr != nil, rt.Revoked)
	}
	return rt.Revoked
}

// A request is read on either handle, completed once (the first user stays), given a code
// once and only once completed, read by its code, and deleted.
func authRequestLifecycle(e *env) {
	src := e.source("s")
	uid, other := e.login(e.a, src, "1", "").UserID, e.login(e.a, src, "2", "").UserID
	e.authRequest(e.a, "r1", "ck")
	ar, err := e.b.AuthRequestByID(e.ctx, "r1")
	e.ok(err, "read")
	if ar.ClientID != "client" || string(ar.Data) != `{"scope":"openid"}` || ar.BindingHash != "bind-r1" || ar.Done || ar.UserID != 0 ||
		ar.CodeHash != "" || !ar.CreatedAt.Equal(e.time()) || !ar.ExpiresAt.Equal(e.time().Add(10*time.Minute)) {
		e.Fatalf("read %+v", ar)
	}
	_, err = e.b.AuthRequestByID(e.ctx, "no-such-request")
	e.is(err, store.ErrNotFound, "unknown request")
	e.is(e.b.SaveAuthCode(e.ctx, "r1", "early", e.time().Add(time.Minute)), store.ErrNotFound, "a code before completion")
	authTime := e.time().Add(-time.Minute)
	e.ok(e.b.CompleteAuthRequest(e.ctx, "r1", uid, "sess-1", authTime), "complete")
	e.is(e.a.CompleteAuthRequest(e.ctx, "r1", other, "", e.time()), store.ErrNotFound, "second completion")
	e.is(e.a.CompleteAuthRequest(e.ctx, "no-such-request", other, "", e.time()), store.ErrNotFound, "completion of an unknown request")
	ar, err = e.a.AuthRequestByID(e.ctx, "r1")
	e.ok(err, "read completed")
	if !ar.Done || ar.UserID != uid || ar.SessionID != "sess-1" || !ar.AuthTime.Equal(authTime) {
		e.Fatalf("completed: %+v", ar)
	}
	codeExp := e.time().Add(time.Minute)
	e.ok(e.a.SaveAuthCode(e.ctx, "r1", "code-1", codeExp), "save code")
	e.is(e.b.SaveAuthCode(e.ctx, "r1", "code-2", codeExp), store.ErrNotFound, "second code")
	ar, err = e.b.AuthRequestByCode(e.ctx, "code-1")
	e.ok(err, "read by code")
	if ar.ID != "r1" || ar.CodeHash != "code-1" || ar.UserID != uid || !ar.ExpiresAt.Equal(codeExp) {
		e.Fatalf("by code: %+v", ar)
	}
	_, err = e.b.AuthRequestByCode(e.ctx, "code-2")
	e.is(err, store.ErrNotFound, "a refused code")
	e.ok(e.b.DeleteAuthRequest(e.ctx, "r1"), "delete")
	_, err = e.a.AuthRequestByID(e.ctx, "r1")
	e.is(err, store.ErrNotFound, "deleted request")
}

// An expired request is neither read nor completed; a code's expiry is the request's.
func authRequestExpires(e *env) {
	uid := e.login(e.a, e.source("s"), "1", "").UserID
	e.authRequest(e.a, "r1", "ck")
	e.authRequest(e.a, "r2", "ck")
	e.ok(e.b.CompleteAuthRequest(e.ctx, "r2", uid, "", e.time()), "complete")
	e.ok(e.b.SaveAuthCode(e.ctx, "r2", "code", e.time().Add(time.Minute)), "save code")
	e.advance(time.Minute + time.Second)
	_, err := e.a.AuthRequestByCode(e.ctx, "code")
	e.is(err, store.ErrNotFound, "request by an expired code")
	e.advance(10 * time.Minute)
	_, err = e.b.AuthRequestByID(e.ctx, "r1")
	e.is(err, store.ErrNotFound, "expired request")
	e.is(e.b.CompleteAuthRequest(e.ctx, "r1", uid, "", e.time()), store.ErrNotFound, "completion of an expired request")
}

// Open requests are bounded per client (its newest kept) and in all (a batch down to nine
// tenths); completed requests are not counted nor dropped.
func authRequestBound(e *env) {
	uid := e.login(e.a, e.source("s"), "1", "").UserID
	e.authRequest(e.a, "done", "k1")
	e.ok(e.a.CompleteAuthRequest(e.ctx, "done", uid, "", e.time()), "complete")
	ids := []string{"r0", "r1", "r2", "r3", "r4"}
	for i, id := range ids {
		e.advance(time.Second)
		e.authRequest([]*store.Store{e.a, e.b}[i%2], id, "k1")
	}
	e.advance(time.Second)
	e.authRequest(e.b, "q0", "k2")
	if n, err := e.b.CountOpenAuthRequests(e.ctx); err != nil || n != 6 {
		e.Fatalf("%d open (%v)", n, err)
	}
	if n, err := e.a.BoundOpenAuthRequests(e.ctx, "k1", 3, 100); err != nil || n != 2 {
		e.Fatalf("per client: dropped %d (%v), want 2", n, err)
	}
	for i, id := range ids {
		_, err := e.b.AuthRequestByID(e.ctx, id)
		if kept := err == nil; kept != (i >= 2) {
			e.Fatalf("%s kept %v (%v)", id, kept, err)
		}
	}
	if n, err := e.b.BoundOpenAuthRequests(e.ctx, "k2", 3, 2); err != nil || n != 3 {
		e.Fatalf("in all: dropped %d (%v), want 3", n, err)
	}
	if n, err := e.a.CountOpenAuthRequests(e.ctx); err != nil || n != 1 {
		e.Fatalf("%d open after the bound (%v), want 1", n, err)
	}
	if _, err := e.a.AuthRequestByID(e.ctx, "done"); err != nil {
		e.Fatalf("a completed request was dropped: %v", err)
	}
}

// A code is claimed once: the first claim (either handle) wins and leaves the grant alone, a
// second loses and revokes the grant; an unknown code is lost without an error.
func codeSingleUse(e *env) {
	src := e.source("s")
	g, other := e.issue(src, "g1"), e.issue(src, "g2")
	if ok, err := e.a.ClaimCode(e.ctx, g.code, store.CodeTokens{}); err != nil || !ok {
		e.Fatalf("first claim: %v %v", ok, err)
	}
	if e.revoked(e.b, g) {
		e.Fatal("the first claim revoked its grant")
	}
	if ok, err := e.b.ClaimCode(e.ctx, g.code, store.CodeTokens{}); err != nil || ok {
		e.Fatalf("second claim: %v %v", ok, err)
	}
	if !e.revoked(e.a, g) {
		e.Error("a second claim left the grant live")
	}
	if e.revoked(e.a, other) {
		e.Error("a second claim revoked another grant")
	}
	if ok, err := e.b.ClaimCode(e.ctx, "no-such-code", store.CodeTokens{}); err != nil || ok {
		e.Fatalf("unknown code: %v %v", ok, err)
	}
	e.ok(e.b.RevokeGrant(e.ctx, other.id), "revoke grant")
	if !e.revoked(e.a, other) {
		e.Error("a revoked grant is live")
	}
}

// A used code presented again for its request answers ErrCodeReused and revokes the grant.
func codeReplayRevokesGrant(e *env) {
	src := e.source("s")
	g := e.issue(src, "g1")
	if _, err := e.b.AuthRequestByCode(e.ctx, g.code); err != nil {
		e.Fatalf("unused code: %v", err)
	}
	if ok, err := e.a.ClaimCode(e.ctx, g.code, store.CodeTokens{}); err != nil || !ok {
		e.Fatalf("claim: %v %v", ok, err)
	}
	_, err := e.b.AuthRequestByCode(e.ctx, g.code)
	e.is(err, store.ErrCodeReused, "a used code")
	if !e.revoked(e.a, g) {
		e.Error("a replayed code left its grant live")
	}
}

// A code claims only while the access it was minted under lasts: signing out everywhere,
// disabling the user, signing out the host session that completed its request, or turning
// the source off spends it (ErrAccessEnded, no tokens), and turning the source on again does
// not revive it; a code of another user, or of another session of the same user, still claims.
func codeDiesWithItsAccess(e *env) {
	src := e.source("s")
	ended := func(g grant, what string) {
		e.Helper()
		ok, err := e.b.ClaimCode(e.ctx, g.code, store.CodeTokens{})
		if ok || !errors.Is(err, store.ErrAccessEnded) {
			e.Errorf("%s: claim %v %v, want ErrAccessEnded", what, ok, err)
		}
	}
	claims := func(g grant, what string) {
		e.Helper()
		if ok, err := e.b.ClaimCode(e.ctx, g.code, store.CodeTokens{}); !ok || err != nil {
			e.Errorf("%s: claim %v %v, want the code", what, ok, err)
		}
	}
	everywhere, bystander := e.issue(src, "everywhere"), e.issue(src, "bystander")
	e.ok(e.a.SignOutEverywhere(e.ctx, everywhere.userID), "sign out everywhere")
	if _, err := e.b.AuthRequestByCode(e.ctx, everywhere.code); !errors.Is(err, store.ErrNotFound) {
		e.Errorf("the request of a code after signing out everywhere: %v, want ErrNotFound", err)
	}
	ended(everywhere, "after signing out everywhere")
	claims(bystander, "another user's code")

	disabled := e.issue(src, "disabled")
	e.ok(e.a.SetDisabled(e.ctx, disabled.userID, true, store.DisabledByAdmin), "disable")
	e.ok(e.a.SetDisabled(e.ctx, disabled.userID, false, ""), "enable again")
	ended(disabled, "after the user was disabled (and enabled again)")

	signedOut := e.issue(src, "signed-out")
	other := e.login(e.a, src, "sub-signed-out", "") // the same user in a second browser
	same := grant{id: "same", code: "code-same", userID: signedOut.userID, session: other.Token}
	e.authRequest(e.a, same.id, "ck")
	e.ok(e.a.CompleteAuthRequest(e.ctx, same.id, same.userID, e.sessionID(e.a, same.session), e.time()), "complete in the second browser")
	e.ok(e.b.SaveAuthCode(e.ctx, same.id, same.code, e.time().Add(time.Minute)), "save code")
	e.ok(e.a.DeleteSession(e.ctx, e.sessionID(e.a, signedOut.session)), "sign the first browser out")
	ended(signedOut, "after its session signed out")
	claims(same, "the same user's code of another session")

	sourceOff := e.issue(src, "source-off")
	e.ok(e.a.SetEnabled(e.ctx, src.ID, false), "turn the source off")
	ended(sourceOff, "while the source is off")
	e.ok(e.a.SetEnabled(e.ctx, src.ID, true), "turn the source on")
	if ok, err := e.b.ClaimCode(e.ctx, sourceOff.code, store.CodeTokens{}); ok {
		e.Errorf("a code spent while the source was off claims once it is on again (%v)", err)
	}
}

// Clients are created, read on either handle, listed by name, replaced, and deleted with their
// tokens; each change is announced.
func oidcClients(e *env) {
	src := e.source("s")
	c := store.OIDCClient{ID: "c1", Name: "Zed", SecretSHA256: "abc", RedirectURIs: []string{"https://z/cb"}, PostLogoutURIs: []string{"https://z/"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, AllowedGroups: []string{"g"}, ReleaseAttributes: []string{"a"}, Origin: "file",
		LaunchURL: "https://z/start", IDTokenAlg: "ES256"}
	before := e.a.Changes().Version(store.OIDCClients)
	e.ok(e.a.PutOIDCClient(e.ctx, c), "put")
	if e.a.Changes().Version(store.OIDCClients) == before {
		e.Error("a new client was not announced")
	}
	e.ok(e.b.PutOIDCClient(e.ctx, store.OIDCClient{ID: "c2", Name: "Amy", Public: true, Origin: "ui"}), "put another")
	got, err := e.b.OIDCClientByID(e.ctx, "c1")
	e.ok(err, "read")
	if got.Name != "Zed" || got.SecretSHA256 != "abc" || got.Public || got.Origin != "file" || !slices.Equal(got.RedirectURIs, c.RedirectURIs) ||
		!slices.Equal(got.PostLogoutURIs, c.PostLogoutURIs) || !slices.Equal(got.GrantTypes, c.GrantTypes) ||
		!slices.Equal(got.AllowedGroups, c.AllowedGroups) || !slices.Equal(got.ReleaseAttributes, c.ReleaseAttributes) || !got.CreatedAt.Equal(e.time()) ||
		got.LaunchURL != c.LaunchURL || got.IDTokenAlg != c.IDTokenAlg {
		e.Fatalf("read %+v", got)
	}
	all, err := e.b.OIDCClients(e.ctx)
	if err != nil || len(all) != 2 || all[0].ID != "c2" || !all[0].Public {
		e.Fatalf("clients by name: %+v %v", all, err)
	}
	c.Name, c.AllowedGroups, c.LaunchURL, c.IDTokenAlg = "Zed 2", nil, "", ""
	e.ok(e.b.PutOIDCClient(e.ctx, c), "replace")
	if got, err := e.a.OIDCClientByID(e.ctx, "c1"); err != nil || got.Name != "Zed 2" || len(got.AllowedGroups) != 0 || got.LaunchURL != "" || got.IDTokenAlg != "" {
		e.Fatalf("replaced: %+v %v", got, err)
	}
	g := e.issue(src, "g1") // issued to "client"
	uid := e.login(e.a, src, "c1-user", "").UserID
	e.ok(e.a.PutAccessToken(e.ctx, store.AccessToken{ID: "c1-at", GrantID: "c1-g", ClientID: "c1", UserID: uid, Expires: e.time().Add(time.Hour)}), "token")
	e.ok(e.a.DeleteOIDCClient(e.ctx, "c1"), "delete")
	_, err = e.b.OIDCClientByID(e.ctx, "c1")
	e.is(err, store.ErrNotFound, "deleted client")
	_, err = e.b.LiveAccessToken(e.ctx, "c1-at")
	e.is(err, store.ErrNotFound, "a deleted client's token")
	if e.revoked(e.b, g) {
		e.Error("deleting a client revoked another client's tokens")
	}
}
