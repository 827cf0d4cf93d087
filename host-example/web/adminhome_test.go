package web_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// textIn is the text of the element with id in body (up to its tag's first closing tag),
// tags dropped and entities read.
func textIn(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<(\w+)[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindStringSubmatchIndex(body)
	if m == nil {
		t.Fatalf("no #%s on the page", id)
	}
	rest := body[m[1]:]
	if end := strings.Index(rest, "</"+body[m[2]:m[3]]+">"); end >= 0 {
		rest = rest[:end]
	}
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(rest, ""))
}

// The admin home says what is going on: the last day's sign-ins and refusals, each source's
// last sign-in and health, the apps, and warnings that need action; the plugins' capability
// strings are on the technical page only.
func TestAdminHomeShowsWhatIsGoingOn(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := context.Background()
	h.browser().Login("plex", "friend")
	h.browser().Login("plex", "noshare")
	if _, err := h.store.PutForwardRule(ctx, store.ForwardRule{Name: "Wiki", Host: "wiki.example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutOIDCClient(ctx, store.OIDCClient{ID: "grafana", Name: "Grafana", Origin: "ui"}); err != nil {
		t.Fatal(err)
	}
	a := h.browser()
	a.AdminLogin(adminPassword)
	p := a.Do("GET", "/admin", nil)
	if p.Status != http.StatusOK {
		t.Fatalf("home: %d", p.Status)
	}
	if n := textIn(t, p.Body, "day-signins"); n != "1" {
		t.Errorf("sign-ins of the day: %q, want 1", n)
	}
	if n := textIn(t, p.Body, "day-refused"); n != "1" {
		t.Errorf("refusals of the day: %q, want 1", n)
	}
	row := textIn(t, p.Body, "source-plex")
	for _, want := range []string{"frank", "plugin running", "1 in · 1 refused", "UTC"} {
		if !strings.Contains(row, want) {
			t.Errorf("home lacks %q: %s", want, row)
		}
	}
	for _, want := range []string{`href="/admin/clients/grafana">Grafana`, `>Wiki</a>`, `id="count-clients">(1)`, `id="count-rules">(1)`, `id="all-well"`,
		`href="/admin/technical"`, `id="new-plex"`, `id="disable-plex"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("home lacks %s", want)
		}
	}
	caps := h.srv.Plugin("plex").Desc.Capabilities
	if len(caps) == 0 || strings.Contains(p.Body, caps[0]) {
		t.Errorf("home shows the capability strings (%v)", caps)
	}
	if tech := a.Do("GET", "/admin/technical", nil); !strings.Contains(tech.Body, strings.Join(caps, ", ")) || !strings.Contains(tech.Body, "running") {
		t.Errorf("technical page lacks the plugin's capabilities: %s", tech.Body)
	}

	// Things go wrong: the owner token is refused, the plugin restarts, a source stays a
	// draft, another is turned off. Each is a warning with a way to act.
	_ = h.srv.Jobs.CheckHealth(ctx)
	if p = a.Do("GET", "/admin", nil); !strings.Contains(p.Body, "passes") {
		t.Errorf("the health check's pass is not shown: %s", textIn(t, p.Body, "source-plex"))
	}
	h.sim.RevokeTokens("owner")
	_ = h.srv.Jobs.CheckHealth(ctx)
	restartPlugin(t, h)
	draft, err := h.store.CreateSource(ctx, "plex", "draft", "Half done")
	if err != nil {
		t.Fatal(err)
	}
	off := h.srv.AddSource("plex", "plex2", "Second Plex", membersConfig, h.owner)
	if err := h.store.SetEnabled(ctx, off.ID, false); err != nil {
		t.Fatal(err)
	}
	p = a.Do("GET", "/admin", nil)
	warnings := textIn(t, p.Body, "warnings")
	for _, want := range []string{"Plex: the check", "fails", "restarted 1×", "Half done was never configured", "Second Plex is turned off"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q: %s", want, warnings)
		}
	}
	for _, link := range []string{`href="/admin/sources/` + src.ID + `"`, `href="/admin/sources/` + draft.ID + `"`, `href="/admin/technical"`} {
		if !strings.Contains(p.Body, link) {
			t.Errorf("no link %s", link)
		}
	}
	if strings.Contains(p.Body, `id="all-well"`) {
		t.Error("all is well, says the home, with warnings")
	}
}

// A person's page shows their sign-ins and refusals, sessions, app access and last login; an
// app's access is revoked alone; deleting the person ends everything at once (the kept Plex
// token signed out at plex.tv) after a page that says what events keep, and the person who
// comes back is new: a new sub, and the reserved username with a suffix.
func TestPersonPageAndDelete(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(ssoConfig)
	ctx := context.Background()
	user := h.browser()
	user.Login("plex", "friend")
	tok, uid := kept(t, h)
	frank, _ := h.store.User(ctx, uid)
	_, hostSess, err := h.store.CreateSession(ctx, uid, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.store.CreateForwardSession(ctx, "fwd-frank", hostSess.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutOIDCClient(ctx, store.OIDCClient{ID: "grafana", Name: "Grafana", Origin: "ui"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"g1", "g2"} {
		if err := h.store.PutAccessToken(ctx, store.AccessToken{ID: "at-" + g, GrantID: g, FamilyID: "f-" + g, ClientID: "grafana", UserID: uid,
			Scopes: []string{"openid", "profile"}, Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	a := h.browser()
	a.AdminLogin(adminPassword)
	// Search finds him by a part of his name, any case; the list links to his page.
	list := a.Do("GET", "/admin/users?q=FRIEND", nil)
	if !strings.Contains(list.Body, `href="/admin/users/`+strconv.FormatInt(uid, 10)+`"`) {
		t.Fatalf("search by name: %s", list.Body)
	}
	if list = a.Do("GET", "/admin/users?q=nobody-like-this", nil); strings.Contains(list.Body, "frank") || !strings.Contains(list.Body, "Nobody matches") {
		t.Fatalf("search for nobody: %s", list.Body)
	}
	link := "/admin/users/" + strconv.FormatInt(uid, 10)
	p := a.Do("GET", link, nil)
	for _, want := range []string{"Frank Friend", frank.PublicID, "2001", "Signed in", "Grafana", "openid profile", "protected apps", "this site",
		"plex-friend"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("person page lacks %q", want)
		}
	}
	if n := strings.Count(p.Body, `class="secondary revoke-grant"`); n != 2 {
		t.Fatalf("%d grants with a Revoke button, want 2", n)
	}
	csrf := p.CSRF()
	if r := a.Do("POST", link+"/grants/g1", url.Values{"csrf": {csrf}}); r.Location != link {
		t.Fatalf("revoke: %d %s", r.Status, r.Location)
	}
	if _, err := h.store.LiveAccessToken(ctx, "at-g1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the revoked grant's token lives: %v", err)
	}
	if _, err := h.store.LiveAccessToken(ctx, "at-g2"); err != nil {
		t.Fatalf("the other grant went too: %v", err)
	}
	if p = a.Do("GET", link, nil); strings.Count(p.Body, `revoke-grant`) != 1 || !strings.Contains(p.Body, "App access revoked") {
		t.Fatalf("after revoking one grant: %s", textIn(t, p.Body, "person-access"))
	}

	// One session ends alone: the forward-auth one.
	end := regexp.MustCompile(`action="(` + link + `/sessions/forward/[0-9a-f]+)"`).FindStringSubmatch(p.Body)
	if end == nil {
		t.Fatal("no End button for the forward-auth session")
	}
	// A kind of session the page did not offer ends nothing, nor does the ref under another kind.
	for _, other := range []string{"/sessions/bogus/", "/sessions/host/"} {
		r := a.Do("POST", strings.Replace(end[1], "/sessions/forward/", other, 1), url.Values{"csrf": {csrf}})
		if _, _, err := h.store.ForwardSession(ctx, "fwd-frank"); r.Location != link || err != nil {
			t.Fatalf("end %s: %d %s, the forward-auth session: %v", other, r.Status, r.Location, err)
		}
		if r := user.Do("GET", "/profile", nil); r.Status != http.StatusOK {
			t.Fatalf("end %s ended the host session: %d", other, r.Status)
		}
		if p := a.Do("GET", link, nil); !strings.Contains(p.Body, "That session had already ended.") {
			t.Fatalf("end %s: no warning: %s", other, textIn(t, p.Body, "person-access"))
		}
	}
	if r := a.Do("POST", end[1], url.Values{"csrf": {csrf}}); r.Location != link {
		t.Fatalf("end a session: %d %s", r.Status, r.Location)
	}
	if _, _, err := h.store.ForwardSession(ctx, "fwd-frank"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the ended forward-auth session lives: %v", err)
	}
	if r := user.Do("GET", "/profile", nil); r.Status != http.StatusOK {
		t.Fatalf("ending the forward-auth session ended the host one: %d", r.Status)
	}
	// Disable and enable from the page come back to it.
	if r := a.Do("POST", link+"/disabled", url.Values{"csrf": {csrf}, "disabled": {"1"}, "back": {"person"}}); r.Location != link {
		t.Fatalf("disable from the person page: %d %s", r.Status, r.Location)
	}
	if p = a.Do("GET", link, nil); !strings.Contains(p.Body, `id="person-enable"`) {
		t.Fatal("disabled, the page offers no Enable")
	}
	a.Do("POST", link+"/disabled", url.Values{"csrf": {csrf}, "disabled": {"0"}, "back": {"person"}})
	user.Login("plex", "friend") // disabling ended his sessions: a new one
	tok, _ = kept(t, h)
	if err := h.store.PutAccessToken(ctx, store.AccessToken{ID: "at-g3", GrantID: "g3", FamilyID: "f-g3", ClientID: "grafana", UserID: uid,
		Scopes: []string{"openid"}, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// The confirmation says what ends and what the events keep.
	confirm := a.Do("GET", link+"/delete", nil)
	for _, want := range []string{"1 session) and of the protected apps (0 sessions)", "(1 grant)", "signed out at plex.tv",
		"keep the name and the account id 2001", "new id for apps (sub)", "frank stays reserved", "frank-2", "disable the person instead"} {
		if !strings.Contains(html.UnescapeString(confirm.Body), want) {
			t.Errorf("the confirmation lacks %q", want)
		}
	}
	// Deleting the source would sign the token out where its plugin says (the words are the plugin's).
	if body := html.UnescapeString(a.Do("GET", "/admin/sources/"+src.ID+"/delete", nil).Body); !strings.Contains(body,
		"1 credential kept for protected apps are deleted and signed out upstream (plex.tv) where the plugin can.") {
		t.Errorf("the source's confirmation does not say where the token is signed out: %s", body)
	}
	if r := a.Do("POST", link+"/delete", url.Values{"csrf": {confirm.CSRF()}}); r.Location != "/admin/users" {
		t.Fatalf("delete: %d %s", r.Status, r.Location)
	}
	if _, err := h.store.User(ctx, uid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the user is still there: %v", err)
	}
	if plexUser(t, h.simURL, tok) != 0 {
		t.Error("plex.tv still takes the kept token")
	}
	if _, err := h.store.LiveAccessToken(ctx, "at-g3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an app's token lives after the deletion: %v", err)
	}
	if r := user.Do("GET", "/profile", nil); r.Status == http.StatusOK {
		t.Error("the deleted person's session still shows the profile")
	}
	if a.Do("GET", link, nil).Status != http.StatusNotFound {
		t.Error("the deleted person's page is still there")
	}
	evs, _ := h.store.UserEvents(ctx, frank.SourceID, "2001", 10)
	if len(evs) == 0 || evs[0].Kind != store.EventAdminUserDeleted || evs[0].Name != "frank" || evs[len(evs)-1].Kind != store.EventLoginAllowed {
		t.Fatalf("events after the deletion: %+v", evs)
	}

	// He comes back: a new person with a new sub, and frank stays reserved.
	h.browser().Login("plex", "friend")
	back, err := h.store.FindUser(ctx, frank.SourceID, "2001")
	if err != nil {
		t.Fatal(err)
	}
	if back.ID == uid || back.PublicID == frank.PublicID || back.Username != "frank-2" {
		t.Fatalf("came back as id %d, sub %s, username %q (was %d, %s, frank)", back.ID, back.PublicID, back.Username, uid, frank.PublicID)
	}
}

// Deleting a source says what happens to its people and sessions, then deletes them all;
// a source that was never configured goes with nothing else.
func TestDeleteSource(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := context.Background()
	user := h.browser()
	user.Login("plex", "friend")
	h.browser().Login("plex", "google")
	a := h.browser()
	a.AdminLogin(adminPassword)
	confirm := a.Do("GET", "/admin/sources/"+src.ID+"/delete", nil)
	body := html.UnescapeString(confirm.Body)
	for _, want := range []string{"Its 2 people are deleted", "2 sessions on this site and 0 sessions of protected apps end now", "0 grants",
		"Events stay", "usernames of its people stay reserved"} {
		if !strings.Contains(body, want) {
			t.Errorf("the confirmation lacks %q", want)
		}
	}
	if r := a.Do("POST", "/admin/sources/"+src.ID+"/delete", url.Values{"csrf": {confirm.CSRF()}}); r.Location != "/admin" {
		t.Fatalf("delete: %d %s", r.Status, r.Location)
	}
	if _, err := h.store.Source(ctx, src.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("source still there: %v", err)
	}
	if users, _ := h.store.Users(ctx); len(users) != 0 {
		t.Fatalf("%d users left", len(users))
	}
	if r := user.Do("GET", "/profile", nil); r.Status == http.StatusOK {
		t.Error("a session of the deleted source still shows the profile")
	}
	if home := a.Do("GET", "/admin", nil); !strings.Contains(home.Body, "was deleted") || strings.Contains(home.Body, `id="source-plex"`) {
		t.Errorf("home after the deletion: %s", home.Body)
	}
	if evs, _ := h.store.Events(ctx, 10, ""); len(evs) == 0 || evs[0].Kind != store.EventAdminSourceDeleted || !strings.Contains(evs[0].Detail, "2 people") {
		t.Errorf("no deletion event: %+v", evs)
	}
	draft, _ := h.store.CreateSource(ctx, "plex", "draft", "Draft")
	confirm = a.Do("GET", "/admin/sources/"+draft.ID+"/delete", nil)
	if !strings.Contains(confirm.Body, "never configured") {
		t.Errorf("a draft's confirmation: %s", confirm.Body)
	}
	if r := a.Do("POST", "/admin/sources/"+draft.ID+"/delete", url.Values{"csrf": {confirm.CSRF()}}); r.Location != "/admin" {
		t.Fatalf("delete a draft: %d %s", r.Status, r.Location)
	}
	if _, err := h.store.Source(ctx, draft.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("draft still there: %v", err)
	}
}
