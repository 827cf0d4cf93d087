package systemtest_test

import (
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
)

// Hostile probes of the denied page Caddy and Traefik copy onto the app's origin: what the
// proxy says of the request (host, path, the rd a login would carry) never reaches the page
// as markup, and an answer that is not the page is plain text.
func TestReviewProbesDeniedPageReflection(t *testing.T) {
	f := newFixture(t)
	friend := f.forwardToken(f.friend)
	for _, path := range []string{forwardauth.CaddyPath, forwardauth.TraefikPath} {
		for _, c := range []struct{ host, uri string }{
			{"app.example.test", "/admin/<script>alert(1)</script>?rd=javascript:alert(1)"},
			{"app.example.test", `/admin/"><svg onload=alert(1)>`},
			{"<script>alert(1)</script>.example.test", "/"},
			{"evil.example.test", "/?rd=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"},
			{`app.example.test"><b>x</b>`, "/admin"},
		} {
			for _, tok := range []string{friend, ""} {
				w := f.ask(path, tok, map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Proto": "http", "X-Forwarded-Host": c.host, "X-Forwarded-Uri": c.uri})
				body := w.Body.String()
				ct := w.Header().Get("Content-Type")
				t.Logf("%s %q %q signed-in=%v: %d %s %s", path, c.host, c.uri, tok != "", w.Code, ct, w.Header().Get("Location"))
				for _, bad := range []string{"<script", "<svg", "<b>", "javascript:", "onload="} {
					if strings.HasPrefix(ct, "text/html") && strings.Contains(body, bad) {
						t.Errorf("%s %q %q: the page holds %q:\n%s", path, c.host, c.uri, bad, body)
					}
				}
				if w.Code >= 400 && !strings.HasPrefix(ct, "text/plain") && !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
					t.Errorf("%s: a refusal without the denied page's CSP: %v", path, w.Header())
				}
			}
		}
	}
}
