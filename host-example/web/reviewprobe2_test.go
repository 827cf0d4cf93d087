package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Probes of the doors of the first-run guide, the profile's End buttons and the icon upload,
// tried against a running host without the proof each door asks for.

// The first-run guide and its Finish are the admin's: a stranger, a person (with their own
// session's CSRF token), and the admin without the token or with another browser's are
// refused, and the guide stays unfinished.
func TestProbeFirstRunGuideIsTheAdminsOnly(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	ctx := context.Background()
	finished := func() bool { v, _ := h.store.Meta(ctx, "first_run_done"); return v != "" }

	friend := h.browser()
	friend.Login("plex", "friend")
	friendCSRF := friend.Get("/profile").CSRF()
	for who, b := range map[string]*browser{"a stranger": h.browser(), "a person": friend} {
		if p := b.Get("/admin/setup"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/admin/login") {
			t.Errorf("%s opens the guide: %d %s", who, p.Status, p.Location)
		}
	}
	if p := friend.Do("POST", "/admin/setup/done", url.Values{"csrf": {friendCSRF}}); p.Status == http.StatusSeeOther || finished() {
		t.Errorf("a person with their own CSRF token finished the guide: %d", p.Status)
	}
	admin, other := h.browser(), h.browser()
	admin.AdminLogin(adminPassword)
	other.AdminLogin(adminPassword)
	admin.Get("/admin/setup")
	for name, form := range map[string]url.Values{
		"no token":                   {},
		"another admin browser's":    {"csrf": {other.Get("/admin/setup").CSRF()}},
		"a person's":                 {"csrf": {friendCSRF}},
		"a token of the right shape": {"csrf": {strings.Repeat("0", len(admin.CSRF()))}},
	} {
		if p := admin.Do("POST", "/admin/setup/done", form); p.Status == http.StatusSeeOther || finished() {
			t.Errorf("the admin's browser with %s CSRF token finished the guide: %d", name, p.Status)
		}
	}
	if p := admin.Do("POST", "/admin/setup/done", url.Values{"csrf": {admin.Get("/admin/setup").CSRF()}}); p.Status != http.StatusSeeOther || !finished() {
		t.Fatalf("the admin's own Finish: %d, finished %v", p.Status, finished())
	}
}

// then=setup only chooses between two fixed local paths: whatever the form or query says,
// the answer goes to the guide or to the page the action always went to, never elsewhere,
// and no value of it reaches a header. A person's post with it changes nothing.
func TestProbeThenOnlyChoosesBetweenTwoLocalPaths(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	for i, then := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "setup\r\nSet-Cookie: x=1",
		"SETUP", " setup", "setup ", "/admin/setup/../../x", "javascript:alert(1)"} {
		csrf := admin.Get("/admin").CSRF()
		p := admin.Do("POST", "/admin/sources/"+src.ID+"/enabled?then="+url.QueryEscape(then), url.Values{"csrf": {csrf}, "enabled": {"1"}, "then": {then}})
		if p.Location != "/admin" || p.Header.Get("X") != "" || len(p.Header.Values("Set-Cookie")) > 1 {
			t.Errorf("then=%q: %d %q %v", then, p.Status, p.Location, p.Header)
		}
		csrf = admin.Get("/admin/forward-auth/new").CSRF()
		p = admin.Do("POST", "/admin/forward-auth", url.Values{"csrf": {csrf}, "name": {"Wiki"}, "host": {fmt.Sprintf("wiki%d.example.test", i)}, "then": {then}})
		if p.Status != http.StatusSeeOther {
			t.Errorf("save a rule with then=%q: %d", then, p.Status)
		}
		if p.Location != "" && p.Location != "/admin/forward-auth" {
			t.Errorf("save a rule with then=%q goes to %q", then, p.Location)
		}
	}
	// only the exact value, in the form or the query, comes back to the guide
	csrf := admin.Get("/admin").CSRF()
	if p := admin.Do("POST", "/admin/sources/"+src.ID+"/enabled?then=setup", url.Values{"csrf": {csrf}, "enabled": {"1"}}); p.Location != "/admin/setup" {
		t.Errorf("then=setup in the query: %q", p.Location)
	}
	friend := h.browser()
	friend.Login("plex", "friend")
	csrf = friend.Get("/profile").CSRF()
	if err := h.store.SetEnabled(context.Background(), src.ID, false); err != nil {
		t.Fatal(err)
	}
	if p := friend.Do("POST", "/admin/sources/"+src.ID+"/enabled", url.Values{"csrf": {csrf}, "enabled": {"1"}, "then": {"setup"}}); p.Location == "/admin/setup" {
		t.Errorf("a person's post with then=setup came back to the guide: %d", p.Status)
	}
	if s, err := h.store.Source(context.Background(), src.ID); err != nil || s.Enabled {
		t.Fatalf("a person turned the source on: %v %v", s, err)
	}
}

// setupLink makes the first-start setup link's token of a host with no admin password.
func setupLink(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	_ = h.store.SetMeta(ctx, "admin_password_hash", "")
	tok, err := host.NewAdmin(h.store, nil).SetupToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A password the setup page cannot keep (two that differ, one over bcrypt's 72 bytes) is a
// form error, and the link still works afterwards: it is not spent on a password that was
// never set (a password manager's long passphrase would lock the first setup out for an hour,
// through restarts, since a restart prints the same spent link).
func TestProbeSetupLinkSurvivesARefusedPassword(t *testing.T) {
	h := newHarness(t, nil)
	tok := setupLink(t, h)
	b := h.browser()
	long := strings.Repeat("correct horse battery staple ", 3) // 87 bytes
	for name, pw := range map[string][2]string{
		"two that differ": {"password-number-1", "password-number-2"},
		"over 72 bytes":   {long, long},
		"too short":       {"short", "short"},
	} {
		csrf := b.Get("/setup?token=" + tok).CSRF()
		p := b.Do("POST", "/setup", url.Values{"csrf": {csrf}, "token": {tok}, "password": {pw[0]}, "confirm": {pw[1]}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="setup-error"`) {
			t.Errorf("%s: %d %.300s", name, p.Status, p.Body)
		}
	}
	csrf := b.Get("/setup?token=" + tok).CSRF()
	if p := b.Do("POST", "/setup", url.Values{"csrf": {csrf}, "token": {tok}, "password": {"password-number-1"}, "confirm": {"password-number-1"}}); p.Status != http.StatusSeeOther || p.Location != "/admin/setup" {
		t.Fatalf("the setup link after refused passwords: %d %s %.300s", p.Status, p.Location, p.Body)
	}
	if p := b.Get("/admin/setup"); p.Status != http.StatusOK {
		t.Fatalf("the guide after the setup: %d", p.Status)
	}
}

// The setup link's page never sends its token to another site (Referrer-Policy same-origin or
// stricter, on the page and on the form shown again), never shows the password typed, and the
// link is spent by the password it sets.
func TestProbeSetupLinkPageKeepsItsToken(t *testing.T) {
	h := newHarness(t, nil)
	tok := setupLink(t, h)
	b := h.browser()
	p := b.Get("/setup?token=" + tok)
	if rp := p.Header.Get("Referrer-Policy"); rp != "no-referrer" && rp != "same-origin" {
		t.Errorf("the setup page, whose address holds the token, sends Referrer-Policy %q", rp)
	}
	p = b.Do("POST", "/setup", url.Values{"csrf": {p.CSRF()}, "token": {tok}, "password": {"password-number-1"}, "confirm": {"password-number-2"}})
	if rp := p.Header.Get("Referrer-Policy"); rp != "no-referrer" && rp != "same-origin" {
		t.Errorf("the setup page again (its form holds the token), Referrer-Policy %q", rp)
	}
	if strings.Contains(p.Body, "password-number-") {
		t.Error("the setup page again shows the password typed")
	}
	p = b.Do("POST", "/setup", url.Values{"csrf": {b.Get("/setup?token=" + tok).CSRF()}, "token": {tok}, "password": {"password-number-1"}, "confirm": {"password-number-1"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("setup: %d", p.Status)
	}
	if p := h.browser().Get("/setup?token=" + tok); p.Status != http.StatusForbidden {
		t.Errorf("the spent setup link opens the page again: %d", p.Status)
	}
}

// The profile's End buttons end only the person's own: a stranger, another person (with
// refs of the victim's sessions and grant, as leaked), the local admin's session, odd kinds
// and path tricks end nothing; the victim is still signed in and their grant still lives.
func TestProbeProfileEndOnlyOwn(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	ctx := context.Background()
	victim, attacker := h.browser(), h.browser()
	victim.Login("plex", "friend")
	attacker.Login("plex", "google")
	vp := victim.Get("/profile")
	ends := ownSessionEnd.FindAllStringSubmatch(vp.Body, -1)
	if len(ends) != 1 {
		t.Fatalf("victim's host sessions: %d\n%s", len(ends), vp.Body)
	}
	ref := strings.TrimPrefix(ends[0][1], "/profile/sessions/host/")
	users, err := h.store.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var victimID int64
	for _, u := range users {
		if u.Username == "frank" { // plexsim's persona friend
			victimID = u.ID
		}
	}
	if victimID == 0 {
		t.Fatalf("no victim among %d users", len(users))
	}
	if err := h.store.PutAccessToken(ctx, store.AccessToken{ID: "at-victim", GrantID: "g-victim", FamilyID: "f-victim", ClientID: "grafana",
		UserID: victimID, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	grantLive := func() bool {
		gs, err := h.store.UserGrants(ctx, victimID)
		return err == nil && len(gs) == 1
	}
	signedIn := func() bool { return victim.Get("/profile").Status == http.StatusOK }

	admin := h.browser()
	admin.AdminLogin(adminPassword)
	adminCSRF := admin.Get("/admin").CSRF()
	stranger := h.browser()
	strangerCSRF := stranger.Get("/login").CSRF()
	csrf := attacker.Get("/profile").CSRF()
	for _, c := range []struct {
		who  *browser
		csrf string
		path string
	}{
		{stranger, strangerCSRF, "/profile/sessions/host/" + ref},
		{stranger, strangerCSRF, "/profile/grants/g-victim"},
		{admin, adminCSRF, "/profile/sessions/host/" + ref},
		{admin, adminCSRF, "/profile/grants/g-victim"},
		{attacker, csrf, "/profile/sessions/host/" + ref},
		{attacker, csrf, "/profile/sessions/forward/" + ref},
		{attacker, csrf, "/profile/sessions/admin/" + ref},
		{attacker, csrf, "/profile/sessions/Host/" + ref},
		{attacker, csrf, "/profile/sessions/host%2F" + ref + "/x"},
		{attacker, csrf, "/profile/sessions/host/" + ref + "%2F..%2F..%2Fx"},
		{attacker, csrf, "/profile/sessions/host/../host/" + ref},
		{attacker, csrf, "/profile/sessions/host/" + strings.ToUpper(ref)},
		{attacker, csrf, "/profile/grants/g-victim"},
		{attacker, csrf, "/profile/grants/g-victim%2F"},
		{attacker, csrf, "/profile/grants/%67-victim"},
		{attacker, csrf, "/profile/grants/g-victim' OR '1'='1"},
		{attacker, csrf, "/profile/grants/%25"},
	} {
		p, err := c.who.Try("POST", c.path, url.Values{"csrf": {c.csrf}})
		if err != nil {
			t.Logf("%s: %v", c.path, err)
			continue
		}
		if !signedIn() || !grantLive() {
			t.Fatalf("POST %s (%d) ended the victim's: signed in %v, grant %v", c.path, p.Status, signedIn(), grantLive())
		}
	}
	// the admin is still signed in: no End of the person's profile reaches an admin session
	if p := admin.Get("/admin"); p.Status != http.StatusOK {
		t.Fatalf("the admin after the probes: %d", p.Status)
	}
	// and the victim's own End of the grant works
	if p := victim.Do("POST", "/profile/grants/g-victim", url.Values{"csrf": {victim.Get("/profile").CSRF()}}); p.Status != http.StatusSeeOther || grantLive() {
		t.Fatalf("the victim's own End of the grant: %d, live %v", p.Status, grantLive())
	}
}

// rawPost sends a POST of path with Expect: 100-continue and a chunked body over one TCP
// connection, and answers the first response's status and whether the server asked for the
// body (100 Continue) before it; the body is sent only when asked for. Status 0: no answer in
// 5 s (the server waits for a body it never asked for: it drains what a handler left unread).
func rawPost(t *testing.T, h *harness, path, contentType string, cookies []*http.Cookie, body []byte) (status int, asked bool) {
	t.Helper()
	u, _ := url.Parse(h.host.URL)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nContent-Type: %s\r\n", path, u.Host, contentType)
	for _, c := range cookies {
		fmt.Fprintf(&head, "Cookie: %s=%s\r\n", c.Name, c.Value)
	}
	head.WriteString("\r\n")
	if _, err := conn.Write([]byte(head.String())); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	req, _ := http.NewRequest("POST", h.host.URL+path, nil)
	resp, err := http.ReadResponse(br, req)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 0, false
	}
	if err != nil {
		t.Fatalf("POST %s (%s): %v", path, contentType, err)
	}
	if resp.StatusCode != http.StatusContinue {
		return resp.StatusCode, false
	}
	fmt.Fprintf(conn, "%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	resp, err = http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("POST %s after 100: %v", path, err)
	}
	return resp.StatusCode, true
}

// An icon upload without an admin session is refused before the server asks for its body
// (no 100 Continue), over the wire, whatever the multipart type's spelling: no session, a
// person's, a signed-out admin's; and a multipart body to any other route is not asked for
// either, nor leaves a file in TMPDIR; the admin's own upload of a body at the cap leaves none.
func TestProbeIconUploadUnreadWithoutAnAdmin(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	id, err := h.store.PutForwardRule(context.Background(), store.ForwardRule{Name: "Wiki", Host: "wiki.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(h.host.URL)
	friend := h.browser()
	friend.Login("plex", "friend")
	stale := h.browser()
	stale.AdminLogin(adminPassword)
	staleCookies := stale.Client.Jar.Cookies(u)
	if p := stale.Do("POST", "/logout", url.Values{"csrf": {stale.Get("/admin").CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("admin sign-out: %d", p.Status)
	}
	gone := h.browser()
	gone.Client.Jar.SetCookies(u, staleCookies)
	if p := gone.Get("/admin"); p.Status != http.StatusSeeOther {
		t.Fatalf("the signed-out admin's cookie still opens the admin: %d", p.Status)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("icon", "icon.png")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 200<<10))
	_ = mw.Close()
	bnd := mw.Boundary()
	// the multipart types serve refuses outside the upload routes, however spelled
	refused := []string{
		"multipart/form-data; boundary=" + bnd,
		"Multipart/Form-Data; BOUNDARY=" + bnd,
		"multipart/form-data; charset=utf-8; boundary=\"" + bnd + "\"",
		"multipart/form-data; boundary*=utf-8''" + bnd,
		"multipart/form-data;boundary=" + bnd + ";",
		"multipart/mixed; boundary=" + bnd,
	}
	// types no form parser of Go reads as multipart (a duplicate parameter voids the type)
	unparsed := []string{"multipart/form-data; boundary=" + bnd + "; boundary=other", "multipart/related; boundary=" + bnd}
	upload := "/admin/forward-auth/" + id + "/icon"
	for who, cookies := range map[string][]*http.Cookie{"no session": nil, "a person": friend.Client.Jar.Cookies(u), "a signed-out admin": staleCookies} {
		for _, ct := range append(refused, unparsed...) {
			status, asked := rawPost(t, h, upload, ct, cookies, body.Bytes())
			if asked || status != http.StatusForbidden && status != http.StatusUnsupportedMediaType {
				t.Errorf("%s, %q: %d, body asked for %v", who, ct, status, asked)
			}
		}
	}
	// the same bodies to other routes, with a person's session: refused unasked (415), or,
	// for the types no parser reads, answered without a file in TMPDIR
	others := []string{"/login/plex", "/logout", "/setup", "/profile/sessions/host/x", "/profile/grants/x",
		"/admin/setup/done", "/admin/forward-auth/" + id, "/admin/clients/x/icon/delete", "/oauth/token", "/forward-auth/start",
		"/admin/forward-auth/" + id + "/icon/", "/admin//forward-auth/" + id + "/icon"}
	for _, path := range others {
		for _, ct := range refused {
			if status, asked := rawPost(t, h, path, ct, friend.Client.Jar.Cookies(u), body.Bytes()); asked || status != http.StatusUnsupportedMediaType {
				t.Errorf("%s, %q: %d, body asked for %v", path, ct, status, asked)
			}
		}
		for _, ct := range unparsed {
			req, _ := http.NewRequest("POST", h.host.URL+path, bytes.NewReader(body.Bytes()))
			req.Header.Set("Content-Type", ct)
			if resp, err := friend.Client.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	if _, err := h.store.AppIcon(context.Background(), store.RuleIcon, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an icon was stored (%v)", err)
	}
	// the admin's own upload of a body just under the cap, in several file parts: read in memory
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	csrf := admin.Get("/admin/forward-auth/" + id).CSRF()
	var big bytes.Buffer
	mw = multipart.NewWriter(&big)
	_ = mw.WriteField("csrf", csrf)
	for i := range 6 {
		fw, _ := mw.CreateFormFile(fmt.Sprintf("f%d", i), "f.bin")
		_, _ = fw.Write(bytes.Repeat([]byte("y"), 40<<10))
	}
	_ = mw.Close()
	size := big.Len()
	req, _ := http.NewRequest("POST", h.host.URL+upload, &big)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := admin.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest { // read, and no "icon" field among them
		t.Errorf("the admin's %d-byte upload of six files: %d", size, resp.StatusCode)
	}
	left, _ := os.ReadDir(tmp)
	for _, f := range left {
		if strings.HasPrefix(f.Name(), "multipart-") {
			t.Fatalf("files left in TMPDIR: %v", left)
		}
	}
}

// A source admin whose grant is gone (the grant names another group) is no admin for the
// guide, its Finish, nor an icon upload (refused before its body is asked for). A source
// admin's admin session is the person's own: their profile in another browser lists it and
// its End ends it (a person's session can sign their admin out, never in).
func TestProbeSourceAdminWithoutItsGrant(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.AdminPassword = "" })
	ctx := context.Background()
	if err := host.NewAdmin(h.store, nil).SetPassword(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	mapping, _ := json.Marshal("[admins]\ngroups: user.is_owner ? [\"admins\"] : []")
	h.addSource(strings.Replace(membersConfig, `"password_login":true`, `"password_login":true,"mappings":`+string(mapping), 1))
	id, err := h.store.PutForwardRule(ctx, store.ForwardRule{Name: "Wiki", Host: "wiki.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	grant := func(group string) {
		t.Helper()
		p := admin.Do("GET", "/admin/security", nil)
		form := url.Values{"csrf": {p.CSRF()}, "proof_password": {adminPassword}, "grant_source": {h.source.ID}, "grant_group": {group}, "confirm": {"1"}}
		if p = admin.Do("POST", "/admin/security/grants", form); p.Status != http.StatusSeeOther {
			t.Fatalf("grants: %d %.300s", p.Status, p.Body)
		}
	}
	grant("admins")
	owner := h.browser()
	if p := h.sourceAdminSignIn(owner, "owner"); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the owner through the source: %d %.300s", p.Status, p.Body)
	}
	if p := owner.Get("/admin/setup"); p.Status != http.StatusOK {
		t.Fatalf("the source admin's guide: %d", p.Status)
	}
	ownerCSRF := owner.CSRF()
	grant("other")
	if p := owner.Get("/admin/setup"); p.Status != http.StatusSeeOther {
		t.Errorf("the guide after the grant is gone: %d", p.Status)
	}
	if p := owner.Do("POST", "/admin/setup/done", url.Values{"csrf": {ownerCSRF}}); p.Status == http.StatusSeeOther && p.Location == "/admin" {
		t.Errorf("Finish after the grant is gone: %d %s", p.Status, p.Location)
	}
	if v, _ := h.store.Meta(ctx, "first_run_done"); v != "" {
		t.Error("the guide was finished by a source admin without a grant")
	}
	u, _ := url.Parse(h.host.URL)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", ownerCSRF)
	fw, _ := mw.CreateFormFile("icon", "icon.png")
	_, _ = fw.Write(pngIcon(t))
	_ = mw.Close()
	if status, asked := rawPost(t, h, "/admin/forward-auth/"+id+"/icon", mw.FormDataContentType(), owner.Client.Jar.Cookies(u), body.Bytes()); asked || status != http.StatusForbidden {
		t.Errorf("an upload of a source admin without a grant: %d, body asked for %v", status, asked)
	}

	// the grant back, a new admin session: the owner's person session elsewhere ends it
	grant("admins")
	owner = h.browser()
	if p := h.sourceAdminSignIn(owner, "owner"); p.Status != http.StatusSeeOther {
		t.Fatalf("the owner through the source again: %d", p.Status)
	}
	elsewhere := h.browser()
	elsewhere.Login("plex", "owner")
	prof := elsewhere.Get("/profile")
	ends := ownSessionEnd.FindAllStringSubmatch(prof.Body, -1)
	if len(ends) < 2 {
		t.Fatalf("the owner's profile lists %d host sessions, want the admin session and this one", len(ends))
	}
	// end each listed session (the page cannot tell which is which); when one was this
	// browser's own, sign it in again and go on with the rest
	for _, e := range ends {
		if p := elsewhere.Do("POST", e[1], url.Values{"csrf": {elsewhere.Get("/profile").CSRF()}}); p.Status != http.StatusSeeOther {
			t.Fatalf("End %s: %d", e[1], p.Status)
		}
		if elsewhere.Get("/profile").Status != http.StatusOK {
			elsewhere.Login("plex", "owner")
		}
	}
	if p := owner.Get("/admin"); p.Status != http.StatusSeeOther {
		t.Errorf("the owner's admin session outlived its End from the owner's profile: %d", p.Status)
	}

}
