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

// BenchmarkVerifyNginxHandover is a page load of an app that receives a sign-in, by a browser
// that already has it: the same decision plus one read of the credential's stamp.
func BenchmarkVerifyNginxHandover(b *testing.B) {
	f, fa := handoverFixture(b)
	friend := &http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)}
	w := serve(fa, "/forward-auth/handover/nginx", nginxBridge("http://web.example.test/.host-example/handover"), friend)
	var mark *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "hx_handover" {
			mark = c
		}
	}
	h := nginxBridge("http://web.example.test/web/index.html")
	h.Set("Sec-Fetch-Mode", "navigate")
	h.Set("Sec-Fetch-Dest", "document")
	if w := serve(fa, "/forward-auth/nginx", h, friend, mark); mark == nil || w.Code != 200 {
		b.Fatalf("verify: %d (mark %v)", w.Code, mark)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve(fa, "/forward-auth/nginx", h, friend, mark)
	}
}

// BenchmarkVerifyNginxDirect is BenchmarkVerifyNginx on the service alone (no page headers),
// the baseline of BenchmarkVerifyNginxHandover.
func BenchmarkVerifyNginxDirect(b *testing.B) {
	f, fa := handoverFixture(b)
	friend := &http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)}
	h := nginxBridge("http://app.example.test/library/42")
	if w := serve(fa, "/forward-auth/nginx", h, friend); w.Code != 200 {
		b.Fatalf("verify: %d", w.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve(fa, "/forward-auth/nginx", h, friend)
	}
}
