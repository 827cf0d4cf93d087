package storetest

import (
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var tokenChecks = []check{
	{"AccessTokens", accessTokens},
	{"RefreshRotation", refreshRotation},
	{"RefreshReuseRevokesFamily", refreshReuseRevokesFamily},
	{"RefreshRevokeFamilyAsTheProviderDoes", refreshRevokeFamilyAsTheProviderDoes},
}

// An access token is live on either handle until it expires or is revoked, or its user is
// disabled.
func accessTokens(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	at := store.AccessToken{ID: "at1", GrantID: "g", FamilyID: "f", ClientID: "c", UserID: uid, Scopes: []string{"openid", "profile"},
		AuthTime: e.time().Add(-time.Minute), Expires: e.time().Add(time.Hour)}
	e.ok(e.a.PutAccessToken(e.ctx, at), "put")
	at2 := at
	at2.ID, at2.Expires = "at2", e.time().Add(2*time.Hour)
	e.ok(e.a.PutAccessToken(e.ctx, at2), "put another")
	got, err := e.b.LiveAccessToken(e.ctx, "at1")
	e.ok(err, "read")
	if got.ID != at.ID || got.GrantID != "g" || got.FamilyID != "f" || got.ClientID != "c" || got.UserID != uid ||
		!slices.Equal(got.Scopes, at.Scopes) || !got.AuthTime.Equal(at.AuthTime) || !got.Expires.Equal(at.Expires) {
		e.Fatalf("read %+v, stored %+v", got, at)
	}
	_, err = e.b.LiveAccessToken(e.ctx, "no-such-token")
	e.is(err, store.ErrNotFound, "unknown token")
	e.advance(time.Hour)
	_, err = e.b.LiveAccessToken(e.ctx, "at1")
	e.is(err, store.ErrNotFound, "expired token")
	_, err = e.b.LiveAccessToken(e.ctx, "at2")
	e.ok(err, "unexpired token")
	e.ok(e.a.RevokeAccessToken(e.ctx, "at2"), "revoke")
	_, err = e.b.LiveAccessToken(e.ctx, "at2")
	e.is(err, store.ErrNotFound, "revoked token")
	at3 := at2
	at3.ID = "at3"
	e.ok(e.a.PutAccessToken(e.ctx, at3), "put a third")
	e.ok(e.b.SetDisabled(e.ctx, uid, true, store.DisabledByAdmin), "disable")
	_, err = e.a.LiveAccessToken(e.ctx, "at3")
	e.is(err, store.ErrNotFound, "a disabled user's token")
}

// refreshFamily stores the first refresh token of a new family of grant for user.
func (e *env) refreshFamily(hash, family, grant string, user int64) store.RefreshToken {
	e.Helper()
	rt := store.RefreshToken{Hash: hash, ID: "id-" + hash, FamilyID: family, GrantID: grant, ClientID: "c", UserID: user,
		Scopes: []string{"openid", "offline_access"}, AMR: []string{"pwd"}, AuthTime: e.time().Add(-time.Minute), Expires: e.time().Add(time.Hour)}
	e.ok(e.a.PutRefreshToken(e.ctx, rt), "put refresh token")
	return rt
}

// next is the token that rotation puts after rt (hash given) and the access token it holds.
func next(rt store.RefreshToken, hash string) (store.RefreshToken, store.AccessToken) {
	n := rt
	n.Hash, n.ID, n.AccessExpires, n.Rotated, n.Revoked = hash, "at-"+hash, rt.Expires, false, false
	return n, n.Access()
}

// refreshState is a refresh token as RefreshTokenByHash answers: "missing", "rotated",
// "revoked" or "live".
func (e *env) refreshState(s *store.Store, hash string) string {
	e.Helper()
	rt, err := s.RefreshTokenByHash(e.ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "missing"
	case err != nil:
		e.Fatalf("read refresh token: %v", err)
	case rt.Revoked:
		return "revoked"
	case rt.Rotated:
		return "rotated"
	}
	return "live"
}

// accessLive reports whether an access token is live, read on s.
func (e *env) accessLive(s *store.Store, id string) bool {
	e.Helper()
	_, err := s.LiveAccessToken(e.ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.Fatalf("read access token: %v", err)
	}
	return err == nil
}

// A refresh token is read back whole on either handle; rotation (compare and swap) marks it
// rotated and stores the next token and its access token, and goes on from either handle.
func refreshRotation(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	r0 := e.refreshFamily("r0", "f", "g", uid)
	got, err := e.b.RefreshTokenByHash(e.ctx, "r0")
	e.ok(err, "read")
	if got.ID != r0.ID || got.FamilyID != "f" || got.GrantID != "g" || got.ClientID != "c" || got.UserID != uid || !slices.Equal(got.Scopes, r0.Scopes) ||
		!slices.Equal(got.AMR, r0.AMR) || !got.AuthTime.Equal(r0.AuthTime) || !got.Expires.Equal(r0.Expires) || got.Rotated || got.Revoked {
		e.Fatalf("read %+v, stored %+v", got, r0)
	}
	_, err = e.b.RefreshTokenByHash(e.ctx, "no-such-token")
	e.is(err, store.ErrNotFound, "unknown token")
	// With its user, in one read: the same token, and the user as User reads it.
	withUser, u, err := e.b.RefreshTokenAndUser(e.ctx, "r0")
	e.ok(err, "read with the user")
	byID, err := e.b.User(e.ctx, uid)
	e.ok(err, "read the user")
	if !reflect.DeepEqual(withUser, got) || !reflect.DeepEqual(u, byID) {
		e.Fatalf("read with the user: %+v and %+v; want %+v and %+v", withUser, u, got, byID)
	}
	_, _, err = e.b.RefreshTokenAndUser(e.ctx, "no-such-token")
	e.is(err, store.ErrNotFound, "unknown token, with the user")
	// A row without an access expiry (as the rows stored before schema step 23) holds no
	// access token: its id never was one.
	if !got.AccessExpires.IsZero() || e.accessLive(e.b, r0.ID) {
		e.Fatalf("a refresh token stored without an access token: access expiry %v, its id live as an access token %v",
			got.AccessExpires, e.accessLive(e.b, r0.ID))
	}
	r1, a1 := next(r0, "r1")
	e.ok(e.b.RotateRefreshToken(e.ctx, "r0", r1), "rotate")
	if st := e.refreshState(e.a, "r0"); st != "rotated" {
		e.Fatalf("old token %s", st)
	}
	if st := e.refreshState(e.a, "r1"); st != "live" || !e.accessLive(e.a, a1.ID) {
		e.Fatalf("next token %s, its access token live %v", st, e.accessLive(e.a, a1.ID))
	}
	r2, a2 := next(r1, "r2")
	e.ok(e.a.RotateRefreshToken(e.ctx, "r1", r2), "rotate again")
	if st := e.refreshState(e.b, "r2"); st != "live" {
		e.Fatalf("third token %s", st)
	}
	if !e.accessLive(e.b, a1.ID) || !e.accessLive(e.b, a2.ID) {
		e.Fatalf("access tokens after a rotation: the rotated token's live %v, the next one's %v; want both until they expire",
			e.accessLive(e.b, a1.ID), e.accessLive(e.b, a2.ID))
	}
	if got, err := e.b.RefreshTokenByHash(e.ctx, "r2"); err != nil || got.FamilyID != "f" || !slices.Equal(got.AMR, r0.AMR) {
		e.Fatalf("third token: %+v %v", got, err)
	}
	e.ok(e.b.SetDisabled(e.ctx, uid, true, store.DisabledByAdmin), "disable")
	if st := e.refreshState(e.a, "r2"); st != "revoked" {
		e.Fatalf("a disabled user's token is %s", st)
	}
}

// Rotating a token already rotated (or revoked) revokes its whole family, access tokens
// included, answers ErrRefreshReused and stores nothing; other families are untouched.
func refreshReuseRevokesFamily(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	r0 := e.refreshFamily("r0", "f", "g", uid)
	other := e.refreshFamily("o0", "f-other", "g", uid)
	r1, a1 := next(r0, "r1")
	e.ok(e.a.RotateRefreshToken(e.ctx, "r0", r1), "rotate")
	rx, ax := next(r0, "rx")
	e.is(e.b.RotateRefreshToken(e.ctx, "r0", rx), store.ErrRefreshReused, "second rotation")
	for _, h := range []string{"r0", "r1"} {
		if st := e.refreshState(e.a, h); st != "revoked" {
			e.Errorf("%s is %s after a reuse", h, st)
		}
	}
	if st := e.refreshState(e.a, "rx"); st != "missing" || e.accessLive(e.a, ax.ID) {
		e.Errorf("a refused rotation stored its token (%s)", st)
	}
	if e.accessLive(e.a, a1.ID) {
		e.Error("the family's access token outlived a reuse")
	}
	if st := e.refreshState(e.a, other.Hash); st != "live" {
		e.Errorf("another family is %s", st)
	}
	o1, oa1 := next(other, "o1")
	e.ok(e.a.RevokeFamily(e.ctx, other.FamilyID), "revoke family")
	e.is(e.b.RotateRefreshToken(e.ctx, "o0", o1), store.ErrRefreshReused, "rotation of a revoked token")
	if st := e.refreshState(e.a, "o1"); st != "missing" || e.accessLive(e.a, oa1.ID) {
		e.Errorf("a refused rotation of a revoked token stored its token (%s)", st)
	}
}

// The provider revokes a family when a rotated token comes back (it reads the token first):
// every token of that family goes, access tokens too; the grant's other families stay, and
// revoking the grant ends them all.
func refreshRevokeFamilyAsTheProviderDoes(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	r0 := e.refreshFamily("r0", "f1", "g", uid)
	o0 := e.refreshFamily("o0", "f2", "g", uid)
	r1, a1 := next(r0, "r1")
	e.ok(e.a.RotateRefreshToken(e.ctx, "r0", r1), "rotate")
	o1, oa1 := next(o0, "o1")
	e.ok(e.a.RotateRefreshToken(e.ctx, "o0", o1), "rotate the other")
	seen, err := e.b.RefreshTokenByHash(e.ctx, "r0")
	e.ok(err, "read the presented token")
	if !seen.Rotated {
		e.Fatal("a rotated token does not say so")
	}
	e.ok(e.b.RevokeFamily(e.ctx, seen.FamilyID), "revoke family")
	if st := e.refreshState(e.a, "r1"); st != "revoked" || e.accessLive(e.a, a1.ID) {
		e.Fatalf("family revoked: next token %s, access live %v", st, e.accessLive(e.a, a1.ID))
	}
	if st := e.refreshState(e.a, "o1"); st != "live" || !e.accessLive(e.a, oa1.ID) {
		e.Fatalf("the grant's other family: %s, access live %v", st, e.accessLive(e.a, oa1.ID))
	}
	e.ok(e.a.RevokeGrant(e.ctx, "g"), "revoke grant")
	if st := e.refreshState(e.b, "o1"); st != "revoked" || e.accessLive(e.b, oa1.ID) {
		e.Fatalf("grant revoked: %s, access live %v", st, e.accessLive(e.b, oa1.ID))
	}
}
