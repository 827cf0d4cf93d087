package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An application's form offers the groups and attributes sign-ins gave as checkboxes, keeps
// typed names beside them, and saves both.
func TestClientFormOffersGroupsSeenInLogins(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	h.browser().Login("plex", "friend")
	frank, err := h.store.FindUser(context.Background(), h.source.ID, "frank")
	if err != nil || len(frank.Groups) == 0 {
		t.Fatalf("frank: %v", err)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	p := admin.Do("GET", "/admin/clients/new", nil)
	for _, g := range frank.Groups {
		if !strings.Contains(p.Body, `<input type="checkbox" name="allowed_groups" value="`+g+`">`) {
			t.Errorf("group %q of frank's login is not offered", g)
		}
	}
	if !strings.Contains(p.Body, `name="release_attributes" value="plex_pass">`) {
		t.Error("the attribute plex_pass of frank's login is not offered")
	}
	form := url.Values{"csrf": {p.CSRF()}, "name": {"Grafana"}, "client_id": {"grafana"}, "redirect_uris": {"https://grafana.example.com/cb"},
		"allowed_groups": {frank.Groups[0], "typed-group\n" + frank.Groups[0]}, "release_attributes": {"plex_pass", "typed_attr"}}
	if p := admin.Do("POST", "/admin/clients", form); p.Status != http.StatusOK {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	c, err := h.store.OIDCClientByID(context.Background(), "grafana")
	if err != nil || !slices.Equal(c.AllowedGroups, []string{frank.Groups[0], "typed-group"}) ||
		!slices.Equal(c.ReleaseAttributes, []string{"plex_pass", "typed_attr"}) {
		t.Fatalf("saved groups %q attributes %q (%v)", c.AllowedGroups, c.ReleaseAttributes, err)
	}
	// Editing: the seen group checked, the typed one in the text.
	p = admin.Do("GET", "/admin/clients/grafana", nil)
	if !strings.Contains(p.Body, `value="`+frank.Groups[0]+`" checked>`) || !strings.Contains(p.Body, "<textarea name=\"allowed_groups\">typed-group\n</textarea>") {
		t.Fatalf("edit form: %s", p.Body)
	}
}

// The once-shown secret's Copy button: where the clipboard API is missing (plain http), it
// selects the secret for Ctrl-C and says so.
func TestBrowserCopySecretFallsBackToSelecting(t *testing.T) {
	h := newHarness(t, nil)
	ctx := newBrowser(t)
	steps(t, ctx, "add an application", chromedp.Navigate(h.host.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#nav-logout"),
		chromedp.Navigate(h.host.URL+"/admin/clients/new"), visible("#client-form"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Grafana"), chromedp.SendKeys(chromedp.CSS(`input[name="client_id"]`), "grafana"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="redirect_uris"]`), "https://grafana.example.com/cb"),
		click("#save-client"), visible("#copy-secret"))
	secret := textOf(t, ctx, "#new-secret code")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Object.defineProperty(navigator, "clipboard", {value: undefined, configurable: true}); true`)); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, "copy", click("#copy-secret"))
	waitText(t, ctx, "#copy-status", "to copy")
	selected, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.getSelection().toString()`))
	if err != nil || len(secret) != 64 || strings.TrimSpace(selected) != secret {
		t.Fatalf("selected %q, secret %q (%v)", selected, secret, err)
	}
}

// An application's form offers the id_token signing algorithms, the default named; one not
// offered is refused with the form again, saying which are; a chosen one is saved, shown
// selected when editing and beside the name in the list.
func TestClientFormSigningAlgorithm(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	p := admin.Do("GET", "/admin/clients/new", nil)
	for _, opt := range []string{`<option value="" selected>Default (RS256)</option>`, `<option value="ES256">ES256</option>`, `<option value="EdDSA">EdDSA</option>`} {
		if !strings.Contains(p.Body, opt) {
			t.Errorf("the form lacks %s", opt)
		}
	}
	form := url.Values{"csrf": {p.CSRF()}, "name": {"Fast"}, "client_id": {"fast"}, "redirect_uris": {"https://fast.example.com/cb"},
		"id_token_signed_response_alg": {"HS256"}}
	if p := admin.Do("POST", "/admin/clients", form); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Body, `id_token_signed_response_alg: signing algorithm &#34;HS256&#34; is not offered: use RS256, ES256, EdDSA`) {
		t.Fatalf("HS256: %d %s", p.Status, p.Body)
	}
	if _, err := h.store.OIDCClientByID(context.Background(), "fast"); err == nil {
		t.Fatal("a client with HS256 was saved")
	}
	form.Set("id_token_signed_response_alg", "ES256")
	if p := admin.Do("POST", "/admin/clients", form); p.Status != http.StatusOK || !strings.Contains(p.Body, `<span class="pill" title="signs its id_tokens with ES256">ES256</span>`) {
		t.Fatalf("ES256: %d %s", p.Status, p.Body)
	}
	if c, err := h.store.OIDCClientByID(context.Background(), "fast"); err != nil || c.IDTokenAlg != "ES256" {
		t.Fatalf("saved: %+v %v", c, err)
	}
	if p := admin.Do("GET", "/admin/clients/fast", nil); !strings.Contains(p.Body, `<option value="ES256" selected>ES256</option>`) {
		t.Fatalf("edit form: %s", p.Body)
	}
}
