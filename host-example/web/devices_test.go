package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// sessionCookie is the host session cookie a page set (nil for none).
func sessionCookie(p page) *http.Cookie {
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "hx_session" && c.Value != "" {
			return c
		}
	}
	return nil
}

// "Keep me signed in on this device" is a field of the sign-in form's POST: ticked, the
// session's cookie outlives the browser and the session is listed as remembered (the person's
// profile, the admin's person page); not ticked (or asked for in the query only), the cookie
// is a browser-session one, as an admin session's always is. A remembered session ends like any other: signing out everywhere,
// the admin deleting the person, the next re-validation that finds the friend removed, and an
// admin disabling the person.
func TestRememberedDevice(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	ctx := context.Background()

	plain := h.browser()
	if c := sessionCookie(plain.Login("plex", "friend")); c == nil || !c.Expires.IsZero() || c.MaxAge != 0 {
		t.Fatalf("an ordinary sign-in's cookie: %+v", c)
	}
	byQuery := h.browser()
	csrf := byQuery.Get("/login").CSRF()
	start := byQuery.PostForm("/login/plex?remember=1", url.Values{"csrf": {csrf}})
	if c := sessionCookie(byQuery.Get(byQuery.Approve(start.Redirect, "friend"))); c == nil || !c.Expires.IsZero() {
		t.Fatalf("a sign-in asked to be remembered by its query only: %+v", c)
	}

	b := h.browser()
	b.Remember = true
	p := b.Login("plex", "friend")
	c := sessionCookie(p)
	if p.Location != "/" || c == nil || c.Expires.IsZero() || !c.HttpOnly {
		t.Fatalf("a remembered sign-in: %s %+v", p.Location, c)
	}
	if prof := b.Get("/profile"); !strings.Contains(prof.Body, "kept signed in") {
		t.Fatalf("the profile does not list the device:\n%s", prof.Body)
	}
	users, _ := h.store.Users(ctx)
	uid := users[0].ID
	a := h.browser()
	a.Get("/admin/login")
	if c := sessionCookie(a.Submit("/admin/login", url.Values{"password": {adminPassword}, "remember": {"1"}})); c == nil || !c.Expires.IsZero() {
		t.Fatalf("an admin session's cookie outlives the browser: %+v", c)
	}
	if pp := a.Do("GET", "/admin/users/"+strconv.FormatInt(uid, 10), nil); strings.Count(pp.Body, "kept signed in on its device") != 1 {
		t.Fatalf("the person page marks %d remembered sessions, want 1", strings.Count(pp.Body, "kept signed in on its device"))
	}

	// Signing out everywhere from another browser ends it; so does the admin deleting the person.
	other := h.browser()
	other.Login("plex", "friend")
	other.Get("/profile")
	if p := other.Submit("/logout/everywhere", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", p.Status)
	}
	if p := b.Do("GET", "/profile", nil); p.Location != "/login" {
		t.Fatalf("a remembered session survived signing out everywhere: %d %s", p.Status, p.Location)
	}
	b = h.browser()
	b.Remember = true
	b.Login("plex", "friend")
	u, err := h.store.User(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.People.Delete(ctx, u); err != nil {
		t.Fatal(err)
	}
	if p := b.Do("GET", "/profile", nil); p.Location != "/login" {
		t.Fatalf("a remembered session survived deleting the person: %d %s", p.Status, p.Location)
	}
	b = h.browser()
	b.Remember = true
	b.Login("plex", "friend")
	users, _ = h.store.Users(ctx)
	uid = users[0].ID

	// The owner removes the share: the next re-validation ends the remembered session too.
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	restartPlugin(t, h)
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if p := b.Do("GET", "/profile", nil); p.Location != "/login" {
		t.Fatalf("a remembered session survived the friend's removal: %d %s", p.Status, p.Location)
	}

	// Back in, remembered again; an admin disables the person: it ends.
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, true)
	b = h.browser()
	b.Remember = true
	if p := b.Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("signing in again: %d %s", p.Status, p.Location)
	}
	u, err = h.store.User(ctx, uid)
	if err != nil || u.Disabled {
		t.Fatalf("the person: %+v %v", u, err)
	}
	if err := h.srv.People.Disable(ctx, u, store.DisabledByAdmin); err != nil {
		t.Fatal(err)
	}
	if p := b.Do("GET", "/profile", nil); p.Location != "/login" {
		t.Fatalf("a remembered session survived disabling: %d %s", p.Status, p.Location)
	}
}

// The box ticked on the sign-in form holds through the paths a login takes after it: a
// password login's one-time code (a wrong code first), and a login's next step (a Home
// profile picked).
func TestRememberHoldsThroughCodeAndStep(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(strings.Replace(membersConfig, `"password_login":true`, `"password_login":true,"home_profiles":true`, 1))
	persistent := func(what string, p page) {
		t.Helper()
		if c := sessionCookie(p); p.Status != http.StatusSeeOther || c == nil || c.Expires.IsZero() {
			t.Fatalf("%s: %d %+v %.300s", what, p.Status, c, p.Body)
		}
	}
	b := h.browser()
	csrf := b.Do("GET", "/login", nil).CSRF()
	if p := b.Do("POST", "/login/plex/password", url.Values{"csrf": {csrf}, "login": {"tess"}, "password": {"tf-pass"}, "remember": {"1"}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("the code asked: %d", p.Status)
	}
	if p := b.Do("POST", "/login/plex/password", url.Values{"csrf": {csrf}, "otp": {"000000"}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong code: %d", p.Status)
	}
	persistent("the code after a remembered password", b.Do("POST", "/login/plex/password", url.Values{"csrf": {csrf}, "otp": {"123456"}}))

	s := h.browser()
	s.Remember = true
	p := s.Login("plex", "owner")
	if !strings.Contains(p.Body, "Who is watching?") {
		t.Fatalf("no profile step: %d %.300s", p.Status, p.Body)
	}
	persistent("the step after a remembered start", s.Do("POST", "/login/step", url.Values{"csrf": {p.CSRF()}, "choice": {"60718293a4b5c6d7"}, "v.pin": {"1234"}}))
}
