package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/source"
)

// homeProfilesConfig is membersConfig with the "Who is watching?" step.
var homeProfilesConfig = strings.Replace(membersConfig, `"password_login":true`, `"password_login":true,"home_profiles":true`, 1)

// kidProfile is the managed Home profile's uuid (the step's choice) in the default world.
const kidProfile = "60718293a4b5c6d7"

// loginAsKid logs in as the owner and picks the managed profile; it returns the profile page.
func (b *browser) loginAsKid() page {
	b.h.t.Helper()
	p := b.Login("plex", "owner")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Who is watching?") {
		b.h.t.Fatalf("no profile step: %d %s", p.Status, p.Body)
	}
	p = b.Do("POST", "/login/step", url.Values{"csrf": {p.CSRF()}, "choice": {kidProfile}, "v.pin": {"1234"}})
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		b.h.t.Fatalf("profile step: %d %s", p.Status, p.Body)
	}
	return b.Do("GET", "/profile", nil)
}

// usernameOn is the username a profile page shows.
func usernameOn(p page) string {
	_, rest, _ := strings.Cut(p.Body, `id="p-username">`)
	name, _, _ := strings.Cut(rest, "<")
	return name
}

// A managed Home profile titled "alice" (the default mapping falls back to the title) and a
// friend whose Plex username is "alice" get two usernames, each kept at later logins.
func TestHomeProfileAndFriendOfOneNameAreTwoUsers(t *testing.T) {
	world := plexsim.DefaultWorld()
	for i := range world.Personas {
		switch world.Personas[i].Key {
		case "kid":
			world.Personas[i].Title = "alice"
		case "friend":
			world.Personas[i].Username = "alice"
		}
	}
	h := newHarnessWorld(t, world, nil)
	h.addSource(homeProfilesConfig)
	for round := 1; round <= 2; round++ {
		b := h.browser()
		if p := b.Login("plex", "friend"); p.Status != http.StatusSeeOther || p.Location != "/" {
			t.Fatalf("friend: %d %s", p.Status, p.Body)
		}
		if got := usernameOn(b.Do("GET", "/profile", nil)); got != "alice" {
			t.Fatalf("round %d: the friend is %q", round, got)
		}
		if got := usernameOn(h.browser().loginAsKid()); got != "alice-2" {
			t.Fatalf("round %d: the Home profile titled alice is %q", round, got)
		}
	}
	friend, err := h.store.FindUser(context.Background(), h.source.ID, "2001")
	if err != nil {
		t.Fatal(err)
	}
	if holder, err := h.store.UsernameHolder(context.Background(), "Alice"); err != nil || holder != friend.ID {
		t.Fatalf("alice is held by %d (%v), want the friend %d", holder, err, friend.ID)
	}
}

// A "Who is watching?" step begun before the admin turned the source off does not finish:
// a page says why, no user is stored and no session started (not even once the source is on again).
func TestProfileStepRefusedAfterTheSourceIsTurnedOff(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(homeProfilesConfig)
	b := h.browser()
	step := b.Login("plex", "owner")
	if step.Status != http.StatusOK || !strings.Contains(step.Body, "Who is watching?") {
		t.Fatalf("no profile step: %d %s", step.Status, step.Body)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	page := admin.Do("GET", "/admin/sources/"+src.ID, nil)
	if p := admin.Do("POST", "/admin/sources/"+src.ID+"/enabled", url.Values{"csrf": {page.CSRF()}, "enabled": {"0"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("turn the source off: %d %s", p.Status, p.Body)
	}
	p := b.Do("POST", "/login/step", url.Values{"csrf": {step.CSRF()}, "choice": {kidProfile}, "v.pin": {"1234"}})
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "turned off") {
		t.Fatalf("step after the source was turned off: %d %s %s", p.Status, p.Location, p.Body)
	}
	if n, _ := h.store.CountUsers(context.Background(), src.ID, "3002"); n != 0 {
		t.Fatalf("%d users stored", n)
	}
	if err := h.store.SetEnabled(context.Background(), src.ID, true); err != nil {
		t.Fatal(err)
	}
	if p := b.Do("GET", "/profile", nil); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("the browser is signed in: %d %s", p.Status, p.Body)
	}
}

// A Plex display name of 8 KiB with a right-to-left override logs in (it once failed the
// login with 500 in the mapping's value limit): the person's page shows it without the
// override, cut to source.MaxNameLength code points.
func TestLongNameWithBidiControlLogsIn(t *testing.T) {
	world := plexsim.DefaultWorld()
	for i := range world.Personas {
		if world.Personas[i].Key == "friend" {
			world.Personas[i].Title = "\u202eFrank " + strings.Repeat("é", 8<<10)
		}
	}
	h := newHarnessWorld(t, world, nil)
	h.addSource(membersConfig)
	b := h.browser()
	if p := b.Login("plex", "friend"); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("login: %d %s", p.Status, p.Body)
	}
	_, rest, _ := strings.Cut(b.Do("GET", "/profile", nil).Body, `id="p-name">`)
	name, _, _ := strings.Cut(rest, "<")
	if !strings.HasPrefix(name, "Frank é") || strings.ContainsRune(name, '\u202e') || utf8.RuneCountInString(name) > source.MaxNameLength {
		t.Fatalf("the profile shows the name %.40q… (%d code points)", name, utf8.RuneCountInString(name))
	}
}
