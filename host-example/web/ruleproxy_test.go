package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Issue 29 #3: a saved rule's page shows the nginx and Caddy configuration that protects its
// app, exactly as forwardauth.ProxyConfigFor writes it (what the system tests feed to nginx
// and Caddy), asking the forward-auth listener's address, with a copy button; the new rule's
// form shows none.
func TestRulePageShowsTheProxyConfig(t *testing.T) {
	h := newHarnessWorld(t, plexsim.DefaultWorld(), nil, hosttest.ProxyListener())
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/forward-auth/new", nil)
	if strings.Contains(p.Body, `id="proxy-config"`) {
		t.Fatalf("the new rule's form shows a configuration: %s", p.Body)
	}
	form := url.Values{"csrf": {p.CSRF()}, "name": {"Sonarr"}, "host": {"sonarr.example.test"}}
	if p := b.Do("POST", "/admin/forward-auth", form); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	rules, err := h.store.ForwardRules(context.Background())
	if err != nil || len(rules) != 1 {
		t.Fatalf("saved rules %+v %v", rules, err)
	}
	proxy, _ := url.Parse(h.srv.Proxy.URL)
	want := forwardauth.ProxyConfigFor(rules[0], proxy)
	if !strings.Contains(want.NginxHTTP, "server "+proxy.Host+";") || !strings.Contains(want.Caddy, "forward_auth "+proxy.Host+" {") {
		t.Fatalf("the configuration does not ask the forward-auth listener %s:\n%s\n%s", proxy.Host, want.NginxHTTP, want.Caddy)
	}
	p = b.Do("GET", "/admin/forward-auth/"+rules[0].ID, nil)
	for id, text := range map[string]string{"nginx-http": want.NginxHTTP, "nginx-server": want.Nginx, "caddy-site": want.Caddy} {
		if !strings.Contains(p.Body, `<pre id="`+id+`">`+html.EscapeString(text)+`</pre>`) {
			t.Errorf("the page does not show %s as the generator writes it:\n%s\nin\n%s", id, text, p.Body)
		}
		if !strings.Contains(p.Body, `data-copy="`+id+`"`) {
			t.Errorf("no copy button for %s", id)
		}
	}
	if !strings.Contains(p.Body, `<script nonce="`) || strings.Contains(p.Body, "onclick") {
		t.Error("the copy buttons' script is not the page's nonced script")
	}
}

// The configuration's Copy buttons run under the page's CSP: where the clipboard API is
// missing (plain http), the button selects its block for Ctrl-C and says so.
func TestBrowserCopyProxyConfigSelectsIt(t *testing.T) {
	h := newHarness(t, nil)
	rule := store.ForwardRule{Name: "Sonarr", Host: "sonarr.example.test"}
	id, err := h.store.PutForwardRule(context.Background(), rule)
	if err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	steps(t, ctx, "open the rule", chromedp.Navigate(h.host.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#nav-logout"),
		chromedp.Navigate(h.host.URL+"/admin/forward-auth/"+id), visible(`[data-copy="caddy-site"]`))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Object.defineProperty(navigator, "clipboard", {value: undefined, configurable: true}); true`)); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, "copy", click(`[data-copy="caddy-site"]`))
	waitText(t, ctx, "#copy-status", "to copy")
	selected, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.getSelection().toString()`))
	if err != nil || !strings.Contains(selected, "forward_auth") || strings.TrimSpace(selected) != strings.TrimSpace(textOf(t, ctx, "#caddy-site")) {
		t.Fatalf("selected %q (%v)", selected, err)
	}
}
