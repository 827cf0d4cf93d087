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
		p := b.plexLogin(b.follow(r.config.AuthCodeURL(state, s256())), "friend")
		if p.status != http.StatusForbidden || idRE.FindStringSubmatch(p.body) == nil {
			t.Fatalf("no refusal: %d %s", p.status, p.body)
		}
		return csrfRE.FindStringSubmatch(p.body)[1], idRE.FindStringSubmatch(p.body)[1]
	}
	victim, attacker := d.browser(), d.browser()
	_, victimID := refusal(victim, "victim-state")
	csrf, _ := refusal(attacker, "attacker-state")
	for _, path := range []string{openid.BackToAppPath, openid.OtherAccountPath} {
		if p := attacker.do("POST", path, url.Values{"csrf": {csrf}, "id": {victimID}}); p.status != http.StatusBadRequest || p.location != "" ||
			strings.Contains(p.body, "victim-state") {
			t.Fatalf("%s with another browser's request: %d %s", path, p.status, p.location)
		}
	}
	// The victim's request is untouched: its own way back still answers the app.
	vp := victim.do("GET", "/profile", nil)
	vcsrf := csrfRE.FindStringSubmatch(vp.body)
	if vcsrf == nil {
		t.Fatalf("no CSRF token on the victim's profile: %s", vp.body)
	}
	if p := victim.do("POST", openid.BackToAppPath, url.Values{"csrf": {vcsrf[1]}, "id": {victimID}}); p.status != http.StatusFound ||
		!strings.Contains(p.location, "state=victim-state") {
		t.Fatalf("the victim's own way back: %d %s", p.status, p.location)
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
	p := b.plexLogin(b.follow(r.config.AuthCodeURL("moved-state", s256())), "friend")
	idm := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(p.body)
	if p.status != http.StatusForbidden || idm == nil {
		t.Fatalf("no refusal: %d %s", p.status, p.body)
	}
	csrf := csrfRE.FindStringSubmatch(p.body)[1]
	c.RedirectURIs = []string{"http://127.0.0.1:9/elsewhere"}
	d.addClient(*c)
	if p := b.do("POST", openid.BackToAppPath, url.Values{"csrf": {csrf}, "id": {idm[1]}}); p.status != http.StatusBadRequest ||
		p.location != "" || !strings.Contains(p.body, "no longer registered") {
		t.Fatalf("back to an unregistered redirect URI: %d %s %s", p.status, p.location, p.body)
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
	p := b.plexLogin(b.follow(cfg.AuthCodeURL("native-state", s256())), "friend")
	idm := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(p.body)
	if p.status != http.StatusForbidden || idm == nil {
		t.Fatalf("no refusal: %d %s %s", p.status, p.location, p.body)
	}
	p = b.do("POST", openid.BackToAppPath, url.Values{"csrf": {csrfRE.FindStringSubmatch(p.body)[1]}, "id": {idm[1]}})
	back, err := url.Parse(p.location)
	if p.status != http.StatusFound || err != nil || back.Scheme+"://"+back.Host+back.Path != redirect ||
		back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "native-state" || back.Query().Has("code") {
		t.Fatalf("back to the native app: %d %q %s", p.status, p.location, p.body)
	}
	if _, err := d.store.AuthRequestByID(context.Background(), idm[1]); err == nil {
		t.Fatal("the refused request is still open")
	}
}
