package storetest

import (
	"reflect"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var refreshAccessChecks = []check{
	{"AccessTokenInItsRefreshRow", accessTokenInItsRefreshRow},
	{"PurgeKeepsARowWhileItsAccessTokenLives", purgeKeepsARowWhileItsAccessTokenLives},
	{"GrantListedWhileItsLastAccessTokenLives", grantListedWhileItsLastAccessTokenLives},
}

// The access token issued with a refresh token is kept in that token's row (its id): it is
// read back as stored on either handle, lives until its own expiry (past a rotation, before
// the refresh token's end), is revoked alone by RevokeAccessToken, and is never the refresh
// token (nor the refresh token it).
func accessTokenInItsRefreshRow(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	r0 := e.refreshFamily("r0", "f", "g", uid)
	r0.Expires = e.time().Add(3 * time.Hour)
	r1, a1 := e.rotateTo(r0, "r1", e.time().Add(time.Hour))
	got, err := e.b.LiveAccessToken(e.ctx, a1.ID)
	e.ok(err, "read the access token")
	want := a1
	want.AuthTime, want.Expires = time.Unix(a1.AuthTime.Unix(), 0), time.Unix(a1.Expires.Unix(), 0)
	if !reflect.DeepEqual(*got, want) {
		e.Fatalf("the access token read back %+v, issued %+v", *got, want)
	}
	if rt, err := e.b.RefreshTokenByHash(e.ctx, "r1"); err != nil || rt.ID != a1.ID || rt.AccessExpires.Unix() != a1.Expires.Unix() {
		e.Fatalf("the refresh token read back %+v (%v): want id %s, access expiry %v", rt, err, a1.ID, a1.Expires)
	}
	if e.accessLive(e.b, "r1") {
		e.Fatal("a refresh token is live as an access token")
	}
	if _, err := e.b.RefreshTokenByHash(e.ctx, a1.ID); err == nil {
		e.Fatal("an access token reads as a refresh token")
	}

	// Revoked alone: the refresh token goes on, and the next access token is live.
	e.ok(e.b.RevokeAccessToken(e.ctx, a1.ID), "revoke the access token")
	if e.accessLive(e.a, a1.ID) {
		e.Fatal("a revoked access token is live")
	}
	if st := e.refreshState(e.a, "r1"); st != "live" {
		e.Fatalf("revoking an access token left its refresh token %s", st)
	}
	_, a2 := e.rotateTo(r1, "r2", e.time().Add(time.Hour)) // after the access token was revoked
	if !e.accessLive(e.b, a2.ID) || e.accessLive(e.b, a1.ID) {
		e.Fatalf("after the rotation: the next access token live %v, the revoked one %v", e.accessLive(e.b, a2.ID), e.accessLive(e.b, a1.ID))
	}

	// Its own expiry, before the refresh token's.
	e.advance(time.Hour + time.Second)
	if e.accessLive(e.a, a2.ID) {
		e.Fatal("an access token outlived its expiry")
	}
	if st := e.refreshState(e.b, "r2"); st != "live" {
		e.Fatalf("the refresh token whose access token expired is %s", st)
	}
}

// Purge keeps a refresh token's row while the access token it holds is unexpired, even
// once the family's refresh tokens expired (an access token given near a family's end
// outlives it by up to its lifetime), and removes it after.
func purgeKeepsARowWhileItsAccessTokenLives(e *env) {
	_, _, a1 := e.pastFamilyEnd()
	e.purge(e.b)
	if !e.accessLive(e.a, a1.ID) {
		e.Fatal("a purge took an unexpired access token with its family's expired refresh tokens")
	}
	if st := e.refreshState(e.a, "r0"); st != "missing" {
		e.Errorf("the expired family's row without a live access token is %s after a purge", st)
	}
	e.advance(30 * time.Minute)
	e.purge(e.a)
	if st := e.refreshState(e.b, "r1"); st != "missing" {
		e.Fatalf("a row whose refresh and access tokens both expired is %s after a purge", st)
	}
}

// A grant whose family's refresh tokens expired is still listed (and counted) while the last
// access token it gave lives, with that token's expiry, so the person can still revoke it.
func grantListedWhileItsLastAccessTokenLives(e *env) {
	src, uid, a1 := e.pastFamilyEnd()
	gs, err := e.b.UserGrants(e.ctx, uid)
	e.ok(err, "list grants")
	if len(gs) != 1 || gs[0].ID != "g" || gs[0].ExpiresAt.Unix() != a1.Expires.Unix() {
		e.Fatalf("grants while only an access token lives: %+v, want g until %v", gs, a1.Expires)
	}
	use, err := e.b.SourceUsage(e.ctx, src.ID)
	e.ok(err, "count the source's grants")
	if use.Grants != 1 {
		e.Fatalf("the source counts %d grants while one access token lives, want 1", use.Grants)
	}
	e.ok(e.a.RevokeUserGrant(e.ctx, uid, "g"), "revoke the grant")
	if e.accessLive(e.b, a1.ID) {
		e.Fatal("an access token outlived the revocation of its grant")
	}
	if gs, err := e.b.UserGrants(e.ctx, uid); err != nil || len(gs) != 0 {
		e.Fatalf("grants after the revocation: %+v %v", gs, err)
	}
}

// rotateTo rotates rt (on a) to the next token of hash, whose access token expires at exp.
func (e *env) rotateTo(rt store.RefreshToken, hash string, exp time.Time) (store.RefreshToken, store.AccessToken) {
	e.Helper()
	n, _ := next(rt, hash)
	n.AccessExpires = exp
	e.ok(e.a.RotateRefreshToken(e.ctx, rt.Hash, n), "rotate to "+hash)
	return n, n.Access()
}

// pastFamilyEnd makes a person with a family ("f" of grant "g": r0, rotated to r1) whose
// refresh tokens end in an hour and whose last access token lives 90 minutes, and moves the
// clock a minute past the family's end; it answers the source, the person and that token.
func (e *env) pastFamilyEnd() (*store.Source, int64, store.AccessToken) {
	e.Helper()
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	_, a1 := e.rotateTo(e.refreshFamily("r0", "f", "g", uid), "r1", e.time().Add(90*time.Minute))
	e.advance(time.Hour + time.Minute)
	return src, uid, a1
}
