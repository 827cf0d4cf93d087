package openid_test

import (
	"context"
	"net/url"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A code minted before the person's access ended gives nothing: not after "Sign out
// everywhere", nor after the admin disabled them, nor after the host session that completed
// the request signed out, nor after the app's groups stopped admitting them. Each with and
// without offline_access (the two ways a code is exchanged); a code nothing happened to
// still works.
func TestCodeMintedBeforeAccessEndedGivesNothing(t *testing.T) {
	d := newIDP(t)
	ctx := context.Background()
	userOf := func(t *testing.T) *store.User { // friend, the one person who signs in here
		us, err := d.store.Users(ctx)
		if err != nil || len(us) != 1 {
			t.Fatalf("users: %d %v", len(us), err)
		}
		return us[0]
	}
	post := func(t *testing.T, b *browser, path string) {
		p := b.Do("GET", "/profile", nil)
		csrf := p.CSRF()
		if csrf == "" {
			t.Fatalf("no profile page: %d %s", p.Status, p.Redirect)
		}
		if p := b.Do("POST", path, url.Values{"csrf": {csrf}}); p.Redirect != d.issuer+"/login?signed_out=1" {
			t.Fatalf("POST %s: %d %s", path, p.Status, p.Redirect)
		}
	}
	cases := []struct {
		name   string
		end    func(t *testing.T, b *browser)
		undo   func(t *testing.T)
		ending bool
	}{
		{name: "nothing ended", end: func(*testing.T, *browser) {}},
		{name: "sign out everywhere", ending: true, end: func(t *testing.T, b *browser) { post(t, b, "/logout/everywhere") }},
		{name: "the session signed out", ending: true, end: func(t *testing.T, b *browser) { post(t, b, "/logout") }},
		{name: "disabled", ending: true,
			end: func(t *testing.T, _ *browser) {
				if err := d.store.SetDisabled(ctx, userOf(t).ID, true, store.DisabledByAdmin); err != nil {
					t.Fatal(err)
				}
			},
			undo: func(t *testing.T) {
				if err := d.store.SetDisabled(ctx, userOf(t).ID, false, ""); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "groups no longer admit", ending: true,
			end: func(t *testing.T, _ *browser) {
				c, _ := d.store.OIDCClientByID(ctx, rpID)
				c.AllowedGroups = []string{"plex-owner"}
				d.addClient(*c)
			},
			undo: func(t *testing.T) {
				c, _ := d.store.OIDCClientByID(ctx, rpID)
				c.AllowedGroups = nil
				d.addClient(*c)
			}},
	}
	for _, tc := range cases {
		for _, offline := range []bool{false, true} {
			scopes := []string{gooidc.ScopeOpenID, "profile"}
			if offline {
				scopes = append(scopes, gooidc.ScopeOfflineAccess)
			}
			t.Run(tc.name+map[bool]string{false: "", true: " offline_access"}[offline], func(t *testing.T) {
				r := d.rp(scopes...)
				b := d.browser()
				code, verifier := r.codeFor(t, b, "friend")
				tc.end(t, b)
				if tc.undo != nil {
					defer tc.undo(t)
				}
				tok, err := r.config.Exchange(ctx, code, oauth2.VerifierOption(verifier))
				if !tc.ending {
					if err != nil || !userinfoOK(r, tok) || offline == (tok.RefreshToken == "") {
						t.Fatalf("a code of a live sign-in: %v %+v", err, tok)
					}
					return
				}
				if err == nil {
					t.Fatalf("the code gave tokens: id_token %v, refresh token %q", tok.Extra("id_token") != nil, tok.RefreshToken)
				}
				if got := oauthError(err); got != "invalid_grant" {
					t.Fatalf("exchange: %v, want invalid_grant", err)
				}
			})
		}
	}
}
