package web_test

import (
	"context"
	"html"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Every help link of every admin page goes to the docs the host serves itself (/docs/, by
// default) and answers 200 with the doc rendered: the test walks the admin from its home
// through every admin link it finds, and checks that each doc the templates name was linked.
func TestEveryHelpLinkOfTheAdminIsServed(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	h.browser().Login("plex", "friend")
	ctx := context.Background()
	if _, err := h.store.PutForwardRule(ctx, store.ForwardRule{Name: "Wiki", Host: "wiki.example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutOIDCClient(ctx, store.OIDCClient{ID: "grafana", Name: "Grafana", Origin: "ui"}); err != nil {
		t.Fatal(err)
	}
	a := h.browser()
	a.AdminLogin(adminPassword)

	adminHref := regexp.MustCompile(`href="(/admin[^"#]*)"`)
	helpHref := regexp.MustCompile(`<a class="doc" href="([^"]+)"`)
	seen, queue := map[string]bool{"/admin": true}, []string{"/admin"}
	help := map[string][]string{} // help link → pages that show it
	for len(queue) > 0 && len(seen) < 300 {
		u := queue[0]
		queue = queue[1:]
		p := a.Get(u)
		if p.Status != http.StatusOK {
			continue
		}
		for _, m := range adminHref.FindAllStringSubmatch(p.Body, -1) {
			if next := html.UnescapeString(m[1]); !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
		for _, m := range helpHref.FindAllStringSubmatch(p.Body, -1) {
			help[html.UnescapeString(m[1])] = append(help[html.UnescapeString(m[1])], u)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("walked only %d admin pages: %v", len(seen), seen)
	}

	// Each doc file a template names is linked from some page.
	named := regexp.MustCompile(`docs/([a-z0-9-]+\.md)`)
	tmpls, _ := filepath.Glob("templates/*.html")
	for _, f := range tmpls {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range named.FindAllStringSubmatch(string(b), -1) {
			if _, ok := help["/docs/"+m[1]]; !ok {
				t.Errorf("%s names docs/%s, but no admin page links /docs/%s (links: %v)", f, m[1], m[1], slices.Sorted(maps.Keys(help)))
			}
		}
	}
	for link, pages := range help {
		if !strings.HasPrefix(link, "/docs/") {
			t.Errorf("help link %s (on %v) is not the host's own docs", link, pages)
			continue
		}
		p := a.Get(link)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="doc"`) || !strings.Contains(p.Body, "<h1") {
			t.Errorf("help link %s (on %v): %d\n%.300s", link, pages, p.Status, p.Body)
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' 'nonce-") {
			t.Errorf("%s: CSP %q", link, csp)
		}
	}
	t.Logf("walked %d admin pages, followed %d help links", len(seen), len(help))

	// The list, and a name that is no doc.
	anon := h.browser()
	if p := anon.Get("/docs/"); p.Status != http.StatusOK || !strings.Contains(p.Body, `href="/docs/forward-auth.md"`) {
		t.Errorf("/docs/: %d %.300s", p.Status, p.Body)
	}
	for _, u := range []string{"/docs/nope.md", "/docs/docs.go", "/docs/..%2fREADME.md", "/docs/screenshots/admin-home.png"} {
		if p := anon.Get(u); p.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", u, p.Status)
		}
	}
}

// The technical page shows this build: its version, commit and Go release.
func TestTechnicalPageShowsTheBuild(t *testing.T) {
	h := newHarness(t, nil)
	a := h.browser()
	a.AdminLogin(adminPassword)
	p := a.Get("/admin/technical")
	b := buildinfo.Get()
	for id, want := range map[string]string{"build-version": b.Version, "build-revision": b.Revision, "build-go": b.GoVersion} {
		if got := textIn(t, p.Body, id); got != want || want == "" {
			t.Errorf("#%s: %q, want %q", id, got, want)
		}
	}
}
