package systemtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkVerifyNginx is one nginx auth_request with a valid, cached session, through the
// host's handler (security headers, routing, rules, cache): the per-request cost on a core.
func BenchmarkVerifyNginx(b *testing.B) {
	f := newFixture(b)
	r := httptest.NewRequest("GET", "http://auth.example.test/forward-auth/nginx", nil)
	r.Header.Set("X-Original-URL", "http://app.example.test/library/42?page=2")
	r.Header.Set("X-Original-Method", "GET")
	r.Header.Set("X-Original-Host", "app.example.test")
	r.AddCookie(&http.Cookie{Name: "hx_forward", Value: f.ownerTok})
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code != 200 {
		b.Fatalf("verify: %d", w.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
	}
}
