package openid_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/openid"
)

// A refusal's ways on act only on an authorization request of this browser: another browser,
// signed in with its own CSRF token, cannot end someone's request or send its state and
// access_denied to the app, nor restart it as another account.
func TestRefusalWaysOnRefuseAnotherBrowsersRequest(t *testing.T) {
	d := newIDP(t)
	c, _ := d.store.OIDCClientByID(context.Background(), rpID)
	c.AllowedGroups = []string{"plex-owner"}
	d.addClient(*c)
	r := d.rp()
	idRE := regexp.MustCompile(`name="id" value="([^"]+)"`)
	refusal := func(b *browser, state string) (csrf, id string) {
		t.Helper()
		p := b.SignIn(b.Follow(r.config.AuthCodeURL(state, s256())), "plex", "friend")
		if p.Status != http.StatusForbidden || idRE.FindStringSubmatch(p.Body) == nil {
			t.Fatalf("no refusal: %d %s", p.Status, p.Body)
		}
		return p.CSRF(), idRE.FindStringSubmatch(p.Body)[1]
	}
	victim, attacker := d.browser(), d.browser()
	_, victimID := refusal(victim, "victim-state")
	csrf, _ := refusal(attacker, "attacker-state")
	for _, path := range []string{openid.BackToAppPath, openid.OtherAccountPath} {
		if p := attacker.Do("POST", path, url.Values{"csrf": {csrf}, "id": {victimID}}); p.Status != http.StatusBadRequest || p.Redirect != "" ||
			strings.Contains(p.Body, "victim-state") {
			t.Fatalf("%s with another browser's request: %d %s", path, p.Status, p.Redirect)
		}
	}
	// The victim's request is untouched: its own way back still answers the app.
	vp := victim.Do("GET", "/profile", nil)
	vcsrf := vp.CSRF()
	if vcsrf == "" {
		t.Fatalf("no CSRF token on the victim's profile: %s", vp.Body)
	}
	if p := victim.Do("POST", openid.BackToAppPath, url.Values{"csrf": {vcsrf}, "id": {victimID}}); p.Status != http.StatusFound ||
		!strings.Contains(p.Redirect, "state=victim-state") {
		t.Fatalf("the victim's own way back: %d %s", p.Status, p.Redirect)
	}
}

// "Back to <app>" answers only at a redirect URI the app still has registered: one the admin
// removed since the request began gets no code, state or error, and the request stays open.
func TestRefusalWayBackOnlyToARegisteredRedirectURI(t *testing.T) {
	d := newIDP(t)
	c, _ := d.store.OIDCClientByID(context.Background(), rpID)
	c.AllowedGroups = []string{"plex-owner"}
	d.addClient(*c)
	r := d.rp()
	b := d.browser()
	p := b.SignIn(b.Follow(r.config.AuthCodeURL("moved-state", s256())), "plex", "friend")
	idm := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusForbidden || idm == nil {
		t.Fatalf("no refusal: %d %s", p.Status, p.Body)
	}
	csrf := p.CSRF()
	c.RedirectURIs = []string{"http://127.0.0.1:9/elsewhere"}
	d.addClient(*c)
	if p := b.Do("POST", openid.BackToAppPath, url.Values{"csrf": {csrf}, "id": {idm[1]}}); p.Status != http.StatusBadRequest ||
		p.Redirect != "" || !strings.Contains(p.Body, "no longer registered") {
		t.Fatalf("back to an unregistered redirect URI: %d %s %s", p.Status, p.Redirect, p.Body)
	}
	if row, err := d.store.AuthRequestByID(context.Background(), idm[1]); err != nil || row.Done {
		t.Fatalf("the request was ended: %v", err)
	}
}

// "Back to <app>" reaches a native app on the loopback port it asked with, as the
// authorization request accepted it (RFC 8252 §7.3: the port is the app's, not the
// registration's), with access_denied and its state.
func TestRefusalWayBackToANativeAppOnAnotherLoopbackPort(t *testing.T) {
	d := newIDP(t)
	c, _ := d.store.OIDCClientByID(context.Background(), publicID)
	c.AllowedGroups = []string{"plex-owner"}
	d.addClient(*c)
	const redirect = "http://127.0.0.1:51234/cli" // registered: http://127.0.0.1:9/cli
	cfg := oauth2.Config{ClientID: publicID, Endpoint: d.rp().config.Endpoint, RedirectURL: redirect, Scopes: []string{"openid"}}
	b := d.browser()
	p := b.SignIn(b.Follow(cfg.AuthCodeURL("native-state", s256())), "plex", "friend")
	idm := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusForbidden || idm == nil {
		t.Fatalf("no refusal: %d %s %s", p.Status, p.Redirect, p.Body)
	}
	p = b.Do("POST", openid.BackToAppPath, url.Values{"csrf": {p.CSRF()}, "id": {idm[1]}})
	back, err := url.Parse(p.Redirect)
	if p.Status != http.StatusFound || err != nil || back.Scheme+"://"+back.Host+back.Path != redirect ||
		back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "native-state" || back.Query().Has("code") {
		t.Fatalf("back to the native app: %d %q %s", p.Status, p.Redirect, p.Body)
	}
	if _, err := d.store.AuthRequestByID(context.Background(), idm[1]); err == nil {
		t.Fatal("the refused request is still open")
	}
}
