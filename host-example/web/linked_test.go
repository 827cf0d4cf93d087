package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// hanksPlace is the group the second source's mapping gives a friend of Hank's server.
const hanksPlace = "plex-server:Hank's Place"

// browserForward starts a forward-auth session on b's own host session (the one its last
// sign-in made) and answers its token.
func browserForward(t *testing.T, h *harness, b *browser) string {
	t.Helper()
	u, _ := url.Parse(h.host.URL)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name != "hx_session" {
			continue
		}
		sess, err := h.store.Session(context.Background(), c.Value)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := forwardauth.StartSession(context.Background(), h.store, sess.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	t.Fatal("the browser has no session")
	return ""
}

// A friend of two households, each a source of the Plex plugin (whose account ids are global,
// contract 1.6), is one person: signed in through either he has one sub (OpenID Connect's and
// forward-auth's Remote-Id) and each source's groups; removed from Hank's server he keeps only
// the first's (at re-validation, or at once when Hank's source refuses his sign-in); refused by
// Hank's source he still gets in through the first, and only through it.
func TestFriendOfTwoSourcesIsOnePerson(t *testing.T) {
	h, first, hanks := twoHouseholds(t, "Hank's Plex")
	ctx := context.Background()

	viaFirst, viaHanks := h.browser(), h.browser()
	for _, in := range []struct {
		b    *browser
		slug string
	}{{viaFirst, "plex"}, {viaHanks, "hanks"}} {
		if p := in.b.Login(in.slug, "friend"); p.Status != http.StatusSeeOther {
			t.Fatalf("frank through %s: %d %s", in.slug, p.Status, p.Body)
		}
	}
	frank, err := h.store.FindUser(ctx, first.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := h.store.CountUsers(ctx, hanks.ID, frank.Subject); n != 0 {
		t.Fatalf("Hank's source made a second person of frank (%d)", n)
	}
	if ids, err := h.store.Identities(ctx, frank.ID); err != nil || len(ids) != 1 || ids[0].SourceID != hanks.ID {
		t.Fatalf("frank's identities: %+v %v", ids, err)
	}
	if !frank.HasGroupFrom("plex-server:Living Room", first.ID) || !frank.HasGroupFrom(hanksPlace, hanks.ID) || frank.HasGroupFrom(hanksPlace, first.ID) {
		t.Fatalf("frank's groups, by origin: %+v", frank.Memberships)
	}
	if evs, _ := h.store.Events(ctx, 5, "joined to that person"); len(evs) != 1 || evs[0].SourceID != hanks.ID {
		t.Fatalf("no event of the joined identity: %+v", evs)
	}
	for name, b := range map[string]*browser{"first": viaFirst, "hanks": viaHanks} {
		info, p := albumUserinfo(t, h, b)
		if info == nil || info.Sub != frank.PublicID || !slices.Contains(info.Groups, hanksPlace) {
			t.Fatalf("the album through %s: %+v (%d %.300s), want sub %s", name, info, p.Status, p.Body, frank.PublicID)
		}
		if s, hd := forwardAuthHeaders(t, h, browserForward(t, h, b)); s != http.StatusOK || hd.Get(forwardauth.HeaderID) != frank.PublicID ||
			hd.Get(forwardauth.HeaderUser) != "frank" {
			t.Fatalf("the photos app through %s: %d %v", name, s, hd)
		}
	}

	// Hank takes his share away: re-validation takes only his source's groups, frank stays.
	tok := browserForward(t, h, viaFirst)
	h.sim.SetShare("friend", plexsim.ServerElsewhere, false)
	restartPlugin(t, h) // drops the plugin's warm owner-list cache
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	u, err := h.store.User(ctx, frank.ID)
	if err != nil || u.Disabled || u.HasGroupFrom(hanksPlace, hanks.ID) || !u.HasGroupFrom("plex-server:Living Room", first.ID) {
		t.Fatalf("frank after Hank's share went: %+v %v", u, err)
	}
	if s, _ := forwardAuthAsk(t, h, tok); s != http.StatusForbidden {
		t.Fatalf("the photos app of Hank's friends, after the share went: %d, want 403", s)
	}
	if evs, _ := h.store.Events(ctx, 5, "another source admits the person"); len(evs) != 1 || evs[0].Kind != store.EventUserRevoked || evs[0].SourceID != hanks.ID {
		t.Fatalf("no event of the revoked identity: %+v", evs)
	}

	// Refused by Hank's source, admitted by the first: in through the first only.
	if p := h.browser().Login("hanks", "friend"); p.Status == http.StatusSeeOther {
		t.Fatalf("Hank's source let frank in without a share: %s", p.Location)
	}
	again := h.browser()
	if p := again.Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through the first source: %d %s", p.Status, p.Body)
	}
	if info, _ := albumUserinfo(t, h, again); info != nil {
		t.Fatalf("the album of Hank's friends admitted frank: %+v", info)
	}
	if s, _ := forwardAuthAsk(t, h, browserForward(t, h, again)); s != http.StatusForbidden {
		t.Fatalf("the photos app of Hank's friends, through the first source: %d, want 403", s)
	}
	if u, _ := h.store.User(ctx, frank.ID); u.PublicID != frank.PublicID || u.HasGroupFrom(hanksPlace, hanks.ID) {
		t.Fatalf("frank after signing in through the first: %+v", u)
	}
	// Shared again, his next sign-in through Hank's source joins him once more.
	h.sim.SetShare("friend", plexsim.ServerElsewhere, true)
	back := h.browser()
	if p := back.Login("hanks", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through Hank's source again: %d", p.Status)
	}
	if info, _ := albumUserinfo(t, h, back); info == nil || info.Sub != frank.PublicID {
		t.Fatalf("the album after Hank shared again: %+v", info)
	}
	// Removed once more, his refused sign-in through Hank's source takes its groups away at once.
	h.sim.SetShare("friend", plexsim.ServerElsewhere, false)
	if p := h.browser().Login("hanks", "friend"); p.Status == http.StatusSeeOther {
		t.Fatalf("Hank's source let frank in without a share: %s", p.Location)
	}
	if u, _ := h.store.User(ctx, frank.ID); u.Disabled || u.HasGroupFrom(hanksPlace, hanks.ID) || !u.HasGroupFrom("plex-server:Living Room", first.ID) {
		t.Fatalf("frank after Hank's source refused his sign-in: %+v", u.Memberships)
	}
	if info, _ := albumUserinfo(t, h, back); info != nil {
		t.Fatalf("the album of Hank's friends after the refusal: %+v", info)
	}
}

// Two people of one Plex account in two sources, both made before the sources' subjects
// joined, stay two until the admin links them by hand on the People page (admin only, with
// the CSRF token, recorded): the one made first keeps their sub, the other is retired and
// signs in as the first from then on.
func TestAdminLinksTwoPeopleOfOneAccount(t *testing.T) {
	h, first, hanks := twoHouseholds(t, "Hank's Plex")
	ctx := context.Background()
	if p := h.browser().Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through the first source: %d", p.Status)
	}
	older, err := h.store.FindUser(ctx, first.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	// The same account through Hank's source, stored as a version without contract 1.6 did.
	done, err := h.store.FinishLogin(ctx, store.User{SourceID: hanks.ID, Subject: older.Subject, Username: "frank", Groups: []string{hanksPlace}},
		store.Event{SourceID: hanks.ID, Kind: store.EventLoginAllowed, Subject: older.Subject}, "", time.Hour)
	if err != nil || done.UserID == older.ID {
		t.Fatalf("the second person: %+v %v", done, err)
	}
	newer, _ := h.store.User(ctx, done.UserID)

	admin := h.browser()
	admin.AdminLogin(adminPassword)
	p := admin.Get("/admin/users")
	if n := strings.Count(p.Body, `class="link-pair"`); n != 1 || !strings.Contains(p.Body, "Link into frank") {
		t.Fatalf("the People page shows %d pairs:\n%s", n, p.Body)
	}
	pair := url.Values{"a": {strconv.FormatInt(newer.ID, 10)}, "b": {strconv.FormatInt(older.ID, 10)}}
	if p := admin.PostForm("/admin/users/link", pair); p.Status < 400 {
		t.Fatalf("a link without the CSRF token: %d", p.Status)
	}
	stranger := h.browser()
	stranger.Login("plex", "friend")
	if p := stranger.PostForm("/admin/users/link", pair); p.Status < 400 {
		t.Fatalf("a signed-in friend linked people: %d %s", p.Status, p.Location)
	}
	admin.Get("/admin/users")
	if p := admin.Follow(admin.Submit("/admin/users/link", url.Values{"a": {pair.Get("b")}, "b": {pair.Get("b")}}).Redirect); !strings.Contains(p.Body, "Not linked") {
		t.Fatalf("one person linked with himself:\n%.500s", p.Body)
	}
	if u, _ := h.store.User(ctx, newer.ID); u.LinkedTo != 0 {
		t.Fatal("linked before the admin's form")
	}
	admin.Get("/admin/users")
	if p := admin.Submit("/admin/users/link", pair); p.Status != http.StatusSeeOther || p.Location != "/admin/users/"+strconv.FormatInt(older.ID, 10) {
		t.Fatalf("the link: %d %s %.300s", p.Status, p.Location, p.Body)
	}

	kept, _ := h.store.User(ctx, older.ID)
	retired, _ := h.store.User(ctx, newer.ID)
	if kept.PublicID != older.PublicID || kept.LinkedTo != 0 || !kept.HasGroupFrom(hanksPlace, hanks.ID) || retired.LinkedTo != older.ID || !retired.Disabled {
		t.Fatalf("after the link: kept %+v, retired %+v", kept.Memberships, retired)
	}
	if p := admin.Get("/admin/users/" + pair.Get("a")); !strings.Contains(p.Body, "retired: linked into") {
		t.Fatalf("the retired person's page:\n%s", p.Body)
	}
	if p := admin.Get("/admin/users/" + pair.Get("b")); !strings.Contains(p.Body, `<span class="also-via">, Hank&#39;s Plex</span>`) {
		t.Fatalf("the kept person's page does not say he also signs in with Hank's source:\n%s", p.Body)
	}
	if p := admin.Get("/admin/users"); strings.Contains(p.Body, `class="link-pair"`) {
		t.Fatal("the linked pair is still offered")
	}
	if evs, _ := h.store.Events(ctx, 5, "linked by the admin"); len(evs) != 2 {
		t.Fatalf("events of the link: %+v", evs)
	}
	if p := admin.Follow(admin.Submit("/admin/users/"+pair.Get("a")+"/disabled", url.Values{"disabled": {"0"}}).Redirect); !strings.Contains(p.Body, "retired") {
		t.Fatalf("enabling the retired person:\n%.500s", p.Body)
	}

	// His sign-in through Hank's source is the kept person's, with the older sub.
	viaHanks := h.browser()
	if p := viaHanks.Login("hanks", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through Hank's source after the link: %d %s", p.Status, p.Body)
	}
	if info, p := albumUserinfo(t, h, viaHanks); info == nil || info.Sub != older.PublicID {
		t.Fatalf("the album through Hank's source: %+v (%d), want sub %s", info, p.Status, older.PublicID)
	}
	if u, _ := h.store.User(ctx, newer.ID); !u.Disabled || u.LinkedTo != older.ID {
		t.Fatalf("the retired person after a sign-in: %+v", u)
	}
	// The kept person's page lists the events of both sources' identities.
	if p := admin.Get("/admin/users/" + pair.Get("b")); !strings.Contains(p.Body, "Linked by the admin into") || !strings.Contains(p.Body, "Linked by the admin with") {
		t.Fatalf("the kept person's page lacks the events of Hank's identity:\n%s", p.Body)
	}
}

// The source of a person's first sign-in refuses him at re-validation while a joined source
// still admits him: he keeps his sub and only the joined source's groups, and gets in
// through that source only; refused by that one too, he is disabled.
func TestFirstSourceRefusesJoinedSourceAdmits(t *testing.T) {
	// Named to come after the first in the sources' order (by name): re-validation asks the
	// first source before Hank's, so only Hank's refusal finds him refused everywhere.
	h, first, hanks := twoHouseholds(t, "Plex of Hank")
	ctx := context.Background()
	for _, slug := range []string{"plex", "hanks"} {
		if p := h.browser().Login(slug, "friend"); p.Status != http.StatusSeeOther {
			t.Fatalf("frank through %s: %d", slug, p.Status)
		}
	}
	frank, err := h.store.FindUser(ctx, first.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	restartPlugin(t, h)
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	u, err := h.store.User(ctx, frank.ID)
	if err != nil || u.Disabled || u.HasGroupFrom("plex-server:Living Room", first.ID) || !u.HasGroupFrom(hanksPlace, hanks.ID) {
		t.Fatalf("frank after the first source refused him: %+v %v", u, err)
	}
	if p := h.browser().Login("plex", "friend"); p.Status == http.StatusSeeOther {
		t.Fatalf("the first source let frank in without a share: %s", p.Location)
	}
	viaHanks := h.browser()
	if p := viaHanks.Login("hanks", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through Hank's source: %d", p.Status)
	}
	if info, p := albumUserinfo(t, h, viaHanks); info == nil || info.Sub != frank.PublicID || slices.Contains(info.Groups, "plex-server:Living Room") {
		t.Fatalf("the album through Hank's source: %+v (%d)", info, p.Status)
	}
	// Then Hank's source refuses him too: refused by every source, he is disabled.
	h.sim.SetShare("friend", plexsim.ServerElsewhere, false)
	restartPlugin(t, h)
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if u, _ := h.store.User(ctx, frank.ID); !u.Disabled || u.DisabledReason != store.DisabledByRevalidation {
		t.Fatalf("frank refused by both sources: disabled %v (%q)", u.Disabled, u.DisabledReason)
	}
	if info, _ := albumUserinfo(t, h, viaHanks); info != nil {
		t.Fatalf("the album admitted frank after both sources refused him: %+v", info)
	}
}

// twoHouseholds is a harness with the owner's source and Hank's (named name), on which frank
// has a share in both households, and the apps of Hank's place.
func twoHouseholds(t *testing.T, name string) (h *harness, first, hanks *store.Source) {
	t.Helper()
	h = newHarness(t, nil)
	first = h.addSource(membersConfig)
	h.sim.SetShare("friend", plexsim.ServerElsewhere, true)
	hanks = h.srv.AddSource("plex", "hanks", name, hanksConfig, h.sim.Token("otherhome"))
	appsOf(t, h, hanksPlace)
	return h, first, hanks
}
