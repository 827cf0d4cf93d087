package systemtest_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
)

// Every path of the service is either public or proxy-only, never both, never neither: the
// listeners and the documented closing block are built from these two lists.
func TestEveryPathIsPublicOrProxyOnly(t *testing.T) {
	for _, p := range forwardauth.Paths {
		pub, proxy := slices.Contains(forwardauth.PublicPaths, p), slices.Contains(forwardauth.ProxyOnlyPaths, p)
		if pub == proxy {
			t.Errorf("%s: public %v, proxy-only %v; classify it once (forwardauth/paths.go)", p, pub, proxy)
		}
	}
	for _, p := range append(slices.Clone(forwardauth.PublicPaths), forwardauth.ProxyOnlyPaths...) {
		if !slices.Contains(forwardauth.Paths, p) {
			t.Errorf("%s is classified but not served (forwardauth.Paths)", p)
		}
	}
}

// Issue 28 #3: the bridge asked on the public host (host-example's own server block passes the
// client's Host) with a stolen hx_forward and forged X-Original-*/X-Forwarded-* naming the
// app's origin gets 404 and no credential, in every spelling of the public host; asked as the
// proxy asks it (nginx: its upstream's address; Caddy: the app's host) the bridge answers.
func TestCredentialPathsRefusedOnThePublicHost(t *testing.T) {
	f, fa := handoverFixture(t)
	friend := &http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)}
	forged := nginxBridge("http://web.example.test" + forwardauth.BridgePath)
	forged.Set("X-Forwarded-Host", "web.example.test")
	forged.Set("X-Forwarded-Proto", "http")
	ask := func(hostHeader, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://127.0.0.1:8080"+path, nil)
		r.Host = hostHeader
		r.Header = forged.Clone()
		r.AddCookie(friend)
		w := httptest.NewRecorder()
		fa.ServeHTTP(w, r)
		return w
	}
	for _, path := range []string{forwardauth.HandoverNginxPath, forwardauth.HandoverProxyPath} {
		for _, h := range []string{"auth.example.test", "AUTH.Example.Test", "auth.example.test.", "auth.example.test:8443", "auth.example.test:80"} {
			if w := ask(h, path); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), secretToken) {
				t.Errorf("%s with Host %q: %d, the credential handed over: %v", path, h, w.Code, strings.Contains(w.Body.String(), secretToken))
			}
		}
	}
	// As the proxies ask (nginx with its upstream's address, Caddy with the app's own host) the
	// bridge answers: its first step, on to the public host for a code (the token itself then
	// takes that code, TestHandoverBridge).
	for path, h := range map[string]string{forwardauth.HandoverNginxPath: "127.0.0.1:8080", forwardauth.HandoverProxyPath: "web.example.test"} {
		w := ask(h, path)
		if loc := w.Header().Get("Location"); w.Code != http.StatusFound || !strings.Contains(loc, forwardauth.HandoverCodePath+"?") ||
			strings.Contains(w.Body.String(), secretToken) {
			t.Errorf("%s asked as the proxy does (Host %q): %d to %q, want the bridge's first step", path, h, w.Code, loc)
		}
	}
	// The other paths are not refused there: a verify endpoint on the public host still judges.
	r := httptest.NewRequest("GET", "http://auth.example.test"+forwardauth.NginxPath, nil)
	r.Header = nginxBridge("http://web.example.test/web/index.html")
	w := httptest.NewRecorder()
	fa.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("the nginx endpoint on the public host, anonymous: %d, want 401", w.Code)
	}
}
