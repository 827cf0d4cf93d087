package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// hanksConfig is a source for the server Hank owns (a friend's own server added to the same
// host): its default mapping gives Hank "plex-owner", as the first source's gives the owner.
const hanksConfig = `{"access_mode":"members","owner_token":"OWNER","allowed_servers":[{"machine_id":"` +
	plexsim.ServerElsewhere + `","name":"Hank's Place"}]}`

var grantAdminRE = regexp.MustCompile(`<li class="grant-admin"><a href="/admin/users/\d+">([^<]*)</a> <small>[^<]*</small> through ([^<]*) with the group ([^<]*)</li>`)

// grantAdmins are the people a grants page lists, as "name through source with group".
func grantAdmins(body string) []string {
	var out []string
	for _, m := range grantAdminRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]+" / "+m[2]+" / "+m[3]))
	}
	slices.Sort(out)
	return out
}

// Two households on one host: a grant of "plex-owner" of the first source makes its owner an
// admin, never the owner of the second source whose mapping gives the same group name. The
// security page lists exactly the people a set of grants admits before it saves them.
func TestAdminGrantIsOfItsSource(t *testing.T) {
	// An earlier version's bare admin group that no one signed in with: the host's start
	// makes no grant of it, and the admin home asks for the pairs until they are saved.
	h := newHarnessWorld(t, plexsim.DefaultWorld(), func(c *app.Config) { c.AdminPassword = "" },
		hosttest.BeforeStart(func(st *store.Store) { _ = st.SetMeta(context.Background(), "admin_group", "plex-owner") }))
	adm := host.NewAdmin(h.store, nil)
	if err := adm.SetPassword(t.Context(), adminPassword); err != nil {
		t.Fatal(err)
	}
	first := h.addSource(membersConfig)
	hanks := h.srv.AddSource("plex", "hanks", "Hank's Plex", hanksConfig, h.sim.Token("otherhome"))
	for _, in := range []struct{ slug, persona string }{{"plex", "owner"}, {"plex", "friend"}, {"hanks", "otherhome"}} {
		if p := h.browser().Login(in.slug, in.persona); p.Status != http.StatusSeeOther {
			t.Fatalf("%s through %s: %d %s", in.persona, in.slug, p.Status, p.Body)
		}
	}
	hank, err := h.store.FindUser(t.Context(), hanks.ID, "hank")
	if err != nil || !hank.HasGroupFrom("plex-owner", hanks.ID) {
		t.Fatalf("Hank's own source did not make him plex-owner: %+v %v", hank, err)
	}

	if g, _ := h.store.Meta(t.Context(), "admin_group"); g != "" {
		t.Fatalf("the bare admin group was not upgraded at start: %q", g)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	if p := admin.Do("GET", "/admin", nil); !strings.Contains(p.Body, "Admin grants need confirming") {
		t.Fatalf("no warning of grants to confirm on the admin home:\n%s", p.Body)
	}
	p := admin.Do("GET", "/admin/security", nil)
	form := url.Values{"csrf": {p.CSRF()}, "grant_source": {first.ID, ""}, "grant_group": {"plex-owner", ""}}
	if p = admin.Do("POST", "/admin/security/grants", form); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-grants"`) {
		t.Fatalf("no confirmation before saving: %d %s", p.Status, p.Body)
	}
	if got, want := grantAdmins(p.Body), []string{"owner / Plex / plex-owner"}; !slices.Equal(got, want) {
		t.Fatalf("the confirmation lists %q, want %q:\n%s", got, want, p.Body)
	}
	if grants := adm.Grants(t.Context()); len(grants) != 0 {
		t.Fatalf("saved before the confirmation: %+v", grants)
	}
	both := url.Values{"csrf": {p.CSRF()}, "grant_source": {first.ID, hanks.ID}, "grant_group": {"plex-owner", "plex-owner"}}
	p = admin.Do("POST", "/admin/security/grants", both)
	if got, want := grantAdmins(p.Body), []string{"hank / Hank's Plex / plex-owner", "owner / Plex / plex-owner"}; !slices.Equal(got, want) {
		t.Fatalf("the confirmation of both lists %q, want %q", got, want)
	}
	form.Set("confirm", "1")
	form.Set("proof_password", adminPassword)
	if p = admin.Do("POST", "/admin/security/grants", form); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	p = admin.Do("GET", "/admin/security", nil)
	if got, want := grantAdmins(p.Body), []string{"owner / Plex / plex-owner"}; !slices.Equal(got, want) {
		t.Fatalf("the security page lists %q as admins, want %q", got, want)
	}
	if p := admin.Do("GET", "/admin", nil); strings.Contains(p.Body, "Admin grants need confirming") {
		t.Fatal("the warning stays after the grants were saved")
	}
	if evs, _ := h.store.Events(t.Context(), 5, "became \"plex-owner\" of Plex"); len(evs) != 1 || evs[0].Kind != store.EventAdminSecurityChanged ||
		!strings.Contains(evs[0].Detail, `"plex-owner" of Plex`) {
		t.Fatalf("no event of the saved grants: %+v", evs)
	}

	if p := h.sourceAdminSignInVia(h.browser(), "hanks", "otherhome"); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Not an admin") {
		t.Fatalf("the owner of the second source, with the same group name: %d %s", p.Status, p.Body)
	}
	owner := h.browser()
	if p := h.sourceAdminSignIn(owner, "owner"); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the owner of the granted source: %d %s", p.Status, p.Body)
	}
	if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusOK {
		t.Fatalf("the source admin's admin page: %d", p.Status)
	}
	if in := adm.LastSourceSignIn(t.Context()); in == nil || in.SourceID != first.ID || in.Group != "plex-owner" {
		t.Fatalf("the sign-in recorded %+v", in)
	}
}

// An admin session begun through a source stands on that sign-in: it cannot make itself a
// new admin session (which renewed it forever), its sign-in's age decides, and it ends a fixed
// time after the sign-in.
func TestSourceAdminSessionDoesNotRenewItself(t *testing.T) {
	clock := newTestClock()
	h := newHarness(t, func(c *app.Config) { c.Clock = clock.now })
	h.store.SetClock(clock.now)
	src := h.addSource(membersConfig)
	if err := host.NewAdmin(h.store, nil).SetGrants(t.Context(), []host.Grant{{SourceID: src.ID, Group: "plex-owner"}}); err != nil {
		t.Fatal(err)
	}
	owner := h.browser()
	if p := owner.Login("plex", "owner"); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", p.Status, p.Body)
	}
	clock.advance(4 * time.Minute) // the sign-in is fresh enough still
	if p := h.openAdminThroughSource(owner); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the owner through the source: %d %s", p.Status, p.Body)
	}
	clock.advance(4 * time.Minute)
	if p := h.openAdminThroughSource(owner); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Already in the admin") {
		t.Fatalf("an admin session made a new one of itself: %d %s", p.Status, p.Location)
	}
	clock.advance(12*time.Hour - 9*time.Minute) // a minute before the sign-in is 12 h old
	if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusOK {
		t.Fatalf("the admin session ended before its time: %d", p.Status)
	}
	clock.advance(2 * time.Minute)
	if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusSeeOther || p.Location != "/admin/login" {
		t.Fatalf("the admin session outlived its sign-in by more than 12 h: %d %s", p.Status, p.Location)
	}

	// A person's session older than the freshness window does not become an admin session
	// (the clock back at the real time: a login's states expire by it).
	clock.unix.Store(time.Now().Unix())
	late := h.browser()
	if p := late.Login("plex", "owner"); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", p.Status, p.Body)
	}
	clock.advance(6 * time.Minute)
	if p := h.openAdminThroughSource(late); p.Status != http.StatusUnauthorized {
		t.Fatalf("a 6-minute-old sign-in opened the admin: %d %s", p.Status, p.Location)
	}
}

// Saving the mapping of a source an admin grant names says who would gain or lose the admin
// at their next sign-in, tried on each person's last sign-in; a source no grant names says nothing.
func TestSavingAGrantedSourcesMappingShowsAdminChanges(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	for _, who := range []string{"owner", "friend"} {
		if p := h.browser().Login("plex", who); p.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d", who, p.Status)
		}
	}
	b := h.browser()
	b.AdminLogin(adminPassword)
	save := func() string {
		t.Helper()
		p := b.Do("GET", "/admin/sources/"+src.ID, nil)
		form := url.Values{"csrf": {p.CSRF()}, "f.access_mode": {"members"}, "f.password_login": {"on"},
			"f.allowed_servers.0.machine_id": {plexsim.ServerLivingRoom}, "f.allowed_servers.0.name": {"Living Room"},
			"f.mappings": {"[admins]\ngroups: user.username == \"frank\" ? [\"plex-owner\"] : []\n"}, "proof_password": {adminPassword}}
		if p = b.Do("POST", "/admin/sources/"+src.ID, form); p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.Status, p.Body)
		}
		return b.Do("GET", "/admin/sources/"+src.ID, nil).Body
	}
	if body := save(); strings.Contains(body, "Admin grants") {
		t.Fatal("admin changes shown for a source no grant names")
	}
	if err := host.NewAdmin(h.store, nil).SetGrants(t.Context(), []host.Grant{{SourceID: src.ID, Group: "plex-owner"}}); err != nil {
		t.Fatal(err)
	}
	// The form leaves include_default_mappings unchecked: the mapping gives "plex-owner" to
	// frank only, so he would become an admin and the owner would no longer be one.
	body := save()
	if !strings.Contains(body, "these would become admins: frank; these would no longer be: owner") {
		t.Fatalf("no admin changes on saving:\n%s", body)
	}
}

// The way back from a source sign-in is a GET another site can send a person to: it only
// asks. Opening the admin takes the person's own POST with the session's CSRF token, so a
// cross-site link or form makes no admin session of a fresh sign-in.
func TestSourceAdminSignInAsksBeforeOpeningTheAdmin(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	if err := host.NewAdmin(h.store, nil).SetGrants(t.Context(), []host.Grant{{SourceID: src.ID, Group: "plex-owner"}}); err != nil {
		t.Fatal(err)
	}
	owner := h.browser()
	if p := owner.Login("plex", "owner"); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", p.Status, p.Body)
	}
	p := owner.Do("GET", "/admin/login/source", nil)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-button"`) {
		t.Fatalf("the way back did not ask: %d %s", p.Status, p.Body)
	}
	for name, form := range map[string]url.Values{"no token": {}, "another token": {"csrf": {"0123456789abcdef0123456789abcdef"}}} {
		owner.Do("POST", "/admin/login/source", form)
		if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusSeeOther {
			t.Fatalf("a POST with %s opened the admin: %d", name, p.Status)
		}
	}
	if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusSeeOther || p.Location != "/admin/login" {
		t.Fatalf("the GET alone opened the admin: %d %s", p.Status, p.Location)
	}
	if p := owner.Do("POST", "/admin/login/source", url.Values{"csrf": {owner.Do("GET", "/admin/login/source", nil).CSRF()}}); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the person's own POST: %d %s", p.Status, p.Location)
	}
	if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusOK {
		t.Fatalf("the admin after the person's POST: %d", p.Status)
	}
}
