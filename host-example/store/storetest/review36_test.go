package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Review 36 (hostile review of fc0f711, schema step 23): an access token issued with a refresh
// token is kept in that token's row (its id), live while the row is not revoked, its own
// access_revoked is 0 and access_expires is ahead. These probes fail (saying HOLE) when an
// access token held in a refresh row outlives an end of access, its own revocation or expiry,
// when a refresh token and an access token stand in for each other, when a row from before
// step 23 answers as an access token, or when a live access token is missing from the
// person's grant list.

// review36Checks run on SQLite and PostgreSQL.
var review36Checks = []check{
	{"EndsOfAccessEndEveryAccessTokenOfTheRows", review36EndsOfAccess},
	{"RevokeAccessTokenEndsOnlyThatToken", review36RevokeAccessTokenOnly},
	{"NoStandInsBetweenRefreshAndAccessTokens", review36NoStandIns},
	{"OwnExpiryAndPurge", review36OwnExpiryAndPurge},
	{"GrantListShowsEveryLiveAccessToken", review36GrantListShowsLiveAccess},
	{"RotationRacingAnEndOfAccess", review36RotationRacingEnd},
	{"RotationRaceEndsTheRotatedTokensAccess", review36RotationRace},
}

func TestReview36SQLite(t *testing.T) { runChecks(t, review36Checks, sqliteStore) }

func TestReview36Postgres(t *testing.T) {
	runChecks(t, review36Checks, postgresPair(postgrestest.Shared(t)))
}

// review36FirstRow stores (on a) the first row of family "fam-"+p as a code exchange with
// offline_access writes it: refresh token p+"0" for an hour, holding access token "at-"+p+"0"
// for 15 minutes.
func (e *env) review36FirstRow(p, grant string, uid int64, scopes []string) store.RefreshToken {
	e.Helper()
	rt := store.RefreshToken{Hash: p + "0", ID: "at-" + p + "0", FamilyID: "fam-" + p, GrantID: grant, ClientID: "c", UserID: uid,
		Scopes: scopes, AuthTime: e.time(), Expires: e.time().Add(time.Hour), AccessExpires: e.time().Add(15 * time.Minute)}
	e.ok(e.a.PutRefreshToken(e.ctx, rt), "store the family's first token")
	return rt
}

// review36Family stores a refresh family as a code exchange with offline_access does (its
// first row holds an access token, id "at-"+p+"0"), then rotates it twice as refresh grants
// do: the hashes are p+"0", p+"1", p+"2", the access tokens "at-"+hash, each for 15 minutes.
func (e *env) review36Family(p, grant string, uid int64) []string {
	e.Helper()
	rt := e.review36FirstRow(p, grant, uid, []string{"openid", "offline_access"})
	hashes := []string{rt.Hash}
	for i := 1; i <= 2; i++ {
		n, _ := next(rt, fmt.Sprint(p, i))
		n.AccessExpires = e.time().Add(15 * time.Minute)
		e.ok(e.b.RotateRefreshToken(e.ctx, rt.Hash, n), "rotate")
		rt = n
		hashes = append(hashes, n.Hash)
	}
	for _, h := range hashes {
		if !e.accessLive(e.b, "at-"+h) {
			e.Fatalf("setup: the access token of %s is not live", h)
		}
	}
	return hashes
}

// Every end of access (a reuse, revoking the family, the grant, the person's grant, signing
// out everywhere, disabling, deleting the person, deleting the client, turning the source
// off, retiring the person by a link) ends every access token the family's rows hold (the
// rotated rows' too), on the other handle, and turning the person or source on again
// revives none.
func review36EndsOfAccess(e *env) {
	cases := []struct {
		name  string
		end   func(src *store.Source, uid int64, p string, hashes []string)
		again func(src *store.Source, uid int64)
	}{
		{"refresh reuse", func(_ *store.Source, _ int64, p string, h []string) {
			n := store.RefreshToken{Hash: p + "x", ID: "at-" + p + "x", FamilyID: "fam-" + p, GrantID: "g-" + p, ClientID: "c",
				Expires: e.time().Add(time.Hour), AccessExpires: e.time().Add(15 * time.Minute)}
			e.is(e.a.RotateRefreshToken(e.ctx, h[0], n), store.ErrRefreshReused, "reuse")
		}, nil},
		{"family revoked", func(_ *store.Source, _ int64, p string, _ []string) {
			e.ok(e.a.RevokeFamily(e.ctx, "fam-"+p), "revoke family")
		}, nil},
		{"grant revoked", func(_ *store.Source, _ int64, p string, _ []string) {
			e.ok(e.a.RevokeGrant(e.ctx, "g-"+p), "revoke grant")
		}, nil},
		{"person's grant revoked", func(_ *store.Source, uid int64, p string, _ []string) {
			e.ok(e.a.RevokeUserGrant(e.ctx, uid, "g-"+p), "revoke the person's grant")
		}, nil},
		{"signed out everywhere", func(_ *store.Source, uid int64, _ string, _ []string) {
			e.ok(e.a.SignOutEverywhere(e.ctx, uid), "sign out everywhere")
		}, nil},
		{"disabled", func(_ *store.Source, uid int64, _ string, _ []string) {
			e.ok(e.a.SetDisabled(e.ctx, uid, true, store.DisabledByAdmin), "disable")
		}, func(_ *store.Source, uid int64) { e.ok(e.a.SetDisabled(e.ctx, uid, false, ""), "enable") }},
		{"deleted", func(_ *store.Source, uid int64, _ string, _ []string) {
			e.ok(e.a.DeleteUser(e.ctx, uid), "delete")
		}, nil},
		{"client deleted", func(*store.Source, int64, string, []string) {
			e.ok(e.a.DeleteOIDCClient(e.ctx, "c"), "delete the client")
		}, nil},
		{"source off", func(src *store.Source, _ int64, _ string, _ []string) {
			e.ok(e.a.SetEnabled(e.ctx, src.ID, false), "source off")
		}, func(src *store.Source, _ int64) { e.ok(e.a.SetEnabled(e.ctx, src.ID, true), "source on") }},
		{"retired by a link", func(src *store.Source, uid int64, _ string, _ []string) {
			other := e.source("other-" + src.Slug)
			keep := e.login(e.a, other, "7", "")
			e.ok(e.a.LinkPeople(e.ctx, keep.UserID, uid), "link")
		}, nil},
	}
	for i, c := range cases {
		src := e.source(fmt.Sprint("s", i))
		uid := e.login(e.a, src, "7", "").UserID
		p := fmt.Sprint("c", i, "r")
		hashes := e.review36Family(p, "g-"+p, uid)
		c.end(src, uid, p, hashes)
		dead := func(when string) {
			for _, h := range hashes {
				if e.accessLive(e.b, "at-"+h) {
					e.Fatalf("HOLE: %s%s, yet the access token held in %s's row is live", c.name, when, h)
				}
				if st := e.refreshState(e.b, h); st == "live" {
					e.Fatalf("HOLE: %s%s, yet the refresh token %s is live", c.name, when, h)
				}
			}
		}
		dead("")
		if c.again != nil {
			c.again(src, uid)
			dead(", then on again")
		}
	}
}

// RevokeAccessToken (RFC 7009 on an access token) ends that access token only: its refresh
// token goes on, and neither the family's other access tokens nor other families' end; its
// refresh token's next rotation does not revive it; the refresh token's hash given as an
// access token's id revokes nothing.
func review36RevokeAccessTokenOnly(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "7", "").UserID
	h := e.review36Family("r", "g", uid)
	o := e.review36Family("o", "g-o", uid)
	e.ok(e.a.RevokeAccessToken(e.ctx, "at-"+h[2]), "revoke the newest access token")
	if e.accessLive(e.b, "at-"+h[2]) {
		e.Fatal("HOLE: an access token held in a refresh row is live after RevokeAccessToken")
	}
	if st := e.refreshState(e.b, h[2]); st != "live" {
		e.Fatalf("revoking an access token left its refresh token %s (RFC 7009 lets it go on; the brief wants it kept)", st)
	}
	for _, id := range []string{"at-" + h[0], "at-" + h[1], "at-" + o[2]} {
		if !e.accessLive(e.b, id) {
			e.Fatalf("HOLE (denial): revoking one access token ended %s too", id)
		}
	}
	n, _ := next(store.RefreshToken{Hash: h[2], FamilyID: "fam-r", GrantID: "g", ClientID: "c", UserID: uid,
		Scopes: []string{"openid"}, AuthTime: e.time(), Expires: e.time().Add(time.Hour)}, "r3")
	n.AccessExpires = e.time().Add(15 * time.Minute)
	e.ok(e.a.RotateRefreshToken(e.ctx, h[2], n), "rotate after the access token was revoked")
	if e.accessLive(e.b, "at-"+h[2]) {
		e.Fatal("HOLE: a rotation revived the revoked access token of the rotated row")
	}
	if !e.accessLive(e.b, "at-r3") {
		e.Fatal("the next access token is not live")
	}
	// A refresh token's hash (or value) given as an access token revokes nothing.
	e.ok(e.a.RevokeAccessToken(e.ctx, "r3"), "revoke a refresh hash as an access token")
	if st := e.refreshState(e.b, "r3"); st != "live" || !e.accessLive(e.b, "at-r3") {
		e.Fatalf("HOLE: RevokeAccessToken of a refresh token's hash ended the row: refresh %s, access live %v", st, e.accessLive(e.b, "at-r3"))
	}
}

// A refresh token (its hash) is no access token and an access token's id is no refresh
// token; a row stored without an access token (as every row from before step 23, access
// expiry 0) holds none, before and after its token rotates, and revoking its id ends nothing.
func review36NoStandIns(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "7", "").UserID
	h := e.review36Family("r", "g", uid)
	for _, x := range h {
		if e.accessLive(e.b, x) {
			e.Fatalf("HOLE: the refresh token hash %s is live as an access token", x)
		}
		if st := e.refreshState(e.b, "at-"+x); st != "missing" {
			e.Fatalf("HOLE: the access token at-%s reads as a refresh token (%s)", x, st)
		}
	}
	old := store.RefreshToken{Hash: "old", ID: "old-id", FamilyID: "fam-old", GrantID: "g-old", ClientID: "c", UserID: uid,
		Scopes: []string{"openid"}, AuthTime: e.time(), Expires: e.time().Add(time.Hour)} // AccessExpires zero: a row from before step 23
	e.ok(e.a.PutRefreshToken(e.ctx, old), "store a row without an access token")
	if e.accessLive(e.b, "old-id") {
		e.Fatal("HOLE: the id of a row without an access token (before step 23) is live as an access token")
	}
	if rt, err := e.b.RefreshTokenByHash(e.ctx, "old"); err != nil || !rt.AccessExpires.IsZero() {
		e.Fatalf("the row without an access token reads back %+v (%v)", rt, err)
	}
	e.ok(e.a.RevokeAccessToken(e.ctx, "old-id"), "revoke the old row's id")
	if st := e.refreshState(e.b, "old"); st != "live" {
		e.Fatalf("HOLE (denial): revoking an old row's id as an access token left its refresh token %s", st)
	}
	n, _ := next(old, "old1")
	n.AccessExpires = e.time().Add(15 * time.Minute)
	e.ok(e.a.RotateRefreshToken(e.ctx, "old", n), "rotate the old row")
	if e.accessLive(e.b, "old-id") || !e.accessLive(e.b, "at-old1") {
		e.Fatalf("after the old row rotated: its id live %v (want false), the next access token live %v (want true)",
			e.accessLive(e.b, "old-id"), e.accessLive(e.b, "at-old1"))
	}
}

// An access token held in a refresh row dies at its own expiry (before its refresh token's),
// a purge never revives or shortens anything, and a purge of an expired family keeps a
// revoked row revoked while its access token would still be unexpired.
func review36OwnExpiryAndPurge(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "7", "").UserID
	h := e.review36Family("r", "g", uid)
	e.advance(15*time.Minute + time.Second)
	for _, x := range h {
		if e.accessLive(e.b, "at-"+x) {
			e.Fatalf("HOLE: the access token of %s outlived its own expiry", x)
		}
	}
	e.purge(e.a)
	if st := e.refreshState(e.b, h[2]); st != "live" {
		e.Fatalf("a purge took a live refresh token (%s)", st)
	}
	// The last refresh of a family, a minute before its end, gives an access token that
	// outlives the family; the family is then revoked; a purge after the family's end keeps
	// the row (its access token unexpired) and it stays revoked.
	e.advance(44 * time.Minute)
	n, _ := next(store.RefreshToken{Hash: h[2], FamilyID: "fam-r", GrantID: "g", ClientID: "c", UserID: uid,
		Scopes: []string{"openid"}, AuthTime: e.time(), Expires: e.time().Add(time.Minute)}, "r3")
	n.AccessExpires = e.time().Add(15 * time.Minute)
	e.ok(e.a.RotateRefreshToken(e.ctx, h[2], n), "the family's last refresh")
	e.ok(e.a.RevokeFamily(e.ctx, "fam-r"), "revoke the family")
	e.advance(2 * time.Minute)
	e.purge(e.b)
	if e.accessLive(e.a, "at-r3") {
		e.Fatal("HOLE: a purge after the family's end brought back a revoked access token")
	}
	e.advance(15 * time.Minute)
	e.purge(e.b)
	if st := e.refreshState(e.a, "r3"); st != "missing" {
		e.Errorf("a row whose refresh and access tokens both expired is %s after a purge", st)
	}
}

// The person's grant list (their profile, the admin's person page, "what deleting ends") and
// the source's count of grants show a grant while any of its access tokens lives: the last
// refresh before a family's end gives an access token that outlives the family's refresh
// tokens by up to its 15 minutes. Before step 23 that access token was a row of oidc_tokens,
// which UserGrants reads; now it is in a refresh row, which UserGrants reads only while the
// refresh token itself lives (rotated_at = 0, expires_at ahead).
func review36GrantListShowsLiveAccess(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "7", "").UserID
	rt := store.RefreshToken{Hash: "r0", ID: "at-r0", FamilyID: "f", GrantID: "g", ClientID: "c", UserID: uid,
		Scopes: []string{"openid", "offline_access"}, AuthTime: e.time(), Expires: e.time().Add(time.Hour),
		AccessExpires: e.time().Add(15 * time.Minute)}
	e.ok(e.a.PutRefreshToken(e.ctx, rt), "code exchange")
	e.advance(55 * time.Minute)
	n, _ := next(rt, "r1")
	n.AccessExpires = e.time().Add(15 * time.Minute) // 10 minutes past the family's end
	e.ok(e.a.RotateRefreshToken(e.ctx, "r0", n), "the family's last refresh")
	gs, err := e.b.UserGrants(e.ctx, uid)
	e.ok(err, "list grants")
	if len(gs) != 1 || gs[0].ExpiresAt.Before(n.AccessExpires.Truncate(time.Second)) {
		e.Errorf("HOLE (low): before the family's end the grant list says %+v; want grant g until its access token's end %v", gs, n.AccessExpires)
	}
	e.advance(6 * time.Minute) // the refresh tokens have ended; the access token lives 4 more minutes
	if !e.accessLive(e.b, "at-r1") {
		e.Fatal("setup: the last access token is not live past the family's end")
	}
	gs, err = e.b.UserGrants(e.ctx, uid)
	e.ok(err, "list grants")
	if len(gs) != 1 || gs[0].ID != "g" {
		e.Errorf("HOLE (low): the access token at-r1 is live (userinfo answers it) but the person's grant list is %+v: "+
			"the profile and the admin's person page show no app to end", gs)
	}
	u, err := e.b.SourceUsage(e.ctx, src.ID)
	e.ok(err, "source usage")
	if u.Grants != 1 {
		e.Errorf("HOLE (low): the access token at-r1 is live but the source counts %d grants with a live token", u.Grants)
	}
	// Ending it by the grant's id still works (the store finds the grant's rows).
	e.ok(e.a.RevokeUserGrant(e.ctx, uid, "g"), "revoke the grant")
	if e.accessLive(e.b, "at-r1") {
		e.Fatal("HOLE: revoking the grant left its last access token live")
	}
}

// A rotation racing an end of access (signing out everywhere, revoking the family) leaves no
// live token: either the end sees the new row, or the rotation finds its token revoked.
func review36RotationRacingEnd(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "7", "").UserID
	for i := range rounds {
		p := fmt.Sprint("e", i)
		r0 := e.review36FirstRow(p, "g-"+p, uid, []string{"openid"})
		n, _ := next(r0, p+"1")
		n.AccessExpires = e.time().Add(15 * time.Minute)
		got := race(e, func(s *store.Store, side int) error {
			if side == 0 {
				if err := s.RotateRefreshToken(e.ctx, r0.Hash, n); err != nil && !errors.Is(err, store.ErrRefreshReused) {
					return err
				}
				return nil
			}
			if i%2 == 0 {
				return s.SignOutEverywhere(e.ctx, uid)
			}
			return s.RevokeFamily(e.ctx, r0.FamilyID)
		})
		for side, err := range got {
			e.ok(err, fmt.Sprint("round ", i, " side ", side))
		}
		for _, h := range []string{r0.Hash, n.Hash} {
			if e.accessLive(e.b, "at-"+h) {
				e.Fatalf("HOLE: round %d: a rotation racing an end of access left the access token of %s live", i, h)
			}
			if st := e.refreshState(e.b, h); st == "live" {
				e.Fatalf("HOLE: round %d: a rotation racing an end of access left the refresh token %s live", i, h)
			}
		}
	}
}

// Two refreshes with one token at once: the loser's reuse revokes the family, so no access
// token of it stays live: not the winner's, not the one the raced token's own row holds.
func review36RotationRace(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "7", "").UserID
	for i := range rounds {
		p := fmt.Sprint("q", i)
		r0 := e.review36FirstRow(p, "g-"+p, uid, []string{"openid"})
		hashes := [2]string{p + "a", p + "b"}
		got := race(e, func(s *store.Store, side int) outcome {
			n, _ := next(r0, hashes[side])
			n.AccessExpires = e.time().Add(15 * time.Minute)
			err := s.RotateRefreshToken(e.ctx, r0.Hash, n)
			return outcome{err == nil, err}
		})
		e.oneWinner(i, "RotateRefreshToken", got, store.ErrRefreshReused)
		for _, id := range []string{"at-" + r0.Hash, "at-" + hashes[0], "at-" + hashes[1]} {
			if e.accessLive(e.b, id) {
				e.Fatalf("HOLE: round %d: after two refreshes at once, the access token %s is live", i, id)
			}
		}
	}
}
