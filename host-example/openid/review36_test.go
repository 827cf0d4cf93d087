package openid_test

import (
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Review 36 (hostile review of fc0f711): an access token issued with a refresh token is kept
// in the refresh token's row. These probes go through the provider's doors (token, userinfo,
// introspection, revocation) and fail, saying HOLE, when such a token answers without the
// proof each door asks for.

const review36OtherID, review36OtherSecret = "review36-other", "review36-other-secret-0123456789abcdef"

// review36Setup is a provider with a second registered client and a token set of the demo app
// (offline access: the access token lives in its refresh token's row).
func review36Setup(t *testing.T) (*idp, *rp, *oauth2.Token) {
	d := newIDP(t)
	d.addClient(store.OIDCClient{ID: review36OtherID, Name: "Other app", SecretSHA256: openid.HashSecret(review36OtherSecret),
		RedirectURIs: []string{"http://127.0.0.1:9/other"}, GrantTypes: []string{openid.GrantCode, openid.GrantRefresh}})
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	tok, _ := r.login(t, d.browser(), "friend")
	if tok.RefreshToken == "" || !userinfoOK(r, tok) {
		t.Fatal("setup: no refresh token, or the access token does not answer userinfo")
	}
	return d, r, tok
}

// A token in a refresh row is introspected only by its own client, and revoked only by it,
// whatever the hint; the refresh token is no bearer token and the access token no refresh
// token.
func TestReview36OtherClientAndStandIns(t *testing.T) {
	d, r, tok := review36Setup(t)
	if !introspectAs(t, d, rpID, rpSecret, tok.AccessToken) {
		t.Fatal("setup: the owner's introspection says inactive")
	}
	if introspectAs(t, d, review36OtherID, review36OtherSecret, tok.AccessToken) {
		t.Fatal("HOLE: another client introspects the access token held in a refresh row as active")
	}
	for _, hint := range []string{"", "access_token", "refresh_token"} {
		revoke(t, d, review36OtherID, review36OtherSecret, tok.AccessToken, hint)
		revoke(t, d, review36OtherID, review36OtherSecret, tok.RefreshToken, hint)
		if !userinfoOK(r, tok) {
			t.Fatalf("HOLE (denial): another client's revocation (hint %q) ended the access token", hint)
		}
	}
	if introspectAs(t, d, rpID, rpSecret, tok.RefreshToken) {
		t.Fatal("HOLE: a refresh token introspects as an active access token")
	}
	if userinfoOK(r, &oauth2.Token{AccessToken: tok.RefreshToken, TokenType: "Bearer"}) {
		t.Fatal("HOLE: a refresh token answers userinfo as an access token")
	}
	if _, err := r.refresh(tok.AccessToken); err == nil {
		t.Fatal("HOLE: an access token works as a refresh token")
	}
	next, err := r.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("HOLE (denial): another client's revocations ended the refresh token: %v", err)
	}
	if !userinfoOK(r, next) || !userinfoOK(r, tok) {
		t.Fatalf("after a refresh: the new access token answers %v, the first %v (both live until they expire)", userinfoOK(r, next), userinfoOK(r, tok))
	}
}

// Revoking an access token (RFC 7009), with either hint or none, ends that access token only;
// revoking a refresh token, with or without a hint, ends its family's access tokens (the ones
// of the rotated tokens too); a refresh reuse does as well.
func TestReview36RevocationEndsTheRightTokens(t *testing.T) {
	for _, hint := range []string{"", "access_token", "refresh_token"} {
		t.Run("hint "+hint, func(t *testing.T) {
			d, r, tok := review36Setup(t)
			next, err := r.refresh(tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			revoke(t, d, rpID, rpSecret, next.AccessToken, hint)
			if userinfoOK(r, next) || introspectAs(t, d, rpID, rpSecret, next.AccessToken) {
				t.Fatalf("HOLE: the access token revoked (hint %q) still answers", hint)
			}
			if !userinfoOK(r, tok) {
				t.Fatalf("HOLE (denial): revoking one access token (hint %q) ended the family's earlier one", hint)
			}
			third, err := r.refresh(next.RefreshToken)
			if err != nil {
				t.Fatalf("revoking an access token (hint %q) ended its refresh token: %v", hint, err)
			}
			if userinfoOK(r, next) {
				t.Fatal("HOLE: a rotation revived the revoked access token")
			}
			revoke(t, d, rpID, rpSecret, third.RefreshToken, hint)
			for i, at := range []*oauth2.Token{tok, third} {
				if userinfoOK(r, at) || introspectAs(t, d, rpID, rpSecret, at.AccessToken) {
					t.Fatalf("HOLE: the refresh token revoked (hint %q), yet access token %d of its family answers", hint, i)
				}
			}
			if _, err := r.refresh(third.RefreshToken); err == nil {
				t.Fatalf("HOLE: the refresh token revoked (hint %q) still refreshes", hint)
			}
		})
	}
	t.Run("reuse", func(t *testing.T) {
		_, r, tok := review36Setup(t)
		next, err := r.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.refresh(tok.RefreshToken); err == nil {
			t.Fatal("a rotated refresh token refreshed again")
		}
		for i, at := range []*oauth2.Token{tok, next} {
			if userinfoOK(r, at) {
				t.Fatalf("HOLE: after a refresh reuse, access token %d of the family answers userinfo", i)
			}
		}
		if _, err := r.refresh(next.RefreshToken); err == nil {
			t.Fatal("HOLE: after a refresh reuse the newest refresh token still refreshes")
		}
	})
}
