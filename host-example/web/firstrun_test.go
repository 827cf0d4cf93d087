package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Issue 30 #2: the first-run guide is the admin's only (a stranger is sent to the admin's
// sign-in); it says which start options forward-auth lacks and why; the admin home offers it
// while steps are left, and not once the admin finished it; its forms come back to it, while
// the same forms elsewhere go where they always did.
func TestFirstRunGuideStepsAndOptions(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.PublicURLDefault = true })
	if p := h.browser().Do("GET", "/admin/setup", nil); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/admin/login") {
		t.Fatalf("a stranger at the guide: %d %s", p.Status, p.Location)
	}
	b := h.browser()
	b.AdminLogin(adminPassword)
	if p := b.Do("GET", "/admin", nil); !strings.Contains(p.Body, `id="continue-setup"`) {
		t.Fatal("the admin home of a new host does not offer the guide")
	}
	p := b.Do("GET", "/admin/setup", nil)
	for _, want := range []string{`id="step-2" class="current"`, `id="setup-add-plex"`, "Set -public-url (HOST_PUBLIC_URL)", "Set -cookie-domain (HOST_COOKIE_DOMAIN)"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the guide of a new host lacks %q", want)
		}
	}
	src := h.addSource(membersConfig)
	if err := h.store.SetEnabled(context.Background(), src.ID, false); err != nil {
		t.Fatal(err)
	}
	p = b.Do("GET", "/admin/setup", nil)
	if !strings.Contains(p.Body, `id="step-3" class="current"`) {
		t.Fatalf("a configured source that is off: not the step to turn it on\n%s", p.Body)
	}
	// the same action from the admin home goes back there; from the guide, to the guide
	if p := b.Do("POST", "/admin/sources/"+src.ID+"/enabled", url.Values{"csrf": {p.CSRF()}, "enabled": {"0"}}); p.Location != "/admin" {
		t.Fatalf("turning off from the home: %d %s", p.Status, p.Location)
	}
	if p := b.Do("POST", "/admin/sources/"+src.ID+"/enabled", url.Values{"csrf": {p.CSRF()}, "enabled": {"1"}, "then": {"setup"}}); p.Location != "/admin/setup" {
		t.Fatalf("turning on from the guide: %d %s", p.Status, p.Location)
	}
	p = b.Do("GET", "/admin/setup", nil)
	if !strings.Contains(p.Body, `id="step-4" class="current"`) {
		t.Fatalf("a source that is on: not the step to protect an app\n%s", p.Body)
	}
	if p := b.Do("POST", "/admin/forward-auth", url.Values{"csrf": {p.CSRF()}, "name": {"Wiki"}, "host": {"wiki.example.test"}, "then": {"setup"}}); p.Location != "/admin/setup" {
		t.Fatalf("protecting an app from the guide: %d %s", p.Status, p.Location)
	}
	p = b.Do("GET", "/admin/setup", nil)
	if !strings.Contains(p.Body, `id="setup-summary"`) || !strings.Contains(p.Body, `id="nginx-server"`) {
		t.Fatalf("all steps done: no summary or proxy configuration\n%s", p.Body)
	}
	if p := b.Do("GET", "/admin", nil); strings.Contains(p.Body, `id="continue-setup"`) {
		t.Fatal("the admin home offers a guide with no step left")
	}
	if p := b.Do("POST", "/admin/setup/done", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("finish: %d", p.Status)
	}
	if err := h.store.DeleteForwardRule(context.Background(), mustRule(t, h.store)); err != nil {
		t.Fatal(err)
	}
	if p := b.Do("GET", "/admin", nil); strings.Contains(p.Body, `id="continue-setup"`) {
		t.Fatal("the admin home offers the guide the admin finished")
	}
}

// mustRule is the id of the one protected app of st.
func mustRule(t *testing.T, st *store.Store) string {
	t.Helper()
	rules, err := st.ForwardRules(context.Background())
	if err != nil || len(rules) != 1 {
		t.Fatalf("rules %+v %v", rules, err)
	}
	return rules[0].ID
}
