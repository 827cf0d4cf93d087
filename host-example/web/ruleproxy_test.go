package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
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
