package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The family's app, both ways: an OpenID Connect application and a protected app that admit
// only the group "family".
const (
	albumID       = "album"
	albumSecret   = "album-secret-0123456789abcdef0123"
	albumRedirect = "http://127.0.0.1:9/album/callback"
	photosHost    = "photos.example.test"
)

// familyApps registers the family's apps.
func familyApps(t *testing.T, h *harness) {
	t.Helper()
	appsOf(t, h, "family")
}

// appsOf registers the album and the photos app, both admitting only group.
func appsOf(t *testing.T, h *harness, group string) {
	t.Helper()
	ctx := context.Background()
	c := store.OIDCClient{ID: albumID, Name: "Album", SecretSHA256: openid.HashSecret(albumSecret), RedirectURIs: []string{albumRedirect},
		GrantTypes: []string{openid.GrantCode}, AllowedGroups: []string{group}, Origin: "ui"}
	if errs := openid.CheckClient(&c); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := h.store.PutOIDCClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.PutForwardRule(ctx, store.ForwardRule{Name: "Photos", Host: photosHost, Groups: []string{group}}); err != nil {
		t.Fatal(err)
	}
}

// albumGroups signs the signed-in b in to the album (code flow with PKCE) and answers the
// groups its userinfo says, or nil and the page when the host refused.
func albumGroups(t *testing.T, h *harness, b *browser) ([]string, page) {
	t.Helper()
	info, p := albumUserinfo(t, h, b)
	if info == nil {
		return nil, p
	}
	return info.Groups, p
}

// userinfo is what the album's userinfo call answers.
type userinfo struct {
	Sub    string   `json:"sub"`
	Groups []string `json:"groups"`
}

// albumUserinfo signs the signed-in b in to the album (code flow with PKCE) and answers its
// userinfo, or nil and the page when the host refused.
func albumUserinfo(t *testing.T, h *harness, b *browser) (*userinfo, page) {
	t.Helper()
	cfg := oauth2.Config{ClientID: albumID, ClientSecret: albumSecret, RedirectURL: albumRedirect, Scopes: []string{"openid", "profile", "groups"},
		Endpoint: oauth2.Endpoint{AuthURL: h.host.URL + "/authorize", TokenURL: h.host.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	p := b.Follow(cfg.AuthCodeURL("state-0123456789abcdef", oauth2.S256ChallengeOption(verifier)))
	code := ""
	if u, err := url.Parse(p.Redirect); err == nil && strings.HasPrefix(p.Redirect, albumRedirect) {
		code = u.Query().Get("code")
	}
	if code == "" {
		return nil, p
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("the album's code: %v", err)
	}
	req, _ := http.NewRequest("GET", h.host.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info userinfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %v", resp.StatusCode, err)
	}
	return &info, p
}

// forwardToken is a new forward-auth session of the person uid (as /forward-auth/start makes).
func forwardToken(t *testing.T, h *harness, uid int64) string {
	t.Helper()
	ctx := context.Background()
	_, sess, err := h.store.CreateSession(ctx, uid, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := forwardauth.StartSession(ctx, h.store, sess.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// forwardAuthAsk asks the nginx endpoint, as the proxy in front of the photos app does, about
// the forward-auth session tok; it answers the status and Remote-Groups.
func forwardAuthAsk(t *testing.T, h *harness, tok string) (int, string) {
	t.Helper()
	status, header := forwardAuthHeaders(t, h, tok)
	return status, header.Get(forwardauth.HeaderGroups)
}

// forwardAuthHeaders asks as forwardAuthAsk does and answers the status and the headers.
func forwardAuthHeaders(t *testing.T, h *harness, tok string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.host.URL+forwardauth.NginxPath, nil)
	req.Header.Set("X-Original-URL", "http://"+photosHost+"/albums")
	req.Header.Set("X-Original-Method", "GET")
	req.Header.Set("X-Original-Host", photosHost)
	req.AddCookie(&http.Cookie{Name: "hx_forward", Value: tok})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// "Frank is in family", set by the admin on his page: it is kept across his next sign-in and a
// re-validation (which set only his source's groups), reaches the family's apps through OpenID
// Connect and forward-auth, and taking it away ends that at once. Both are recorded.
func TestAdminSetGroupKeptAndSentToApps(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	familyApps(t, h)
	ctx := context.Background()
	friend := h.browser()
	if p := friend.Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank's sign-in: %d %s", p.Status, p.Body)
	}
	frank, err := h.store.FindUser(ctx, src.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	if groups, p := albumGroups(t, h, friend); groups != nil {
		t.Fatalf("the album admitted frank before he was in family: %q", groups)
	} else if !strings.Contains(p.Body, "family") {
		t.Logf("the album's refusal: %d %.300s", p.Status, p.Body)
	}
	tok := forwardToken(t, h, frank.ID)
	if s, _ := forwardAuthAsk(t, h, tok); s != http.StatusForbidden {
		t.Fatalf("the photos app before frank was in family: %d, want 403", s)
	}

	admin := h.browser()
	admin.AdminLogin(adminPassword)
	person := "/admin/users/" + strconv.FormatInt(frank.ID, 10)
	admin.Get(person)
	if p := admin.Submit(person+"/groups", url.Values{"add": {" family "}}); p.Status != http.StatusSeeOther {
		t.Fatalf("giving frank family: %d %s", p.Status, p.Body)
	}
	if p := admin.Get(person); !strings.Contains(p.Body, `<span class="pill admin-group">family</span>`) ||
		!strings.Contains(p.Body, "kept across their sign-ins") {
		t.Fatalf("the person page does not show family as the admin's:\n%s", p.Body)
	}
	if evs, _ := h.store.Events(ctx, 5, `given the group "family"`); len(evs) != 1 || evs[0].Kind != store.EventAdminUserChanged || evs[0].Subject != frank.Subject {
		t.Fatalf("no event of the admin giving family: %+v", evs)
	}

	// His next sign-in and a re-validation set his source's groups again; family stays.
	if p := h.browser().Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank's next sign-in: %d", p.Status)
	}
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	u, err := h.store.User(ctx, frank.ID)
	if err != nil || u.Disabled || !u.HasGroupFrom("family", store.FromAdmin) || !u.HasGroupFrom("plex-friend", src.ID) || u.HasGroupFrom("family", src.ID) {
		t.Fatalf("after a sign-in and a re-validation: %+v %v", u, err)
	}
	if groups, p := albumGroups(t, h, friend); !slices.Contains(groups, "family") || !slices.Contains(groups, "plex-friend") {
		t.Fatalf("the album's groups claim: %q (%d %.300s)", groups, p.Status, p.Body)
	}
	if s, groups := forwardAuthAsk(t, h, tok); s != http.StatusOK || !slices.Contains(strings.Split(groups, ","), "family") {
		t.Fatalf("the photos app: %d Remote-Groups %q", s, groups)
	}
	if p := friend.Get("/"); !strings.Contains(p.Body, ">Photos<") {
		t.Errorf("frank's portal lacks the family's photos app:\n%s", p.Body)
	}

	admin.Get(person)
	if p := admin.Submit(person+"/groups", url.Values{"remove": {"family"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("taking family away: %d %s", p.Status, p.Body)
	}
	if s, _ := forwardAuthAsk(t, h, tok); s != http.StatusForbidden {
		t.Fatalf("the photos app once family was taken away (the same session, in the cache): %d, want 403", s)
	}
	if groups, _ := albumGroups(t, h, friend); groups != nil {
		t.Fatalf("the album once family was taken away: %q", groups)
	}
	if evs, _ := h.store.Events(ctx, 5, `the group "family" the admin gave taken away`); len(evs) != 1 {
		t.Fatalf("no event of taking family away: %+v", evs)
	}
	for _, bad := range []string{"a,b", "", strings.Repeat("x", 101)} {
		admin.Get(person)
		if p := admin.Follow(admin.Submit(person+"/groups", url.Values{"add": {bad}}).Redirect); !strings.Contains(p.Body, "Not changed") && bad != "" {
			t.Errorf("the group %q was not refused:\n%.500s", bad, p.Body)
		}
	}
	if u, _ := h.store.User(ctx, frank.ID); len(u.AdminGroups()) != 0 {
		t.Fatalf("a refused group was given: %q", u.AdminGroups())
	}
}

// An admin-set group opens the admin only through a grant that names the groups the admin
// sets: an admin-set "plex-owner" does not make frank an admin under the grant of the
// source's plex-owner. Giving or taking a group such a grant names changes the admin's ways
// in: it asks for the proof of the current admin, and is recorded and shown on the admin home.
func TestAdminSetGroupOpensTheAdminOnlyThroughItsGrant(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := context.Background()
	adm := host.NewAdmin(h.store, nil)
	if err := adm.SetGrants(ctx, []host.Grant{{SourceID: src.ID, Group: "plex-owner"}}); err != nil {
		t.Fatal(err)
	}
	h.browser().Login("plex", "friend")
	frank, err := h.store.FindUser(ctx, src.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	person := "/admin/users/" + strconv.FormatInt(frank.ID, 10)
	admin.Get(person)
	if p := admin.Submit(person+"/groups", url.Values{"add": {"plex-owner"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("giving frank plex-owner (no grant names it as set by the admin: no proof asked): %d %s", p.Status, p.Body)
	}
	if p := h.sourceAdminSignIn(h.browser(), "friend"); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Not an admin") {
		t.Fatalf("frank with an admin-set plex-owner opened the admin: %d %s", p.Status, p.Body)
	}
	if evs, _ := h.store.Events(ctx, 5, "plex-owner"); slices.ContainsFunc(evs, func(e store.Event) bool { return e.Kind == store.EventAdminSecurityChanged }) {
		t.Fatalf("an admin-set group no grant names was recorded as a change of the admin's ways in: %+v", evs)
	}

	// A grant of the admin-set "staff": giving it asks for the proof first.
	if err := adm.SetGrants(ctx, []host.Grant{{SourceID: src.ID, Group: "plex-owner"}, {SourceID: store.FromAdmin, Group: "staff"}}); err != nil {
		t.Fatal(err)
	}
	if p := admin.Get("/admin/security"); !strings.Contains(p.Body, `<option value="admin" selected>set by the admin (person pages)</option>`) {
		t.Fatalf("the security page does not show the grant of the groups the admin sets:\n%s", p.Body)
	}
	if p := admin.Get("/admin/security"); slices.Contains(grantAdmins(p.Body), "frank / Plex (a group set by the admin) / staff") {
		t.Fatal("the security page lists frank as an admin before he has staff")
	}
	p := admin.Get(person)
	if !strings.Contains(p.Body, `<span class="pill admin-group">plex-owner</span></td>`) {
		t.Fatalf("the person page lists the admin-set plex-owner, which no grant names as set by the admin:\n%s", p.Body)
	}
	p = admin.Submit(person+"/groups", url.Values{"add": {"staff"}})
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Prove it is you") || !strings.Contains(p.Body, "admin grant names this group") {
		t.Fatalf("giving a granted group without the proof: %d %s", p.Status, p.Body)
	}
	if u, _ := h.store.User(ctx, frank.ID); slices.Contains(u.AdminGroups(), "staff") {
		t.Fatal("a granted group was given without the proof")
	}
	if p = admin.Submit(person+"/groups", url.Values{"add": {"staff"}, "proof_password": {adminPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("giving a granted group with the proof: %d %s", p.Status, p.Body)
	}
	evs, _ := h.store.Events(ctx, 5, `given the group "staff"`)
	if !slices.ContainsFunc(evs, func(e store.Event) bool {
		return e.Kind == store.EventAdminSecurityChanged && strings.Contains(e.Detail, "proof: password")
	}) {
		t.Fatalf("no change of the admin's ways in recorded: %+v", evs)
	}
	if p := admin.Get("/admin"); !strings.Contains(p.Body, `id="ways-in-changed"`) || !strings.Contains(p.Body, "staff") {
		t.Fatalf("the admin home does not show the change:\n%s", p.Body)
	}
	if got := grantAdmins(admin.Get("/admin/security").Body); !slices.Contains(got, "frank / Plex (a group set by the admin) / staff") {
		t.Fatalf("the security page's admins: %q", got)
	}
	if p := admin.Get(person); !strings.Contains(p.Body, "opens the admin (an admin grant names it)") {
		t.Fatalf("the person page does not say staff opens the admin:\n%s", p.Body)
	}
	if p := h.sourceAdminSignIn(h.browser(), "friend"); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("frank with the granted admin-set staff: %d %s", p.Status, p.Body)
	}
	// Taking it away asks for the proof too.
	admin.Get(person)
	if p := admin.Submit(person+"/groups", url.Values{"remove": {"staff"}}); p.Status != http.StatusForbidden {
		t.Fatalf("taking a granted group away without the proof: %d", p.Status)
	}
	if p := admin.Submit(person+"/groups", url.Values{"remove": {"staff"}, "proof_password": {adminPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("taking a granted group away with the proof: %d %s", p.Status, p.Body)
	}
	if u, _ := h.store.User(ctx, frank.ID); host.IsSourceAdmin(u, adm.Grants(ctx)) {
		t.Fatal("frank is still an admin")
	}
}
