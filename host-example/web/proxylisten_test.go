package web_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Issue 28 #3: with a forward-auth listener (-forward-auth-listen), every proxy-only path is
// served there and answers 404 on the public listener; the public paths, the pages and the
// sign-in are served on the public listener only; the admin's Protected apps page tells the
// proxy the listener's address, never the public URL, for the proxy-only paths.
func TestProxyOnlyPathsOnTheirOwnListener(t *testing.T) {
	h := newHarnessWorld(t, plexsim.DefaultWorld(), nil, hosttest.ProxyListener())
	b := h.browser()
	proxy := h.srv.Proxy.URL
	for _, p := range forwardauth.ProxyOnlyPaths {
		if got := b.Do("GET", p, nil); got.Status != http.StatusNotFound {
			t.Errorf("public listener %s: %d, want 404", p, got.Status)
		}
		if got := b.Do("GET", proxy+p, nil); got.Status == http.StatusNotFound {
			t.Errorf("forward-auth listener %s: 404, want its answer", p)
		}
	}
	for _, p := range append(append([]string{}, forwardauth.PublicPaths...), "/login", "/admin/login", "/profile", "/.well-known/openid-configuration") {
		if got := b.Do("GET", proxy+p, nil); got.Status != http.StatusNotFound {
			t.Errorf("forward-auth listener %s: %d, want 404", p, got.Status)
		}
		if got := b.Do("GET", p, nil); got.Status == http.StatusNotFound {
			t.Errorf("public listener %s: 404", p)
		}
	}
	if got := b.Do("GET", proxy+"/healthz", nil); got.Status != http.StatusOK {
		t.Errorf("forward-auth listener /healthz: %d", got.Status)
	}

	b.AdminLogin(adminPassword)
	page := html.UnescapeString(b.Do("GET", "/admin/forward-auth", nil).Body)
	for _, p := range forwardauth.ProxyOnlyPaths {
		if !strings.Contains(page, proxy+p) || strings.Contains(page, h.srv.URL+p) {
			t.Errorf("the Protected apps page does not give the proxy %s (or gives the public URL's): %s", proxy+p, page)
		}
	}
	if !strings.Contains(page, h.srv.URL+forwardauth.LogoutPath) {
		t.Errorf("the sign-out link for apps is not the public one: %s", page)
	}
}

// Without a listener of their own the proxy-only paths answer on the one listener, except the
// paths that release a credential, which the public host (Host naming the public URL's host)
// refuses.
func TestProxyOnlyPathsWithoutTheirListener(t *testing.T) {
	h := newHarness(t, nil)
	b := h.browser()
	for _, p := range forwardauth.ProxyOnlyPaths {
		got := b.Do("GET", p, nil)
		refused := p == forwardauth.HandoverNginxPath || p == forwardauth.HandoverProxyPath
		if refused != (got.Status == http.StatusNotFound) {
			t.Errorf("%s on the public host: %d", p, got.Status)
		}
	}
}
