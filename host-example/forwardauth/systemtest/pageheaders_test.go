package systemtest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
)

// Issue 34: a bodiless decision (200, 401) carries no page security headers, on the public
// listener and on the proxy's; an answer of a decision path with a body (an unreadable question,
// Caddy's denied page, a question sent with a body) still carries them.
func TestDecisionsCarryPageHeadersOnlyWithABody(t *testing.T) {
	f := newFixture(t)
	pageHeaders := func(w *httptest.ResponseRecorder) bool {
		h := w.Header()
		return h.Get("X-Frame-Options") == "DENY" && h.Get("X-Content-Type-Options") == "nosniff" &&
			h.Get("Referrer-Policy") == "same-origin" && strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	}
	anyPageHeader := func(w *httptest.ResponseRecorder) bool {
		h := w.Header()
		return h.Get("X-Frame-Options") != "" || h.Get("Content-Security-Policy") != "" || h.Get("Referrer-Policy") != "" ||
			h.Get("X-Content-Type-Options") != ""
	}
	for name, srv := range map[string]http.Handler{"public": f.srv, "proxy": f.srv.ProxyHandler()} {
		ask := func(r *http.Request) *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			return w
		}
		if w := ask(nginxAsk(f.ownerTok)); w.Code != http.StatusOK || anyPageHeader(w) || w.Header().Get(forwardauth.HeaderUser) != "olivia" ||
			w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: allowed: %d %v", name, w.Code, w.Header())
		}
		if w := ask(nginxAsk("")); w.Code != http.StatusUnauthorized || anyPageHeader(w) || w.Header().Get("Location") == "" {
			t.Errorf("%s: anonymous: %d %v", name, w.Code, w.Header())
		}
		r := nginxAsk(f.ownerTok)
		r.Header.Del("X-Original-Host")
		if w := ask(r); w.Code != http.StatusForbidden || !pageHeaders(w) || w.Body.Len() == 0 {
			t.Errorf("%s: unreadable: %d %v", name, w.Code, w.Header())
		}
		r = httptest.NewRequest("GET", "http://auth.example.test"+forwardauth.CaddyPath, nil)
		r.Header = http.Header{"X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"app.example.test"}, "X-Forwarded-Uri": {"/admin/"},
			"X-Forwarded-Method": {"GET"}}
		r.AddCookie(&http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)})
		if w := ask(r); w.Code != http.StatusForbidden || !pageHeaders(w) || !strings.Contains(w.Body.String(), "<html") {
			t.Errorf("%s: Caddy's denied page: %d %v", name, w.Code, w.Header())
		}
		r = httptest.NewRequest("POST", "http://auth.example.test"+forwardauth.NginxPath, strings.NewReader("x=1"))
		r.Header = nginxAsk(f.ownerTok).Header
		if w := ask(r); !pageHeaders(w) {
			t.Errorf("%s: a question with a body: %d %v", name, w.Code, w.Header())
		}
	}
}

// nginxAsk is the nginx subrequest for the app's page, with the forward-auth cookie when token is set.
func nginxAsk(token string) *http.Request {
	r := httptest.NewRequest("GET", "http://auth.example.test/forward-auth/nginx", nil)
	r.Header.Set("X-Original-URL", "http://app.example.test/library/42?page=2")
	r.Header.Set("X-Original-Method", "GET")
	r.Header.Set("X-Original-Host", "app.example.test")
	if token != "" {
		r.AddCookie(&http.Cookie{Name: "hx_forward", Value: token})
	}
	return r
}
