package openid_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/plexlogin/plexlogin/host-example/host"
	"golang.org/x/oauth2"
)

type claims struct {
	Subject           string   `json:"sub"`
	Nonce             string   `json:"nonce"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Groups            []string `json:"groups"`
	AuthTime          int64    `json:"auth_time"`
	PlexPass          *bool    `json:"plex_pass"`
}

// login runs a whole code + PKCE flow as persona and returns the token and the verified id_token claims.
func (r *rp) login(t *testing.T, b *browser, persona string, extra ...oauth2.AuthCodeOption) (*oauth2.Token, claims) {
	t.Helper()
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}, extra...)
	p := b.authorize(r.config.AuthCodeURL(state, opts...), persona)
	code, gotState := codeOf(t, p)
	if gotState != state {
		t.Fatalf("state %q, want %q", gotState, state)
	}
	tok, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok, r.verify(t, tok, nonce)
}

func (r *rp) verify(t *testing.T, tok *oauth2.Token, nonce string) claims {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if nonce != "" && c.Nonce != nonce {
		t.Fatalf("nonce %q, want %q", c.Nonce, nonce)
	}
	return c
}

// The whole flow with a real relying party: discovery, code + PKCE, id_token against JWKS,
// nonce, claims from the mapped identity, userinfo, refresh rotation, logout.
func TestCodeFlowWithRealRelyingParty(t *testing.T) {
	d := newIDP(t)
	r := d.rp(gooidc.ScopeOpenID, "profile", "email", "groups", gooidc.ScopeOfflineAccess)
	b := d.browser()
	tok, c := r.login(t, b, "friend")
	if c.Subject == "" || c.Subject == "2001" || strings.Contains(c.Subject, "2001") {
		t.Fatalf("sub %q must be the host's opaque id, never the Plex id", c.Subject)
	}
	if c.PreferredUsername != "frank" || c.Email != "frank@example.com" || !c.EmailVerified || c.AuthTime == 0 {
		t.Fatalf("id_token claims %+v", c)
	}
	if !contains(c.Groups, "plex-friend") {
		t.Fatalf("groups %v", c.Groups)
	}
	if c.PlexPass == nil {
		t.Fatal("the released attribute plex_pass is missing")
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.Extra("id_token").(string), ".")[0])
	var h struct{ Alg, Kid string }
	_ = json.Unmarshal(header, &h)
	if h.Alg != "RS256" || h.Kid == "" {
		t.Fatalf("id_token header %s", header)
	}
	ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != c.Subject || ui.Email != "frank@example.com" {
		t.Fatalf("userinfo %+v %v", ui, err)
	}
	var uic claims
	_ = ui.Claims(&uic)
	if !contains(uic.Groups, "plex-friend") {
		t.Fatalf("userinfo groups %v", uic.Groups)
	}
	// The same user logging in again keeps the same sub.
	_, again := r.login(t, b, "friend")
	if again.Subject != c.Subject {
		t.Fatalf("sub changed: %s → %s", c.Subject, again.Subject)
	}
	// Refresh rotation: a new refresh token each time.
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token although offline_access was asked and the client may refresh")
	}
	tok.Expiry = tok.Expiry.Add(-24 * 3600e9)
	next, err := r.config.TokenSource(context.Background(), tok).Token()
	if err != nil || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	// Logout with an id_token_hint and a registered post_logout_redirect_uri.
	end, _ := url.Parse(d.issuer + "/end_session")
	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {rpLogout}, "state": {"bye"}}
	end.RawQuery = q.Encode()
	p := b.Do("GET", end.String(), nil)
	if p.Status != http.StatusFound || p.Redirect != rpLogout+"?state=bye" {
		t.Fatalf("logout: %d %s %s", p.Status, p.Redirect, p.Body)
	}
	if p := b.Do("GET", "/profile", nil); p.Redirect != d.issuer+"/login" {
		t.Fatalf("still signed in after logout: %d %s", p.Status, p.Redirect)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// After a login with a profile step, or with password and second factor, the browser goes
// back to the pending authorization request too.
func TestWayBackAfterStepAndPasswordLogins(t *testing.T) {
	d := newIDP(t)
	ctx := context.Background()
	cfg := strings.ReplaceAll(strings.Replace(membersConfig, `"access_mode"`, `"home_profiles":true,"password_login":true,"access_mode"`, 1),
		"OWNER", d.sim.Token("owner"))
	src, _ := d.store.Source(ctx, d.source.ID)
	norm, err := d.plugins.Get("plex").Process.ValidateConfig(ctx, host.Candidate(src, json.RawMessage(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.SaveConfig(ctx, src.ID, norm); err != nil {
		t.Fatal(err)
	}
	r := d.rp()
	// The profile step: pick the account itself.
	b := d.browser()
	p := b.Follow(r.config.AuthCodeURL("s1", s256()))
	p = b.SignIn(p, "plex", "owner")
	if !strings.Contains(p.Body, "Who is watching?") {
		t.Fatalf("no profile step: %d %s", p.Status, p.Redirect)
	}
	p = b.Do("POST", "/login/step", url.Values{"csrf": {p.CSRF()}, "choice": {"self"}})
	if p = b.Follow(p.Redirect); !strings.HasPrefix(p.Redirect, rpRedirect+"?code=") {
		t.Fatalf("after the step: %d %s", p.Status, p.Redirect)
	}
	// Password and second factor.
	b = d.browser()
	p = b.Follow(r.config.AuthCodeURL("s2", s256()))
	csrf, ret := p.CSRF(), p.Field("return")
	p = b.Do("POST", "/login/plex/password", url.Values{"csrf": {csrf}, "return": {ret}, "login": {"tess"}, "password": {"tf-pass"}})
	if p.Status != http.StatusUnauthorized {
		t.Fatalf("second factor not asked: %d", p.Status)
	}
	ret = p.Field("return")
	p = b.Do("POST", "/login/plex/password", url.Values{"csrf": {p.CSRF()}, "return": {ret}, "otp": {"123456"}})
	if p = b.Follow(p.Redirect); !strings.HasPrefix(p.Redirect, rpRedirect+"?code=") {
		t.Fatalf("after password + code: %d %s %s", p.Status, p.Redirect, p.Body)
	}
}

// The way back only ever goes to a registered local path.
func TestReturnTargetIsValidated(t *testing.T) {
	d := newIDP(t)
	for _, ret := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`, "/admin", "javascript:alert(1)", "/oidc/login\n?id=x"} {
		b := d.browser()
		p := b.Do("GET", "/login?return="+url.QueryEscape(ret), nil)
		if got := regexp.MustCompile(`name="return" value="([^"]*)"`).FindStringSubmatch(p.Body); got == nil || got[1] != "" {
			t.Errorf("return %q rendered as %v", ret, got)
		}
		p = b.SignIn(p, "plex", "friend")
		if p.Redirect != "" && p.Redirect != strings.TrimRight(d.issuer, "/")+"/" {
			t.Errorf("return %q: went to %s", ret, p.Redirect)
		}
	}
}
