package web_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Hostile probes of the portal's doors: a polyglot icon (a PNG or WebP header before HTML)
// the checks accept is served inert (its checked image type, nosniff, a sandboxing CSP); path
// tricks on the icons and the docs reach nothing; a multipart body to a non-clean spelling
// of an upload route stores nothing; "keep me signed in" without the form's CSRF token starts
// no login.
func TestReviewProbesPortalDoors(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	sonarr, radarr := portalApps(t, h, "sonarr.example.test", "radarr.example.test", "https://grafana.example.test/")
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	page := "/admin/forward-auth/" + sonarr
	friend := h.browser()
	friend.Login("plex", "friend")

	html := []byte("<!doctype html><html><body><script>alert(document.domain)</script></body></html>")
	webp := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), html...)
	binary.LittleEndian.PutUint32(webp[4:], uint32(len(webp)-8))
	for name, c := range map[string]struct {
		data []byte
		ct   string
	}{
		"png then html":  {append(pngIcon(t), html...), "image/png"},
		"webp then html": {webp, "image/webp"},
	} {
		admin.Get(page)
		p := admin.Upload(page+"/icon", nil, "icon", "x.html", "text/html", c.data)
		if p.Status != http.StatusSeeOther {
			t.Logf("%s: refused at upload (%d)", name, p.Status)
			continue
		}
		got := friend.Get("/apps/icon/rule/" + sonarr)
		csp := got.Header.Get("Content-Security-Policy")
		t.Logf("%s: accepted; served %d %q nosniff=%q csp=%q", name, got.Status, got.Header.Get("Content-Type"), got.Header.Get("X-Content-Type-Options"), csp)
		if got.Status != http.StatusOK || got.Header.Get("Content-Type") != c.ct || got.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: served %d %v", name, got.Status, got.Header)
		}
	}
	if err := h.store.PutAppIcon(context.Background(), store.AppIcon{Kind: store.RuleIcon, AppID: radarr, ContentType: "image/png", Data: pngIcon(t)}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/apps/icon/RULE/" + radarr, "/apps/icon/Rule/" + sonarr, "/apps/icon/rule/" + radarr + "/", "/apps/icon/rule/" + strings.ToUpper(radarr),
		"/apps/icon/rule/..%2F" + radarr, "/apps/icon/rule/%2e%2e/rule/" + radarr, "/apps/icon/rule/" + sonarr + "%2F..%2F" + radarr,
		"/apps/icon/client/../rule/" + radarr, "/apps/icon/rule/" + url.PathEscape(radarr+" "),
	} {
		if p := friend.Get(path); p.Status == http.StatusOK {
			t.Errorf("the friend got %s: %d", path, p.Status)
		} else {
			t.Logf("%s: %d %s", path, p.Status, p.Location)
		}
	}
	for _, path := range []string{"/docs/..%2fgo.mod", "/docs/%2e%2e/go.mod", "/docs/SECURITY.md", "/docs/security.md%00", "/docs/./../README.md",
		"/docs/..%5cgo.mod", "/docs/docs.go", "/docs/container/", "/docs/screenshots/"} {
		p := friend.Get(path)
		t.Logf("%s: %d %s", path, p.Status, p.Location)
		if p.Status == http.StatusOK {
			t.Errorf("%s served", path)
		}
	}

	// Multipart to a non-clean spelling of an upload route: parsed (it names an upload
	// route), then redirected by the pages; nothing stored.
	if err := h.store.DeleteAppIcon(context.Background(), store.RuleIcon, sonarr); err != nil {
		t.Fatal(err)
	}
	admin.Get(page)
	p := admin.Upload("/admin/forward-auth/"+sonarr+"/x/../icon", nil, "icon", "i.png", "image/png", pngIcon(t))
	t.Logf("multipart to a non-clean upload path: %d %s", p.Status, p.Location)
	if _, err := h.store.AppIcon(context.Background(), store.RuleIcon, sonarr); err == nil {
		t.Error("an icon stored through a non-clean path")
	}

	// "Keep me signed in" from another site: no CSRF token, no login begun.
	other := h.browser()
	other.Get("/login")
	if p := other.PostForm("/login/plex", url.Values{"remember": {"1"}}); p.Status == http.StatusSeeOther && strings.Contains(p.Location, "plex") {
		t.Errorf("a cross-site sign-in POST began a login: %d %s", p.Status, p.Location)
	} else {
		t.Logf("cross-site remember POST: %d %s", p.Status, p.Location)
	}
}
