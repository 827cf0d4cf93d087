package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/host-example/web"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

func TestLoginShowsMappedAttributes(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	b := h.browser()
	p := b.Login("plex", "friend")
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("callback: %d %s %s", p.Status, p.Location, p.Body)
	}
	p = b.Do("GET", "/profile", nil)
	for _, want := range []string{"Frank Friend", "frank@example.com", "plex-friend", "plex-server:Living Room"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("profile lacks %q", want)
		}
	}
	if u, err := h.store.FindUser(context.Background(), h.source.ID, "2001"); err != nil || u.Username != "frank" {
		t.Errorf("the Plex account 2001 is not frank: %+v %v", u, err) // its id is on the admin's page, not the profile
	}
	// The same Plex user again: one row, attributes refreshed.
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("second login: %s", p.Body)
	}
	if n, _ := h.store.CountUsers(context.Background(), h.source.ID, "2001"); n != 1 {
		t.Fatalf("%d rows for one Plex user", n)
	}
}

func TestRacingLoginsDoNotDuplicate(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p := h.browser().Login("plex", "google"); p.Location != "/" {
				t.Errorf("login: %d %s", p.Status, p.Body)
			}
		}()
	}
	wg.Wait()
	if n, _ := h.store.CountUsers(context.Background(), h.source.ID, "4002"); n != 1 {
		t.Fatalf("%d rows after racing logins", n)
	}
}

func TestDeniedWithReasonAndEvent(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	p := h.browser().Login("plex", "noshare")
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "does not have access to this server") {
		t.Fatalf("denial page: %d %s", p.Status, p.Body)
	}
	evs, _ := h.store.Events(context.Background(), 10, "")
	if len(evs) == 0 || evs[0].Kind != "login_denied" || evs[0].Reason != "not_a_member" || !strings.Contains(evs[0].Detail, "mode=members") {
		t.Fatalf("events %+v", evs)
	}
	// Who was refused is recorded (through the contract's new subject fields), and the page
	// an admin reads after "my friend can't log in" finds it by name, in words, with a way back for the person.
	if evs[0].Subject != "2003" || evs[0].Name != "nora" {
		t.Fatalf("refused login without who: subject %q name %q", evs[0].Subject, evs[0].Name)
	}
	if !strings.Contains(p.Body, `id="back"`) {
		t.Fatal("the refusal page has no way back")
	}
	h.browser().Login("plex", "friend")
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	page := admin.Do("GET", "/admin/events?q=NORA", nil).Body
	if !strings.Contains(page, "Refused") || !strings.Contains(page, "nora") || !strings.Contains(page, " UTC</time>") ||
		strings.Contains(page, "frank") || strings.Contains(page, ">login_denied<") {
		t.Fatalf("events page for nora: %s", page)
	}
	if page := admin.Do("GET", "/admin/events", nil).Body; !strings.Contains(page, "Admin signed in") || !strings.Contains(page, "frank") {
		t.Fatalf("all events: %s", page)
	}
	h.sim.Inject("resources", plexsim.Fault503, -1)
	p = h.browser().Login("plex", "noshare")
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "try again") {
		t.Fatalf("outage page: %d %s", p.Status, p.Body)
	}
}

func TestCallbackIsSingleUseAndBoundToTheBrowser(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	b := h.browser()
	auth := b.StartLogin(b.Get("/login"), "plex")
	fwd := b.Approve(auth, "friend")
	if strings.Contains(auth, "pin") || strings.Contains(fwd, "state") {
		t.Fatalf("login state in a browser-visible URL: %s", auth)
	}
	// Another browser (an attacker's link) has no login state.
	if p := h.browser().Do("GET", fwd, nil); p.Status != http.StatusBadRequest {
		t.Fatalf("foreign browser: %d", p.Status)
	}
	if p := b.Do("GET", fwd, nil); p.Location != "/" {
		t.Fatalf("own browser: %d %s", p.Status, p.Body)
	}
	// The same browser, now signed in, reloading the callback: sent to its profile, no new login.
	before, _ := h.store.CountSessions(context.Background())
	if p := b.Do("GET", fwd, nil); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("replayed callback: %d %s", p.Status, p.Body)
	}
	if after, _ := h.store.CountSessions(context.Background()); after != before {
		t.Fatalf("a replayed callback made a session: %d → %d", before, after)
	}
	// Signed out, the replay is refused in words.
	p := b.Do("GET", "/profile", nil)
	b.Do("POST", "/logout", url.Values{"csrf": {p.CSRF()}})
	if p := b.Do("GET", fwd, nil); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Please start again") {
		t.Fatalf("replayed callback after log-out: %d %s", p.Status, p.Body)
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	b := h.browser()
	b.Do("GET", "/login", nil)
	if p := b.Do("POST", "/login/plex", url.Values{"csrf": {"forged"}}); p.Status != http.StatusForbidden {
		t.Fatalf("begin without CSRF token: %d", p.Status)
	}
	b.AdminLogin(adminPassword)
	// Without the CSRF token nothing changes: the admin is asked to log in again, and then
	// shown the kept form to send on (or not).
	if p := b.Do("POST", "/admin/sources/"+src.ID+"/enabled", url.Values{"enabled": {"0"}}); p.Status != http.StatusUnauthorized ||
		!strings.Contains(p.Body, "Your admin session ended") || !strings.Contains(p.Body, `name="resume" value="/admin/sources/`+src.ID+`/enabled"`) {
		t.Fatalf("admin POST without CSRF token: %d %.300s", p.Status, p.Body)
	}
	if got, _ := h.store.Source(context.Background(), src.ID); !got.Enabled {
		t.Fatal("a POST without the CSRF token disabled the source")
	}
	if p := h.browser().Do("GET", "/admin", nil); p.Status != http.StatusSeeOther || p.Location != "/admin/login" {
		t.Fatalf("admin without login: %d", p.Status)
	}
}

func TestSecretsNeverRenderedAndEncryptedAtRest(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/sources/"+src.ID, nil)
	if p.Status != 200 || strings.Contains(p.Body, h.owner) || !strings.Contains(p.Body, "stored — leave blank to keep") {
		t.Fatalf("edit page leaks the owner token or lacks the secret field")
	}
	// Saving with the secret left blank keeps it.
	form := url.Values{"csrf": {p.CSRF()}, "f.access_mode": {"members"}, "f.owner_token": {""},
		"f.allowed_servers.0.machine_id": {plexsim.ServerLivingRoom}, "f.allowed_servers.0.name": {"Living Room"},
		"f.allowed_servers.1.machine_id": {""}, "f.allowed_servers.1.name": {""}, "f.include_default_mappings": {"on"}}
	if p := b.Do("POST", "/admin/sources/"+src.ID, form); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	got, _ := h.store.Source(context.Background(), src.ID)
	if !strings.Contains(string(got.Config), h.owner) || got.ConfigVersion != 2 {
		t.Fatalf("blank secret did not keep the stored one: %s", got.Config)
	}
	// Log a user in with a kept token too, then look at the raw database file.
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatal(p.Body)
	}
	raw, err := os.ReadFile(filepath.Join(h.dataDir, "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(h.dataDir, "host.db-wal"))
	if strings.Contains(string(raw)+string(wal), h.owner) {
		t.Fatal("owner token in clear in the database file")
	}
	st, err := os.Stat(filepath.Join(h.dataDir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", st.Mode(), err)
	}
}

func TestFormErrorsBesideTheField(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/sources/"+src.ID, nil)
	form := url.Values{"csrf": {p.CSRF()}, "f.access_mode": {"members"},
		"f.allowed_servers.0.machine_id": {"not valid!"}, "f.mappings": {"[roles]\ngroups: user.is_ownr ? [\"admins\"] : []\n"}}
	p = b.Do("POST", "/admin/sources/"+src.ID, form)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.Status)
	}
	for _, want := range []string{"[roles] groups", "Line 2, column 13: undefined field &#39;is_ownr&#39;", "is not a Plex machine ID"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Logins keep using the last valid settings.
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("login after a bad edit: %s", p.Body)
	}
	// So do the admin's actions: the saved owner token is fine while a draft exists.
	p = b.Do("GET", "/admin/sources/"+src.ID, nil)
	if !strings.Contains(p.Body, `id="discard-draft"`) {
		t.Fatal("no way to discard the draft")
	}
	csrf := p.CSRF()
	if p := b.Do("POST", "/admin/sources/"+src.ID+"/actions/owner_token_health", url.Values{"csrf": {csrf}}); p.Status != http.StatusOK ||
		strings.Contains(p.Body, "invalid_config") {
		t.Fatalf("owner token check with a draft: %d %s", p.Status, p.Body)
	}
	saved, _ := h.store.Source(context.Background(), src.ID)
	if p := b.Do("POST", "/admin/sources/"+src.ID+"/discard", url.Values{"csrf": {csrf}}); p.Status != http.StatusSeeOther {
		t.Fatalf("discard: %d", p.Status)
	}
	after, _ := h.store.Source(context.Background(), src.ID)
	if after.Draft != nil || string(after.Config) != string(saved.Config) || after.ConfigVersion != saved.ConfigVersion {
		t.Fatalf("after the discard: draft %s, config changed %v", after.Draft, string(after.Config) != string(saved.Config))
	}
	if p := b.Do("GET", "/admin/sources/"+src.ID, nil); strings.Contains(p.Body, `id="draft"`) || strings.Contains(p.Body, "is_ownr") {
		t.Fatal("the form still shows the draft")
	}
}

func TestRateLimitPerIP(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.LoginRate = 3 })
	h.addSource(membersConfig)
	if last := h.browser().beginLogins(5, nil); last != http.StatusTooManyRequests {
		t.Fatalf("6th begin-login: %d", last)
	}
}

func TestPasswordLoginWithSecondFactor(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	b := h.browser()
	p := b.Do("GET", "/login", nil)
	csrf := p.CSRF()
	p = b.Do("POST", "/login/plex/password", url.Values{"csrf": {csrf}, "login": {"tess"}, "password": {"tf-pass"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `name="otp"`) {
		t.Fatalf("second factor step: %d %s", p.Status, p.Body)
	}
	// The code page: not "signed in" before it is, no other way to log in, the account said once.
	if strings.Contains(p.Body, "Signed in") || strings.Contains(p.Body, `id="login-plex"`) || strings.Count(p.Body, "tess") != 1 {
		t.Fatalf("second factor page: %s", p.Body)
	}
	p = b.Do("POST", "/login/plex/password", url.Values{"csrf": {csrf}, "otp": {"000000"}})
	if p.Status != http.StatusUnauthorized || strings.Count(p.Body, "not accepted") != 1 {
		t.Fatalf("wrong code: %d %s", p.Status, p.Body)
	}
	p = b.Do("POST", "/login/plex/password", url.Values{"csrf": {csrf}, "otp": {"123456"}})
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("with code: %d %s", p.Status, p.Body)
	}
	b2 := h.browser()
	p = b2.Do("GET", "/login", nil)
	p = b2.Do("POST", "/login/plex/password", url.Values{"csrf": {p.CSRF()}, "login": {"gus"}, "password": {"x"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Google or Apple") {
		t.Fatalf("password-less account: %d %s", p.Status, p.Body)
	}
}

func TestRevalidationJob(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	ctx := context.Background()
	b := h.browser()
	if p := b.Login("plex", "friend"); p.Location != "/" {
		t.Fatal(p.Body)
	}
	users, _ := h.store.Users(ctx)
	uid := users[0].ID

	// Unknown (owner lists failing) changes nothing.
	h.sim.Inject("users", plexsim.Fault503, -1)
	h.sim.Inject("home.users", plexsim.Fault503, -1)
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if u, _ := h.store.User(ctx, uid); u.Disabled {
		t.Fatal("disabled on unknown")
	}
	h.sim.ClearFaults()

	// The owner removes the share: revoked, disabled, session ended.
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	restartPlugin(t, h) // drops the plugin's warm owner-list cache
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	u, _ := h.store.User(ctx, uid)
	if !u.Disabled || u.DisabledReason != store.DisabledByRevalidation {
		t.Fatalf("not disabled after revocation: %+v", u)
	}
	if p := b.Do("GET", "/profile", nil); p.Location != "/login" {
		t.Fatalf("session survived revocation: %d", p.Status)
	}
	// Share back: a successful login re-enables.
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, true)
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("re-login: %s", p.Body)
	}
	if u, _ := h.store.User(ctx, uid); u.Disabled {
		t.Fatal("not re-enabled by a successful login")
	}
	// An admin's disabling is not undone by a login.
	_ = h.store.SetDisabled(ctx, uid, true, store.DisabledByAdmin)
	if p := h.browser().Login("plex", "friend"); p.Status != http.StatusForbidden {
		t.Fatalf("admin-disabled user logged in: %d", p.Status)
	}
}

func restartPlugin(t *testing.T, h *harness) {
	t.Helper()
	p := h.srv.Plugin("plex").Process
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Ping(context.Background())
}

func TestPluginKilledMidLogin(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	b := h.browser()
	auth := b.StartLogin(b.Get("/login"), "plex")
	fwd := b.Approve(auth, "friend")
	pid := h.srv.Plugin("plex").Process.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if p := b.Do("GET", fwd, nil); p.Location != "/" {
		t.Fatalf("after kill -9: %d %s", p.Status, p.Body)
	}
	if h.srv.Plugin("plex").Process.Pid() == pid {
		t.Fatal("plugin not restarted")
	}
}

func TestTrustedProxyOnly(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.LoginRate = 2 })
	h.addSource(membersConfig)
	// An untrusted client cannot dodge the per-IP limit with X-Forwarded-For.
	b := h.browser()
	last := b.beginLogins(4, func(i int) { b.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i))) })
	if last != http.StatusTooManyRequests {
		t.Fatalf("X-Forwarded-For from an untrusted peer was honoured: %d", last)
	}
}

func TestHomeProfileStep(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(strings.Replace(membersConfig, `"password_login":true`, `"password_login":true,"home_profiles":true`, 1))
	b := h.browser()
	p := b.Login("plex", "owner")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Who is watching?") || !strings.Contains(p.Body, "Kid") {
		t.Fatalf("no profile step: %d %s", p.Status, p.Body)
	}
	if strings.Contains(p.Body, h.owner) {
		t.Fatal("the step page shows a token")
	}
	p = b.Do("POST", "/login/step", url.Values{"csrf": {p.CSRF()}, "choice": {"60718293a4b5c6d7"}, "v.pin": {"9999"}})
	if !strings.Contains(p.Body, "That PIN is not right.") {
		t.Fatalf("wrong PIN: %d %s", p.Status, p.Body)
	}
	p = b.Do("POST", "/login/step", url.Values{"csrf": {p.CSRF()}, "choice": {"60718293a4b5c6d7"}, "v.pin": {"1234"}})
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("right PIN: %d %s", p.Status, p.Body)
	}
	p = b.Do("GET", "/profile", nil)
	if !strings.Contains(p.Body, "plex-managed") {
		t.Fatalf("profile of the managed profile: %s", p.Body)
	}
	if _, err := h.store.FindUser(context.Background(), h.source.ID, "3002"); err != nil {
		t.Fatalf("the managed profile 3002 did not sign in: %v", err)
	}
	// The step state was single use.
	if p := b.Do("POST", "/login/step", url.Values{"csrf": {p.CSRF()}, "choice": {"self"}}); p.Status != http.StatusBadRequest {
		t.Fatalf("replayed step: %d", p.Status)
	}
}

func TestFirstStartSetupLink(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	// A fresh database: no admin password yet.
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := host.NewAdmin(st, nil).SetupToken(ctx)
	if err != nil || len(tok) != 32 {
		t.Fatalf("setup token %q %v", tok, err)
	}
	// On the harness' own store (password already set) there is no setup link.
	if tok2, _ := host.NewAdmin(h.store, nil).SetupToken(ctx); tok2 != "" {
		t.Fatal("setup link offered although an admin password exists")
	}
	_ = h.store.SetMeta(ctx, "admin_password_hash", "") // forget it, then set up through the page
	tok, _ = host.NewAdmin(h.store, nil).SetupToken(ctx)
	b := h.browser()
	p := b.Do("GET", "/setup?token="+tok, nil)
	if p := b.Do("POST", "/setup", url.Values{"csrf": {p.CSRF()}, "token": {"wrong"}, "password": {"a-long-password"}}); p.Status != http.StatusForbidden {
		t.Fatalf("wrong token: %d", p.Status)
	}
	if p := b.Do("POST", "/setup", url.Values{"csrf": {p.CSRF()}, "token": {tok}, "password": {"a-long-password"}, "confirm": {"a-long-passwort"}}); p.Status != http.StatusBadRequest ||
		!strings.Contains(p.Body, "The two passwords differ") {
		t.Fatalf("a confirmation that differs: %d %s", p.Status, p.Body)
	}
	p = b.Do("POST", "/setup", url.Values{"csrf": {p.CSRF()}, "token": {tok}, "password": {"a-long-password"}, "confirm": {"a-long-password"}})
	if p.Status != http.StatusSeeOther || p.Location != "/admin/setup" {
		t.Fatalf("setup: %d %s", p.Status, p.Body)
	}
	// the setup link's session is a sign-in like any other: recorded, and checked against a reset
	if evs, err := h.store.Events(ctx, 5, ""); err != nil || len(evs) == 0 || evs[0].Kind != store.EventAdminLogin {
		t.Fatalf("no admin sign-in recorded by the setup: %+v %v", evs, err)
	}
	b2 := h.browser()
	p = b2.Do("GET", "/setup?token="+tok, nil)
	if p := b2.Do("POST", "/setup", url.Values{"csrf": {p.CSRF()}, "token": {tok}, "password": {"another-password"}}); p.Status != http.StatusForbidden {
		t.Fatalf("setup link used twice: %d", p.Status)
	}
}

func TestPreviewDryRunAndHealthEvents(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := context.Background()
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/sources/"+src.ID, nil)
	csrf := p.CSRF()
	b.Header.Set("X-CSRF-Token", csrf)
	b.Header.Set("Content-Type", "application/json")
	req, _ := http.NewRequest("POST", h.host.URL+"/admin/sources/"+src.ID+"/preview",
		strings.NewReader(`{"field":"mappings","text":"[x]\nname: user.title + \"!\"\n","person":"2001"}`))
	req.Header = b.Header.Clone()
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Identity struct{ Name string }
		Errors   []any
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out.Identity.Name != "Frank Friend!" || len(out.Errors) != 0 {
		t.Fatalf("preview: %+v", out)
	}
	b.Header = http.Header{}
	// The dry run answers beside its form, in words; someone who never logged in is not "revoked".
	p = b.Do("POST", "/admin/sources/"+src.ID+"/dryrun", url.Values{"csrf": {csrf}, "who": {"2003"}})
	if !strings.Contains(p.Body, "2003: Would not get in.") || !strings.Contains(p.Body, "have not logged in here yet") ||
		!strings.Contains(p.Body, "not_a_member") || strings.Contains(p.Body, "revoked") {
		t.Fatalf("dry run: %s", p.Body)
	}
	h.browser().Login("plex", "friend")
	p = b.Do("POST", "/admin/sources/"+src.ID+"/dryrun", url.Values{"csrf": {csrf}, "who": {"frank"}})
	if !strings.Contains(p.Body, "Frank Friend (id 2001): Would get in.") || !strings.Contains(p.Body, "plex-server:Living Room") {
		t.Fatalf("dry run by username: %s", p.Body)
	}
	if p = b.Do("POST", "/admin/sources/"+src.ID+"/dryrun", url.Values{"csrf": {csrf}, "who": {"nobody"}}); !strings.Contains(p.Body, "No one called nobody") {
		t.Fatalf("dry run of an unknown name: %s", p.Body)
	}
	// One event per owner-token state change, not per check.
	for i := 0; i < 3; i++ {
		_ = h.srv.Jobs.CheckHealth(ctx)
	}
	h.sim.RevokeTokens("owner")
	_ = h.srv.Jobs.CheckHealth(ctx)
	_ = h.srv.Jobs.CheckHealth(ctx)
	evs, _ := h.store.Events(ctx, 50, "")
	var states []string
	for _, e := range evs {
		if strings.HasPrefix(string(e.Kind), "health_") {
			states = append([]string{e.Reason}, states...)
		}
	}
	if strings.Join(states, ",") != "valid,revoked" {
		t.Fatalf("health events %v", states)
	}
	p = b.Do("GET", "/admin/events", nil)
	if !strings.Contains(p.Body, "Health check owner token health: revoked") {
		t.Fatal("events page lacks the health event")
	}
}

func TestExpiredLoginStatesArePurged(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	_, sess, err := h.store.CreateSession(ctx, 0, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = h.store.PutLoginState(ctx, store.LoginState{SessionID: sess.ID, SourceID: "s", Kind: "login", State: []byte("x"), ExpiresAt: time.Now().Add(-time.Second)})
	if _, err := h.store.TakeLoginState(ctx, sess.ID, "login"); err == nil {
		t.Fatal("an expired login state was usable")
	}
	_, _ = h.store.PutLoginState(ctx, store.LoginState{SessionID: sess.ID, SourceID: "s", Kind: "login", State: []byte("x"), ExpiresAt: time.Now().Add(-time.Second)})
	if n, err := h.store.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("purged %d %v", n, err)
	}
}

func TestReauthoriseKeepsEverySetting(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/sources/"+src.ID, nil)
	p = b.Do("POST", "/admin/sources/"+src.ID+"/actions/reauthorize", url.Values{"csrf": {p.CSRF()}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, h.simURL+"/auth#?") {
		t.Fatalf("reauthorise: %d %s", p.Status, p.Body)
	}
	p = b.Do("GET", b.Approve(p.Redirect, "owner"), nil)
	if p.Status != http.StatusSeeOther || p.Location != "/admin/sources/"+src.ID {
		t.Fatalf("callback: %d %s %s", p.Status, p.Location, p.Body)
	}
	if page := b.Do("GET", p.Location, nil).Body; !strings.Contains(page, "Updated by reauthorize") {
		t.Fatal("no notice after the re-authorisation")
	}
	if page := b.Do("GET", p.Location, nil).Body; strings.Contains(page, "Updated by reauthorize") {
		t.Fatal("the notice shows twice")
	}
	before := map[string]any{}
	_ = json.Unmarshal(src.Config, &before)
	got, _ := h.store.Source(context.Background(), src.ID)
	after := map[string]any{}
	_ = json.Unmarshal(got.Config, &after)
	if after["owner_token"] == before["owner_token"] || after["owner_token"] == "" {
		t.Fatal("owner token not replaced")
	}
	delete(before, "owner_token")
	delete(after, "owner_token")
	a, _ := json.Marshal(before)
	c, _ := json.Marshal(after)
	if string(a) != string(c) {
		t.Fatalf("other settings changed:\n%s\n%s", a, c)
	}
	// The health check action through the admin page.
	p = b.Do("GET", "/admin/sources/"+src.ID, nil)
	p = b.Do("POST", "/admin/sources/"+src.ID+"/actions/owner_token_health", url.Values{"csrf": {p.CSRF()}})
	if !strings.Contains(p.Body, "valid: the owner token works") {
		t.Fatalf("health: %s", p.Body)
	}
}

// A preview from a person's last login document gives exactly what that login gave; from
// the owner's list, what the list cannot know is "unknown" rather than false or empty.
func TestPreviewFromALoginEqualsTheLogin(t *testing.T) {
	h := newHarness(t, nil)
	text := "[extra]\ngroups: user.servers.size() > 0 ? [\"viewers\"] : []\nverified: user.confirmed\nfirst_server: user.servers.size() > 0 ? user.servers[0].name : \"\"\n"
	cfg, _ := json.Marshal(text)
	src := h.addSource(strings.Replace(membersConfig, `"password_login":true`, `"password_login":true,"mappings":`+string(cfg), 1))
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("login: %d %s", p.Status, p.Body)
	}
	frank, err := h.store.FindUser(context.Background(), src.ID, "Frank")
	if err != nil || len(frank.PreviewSample) == 0 {
		t.Fatalf("stored login document: %v", err)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	csrf := admin.Do("GET", "/admin/sources/"+src.ID, nil).CSRF()
	preview := func(person string) map[string]any {
		body, _ := json.Marshal(map[string]string{"field": "mappings", "text": text, "person": person})
		req, _ := http.NewRequest("POST", h.host.URL+"/admin/sources/"+src.ID+"/preview", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := admin.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("preview %s: %v", person, err)
		}
		return out
	}
	out := preview("FRANK")
	id, _ := out["identity"].(map[string]any)
	if id == nil || !strings.Contains(fmt.Sprint(out["from"]), "last login") {
		t.Fatalf("preview of frank: %v", out)
	}
	var groups []string
	for _, g := range id["groups"].([]any) {
		groups = append(groups, g.(string))
	}
	var rows []string
	for _, a := range id["attributes"].([]any) {
		m := a.(map[string]any)
		rows = append(rows, fmt.Sprint(m["Name"], "=", m["Value"]))
	}
	var want []string
	for _, a := range web.AttributeRows(frank.Attributes) {
		want = append(want, a.Name+"="+a.Value)
	}
	if strings.Join(groups, ",") != strings.Join(frank.Groups, ",") || strings.Join(rows, ";") != strings.Join(want, ";") ||
		id["email_verified"] != frank.EmailVerified || id["email"] != frank.Email || out["unknown"] != nil {
		t.Fatalf("preview differs from the login:\npreview %v %v verified=%v unknown=%v\nlogin   %v %v verified=%v",
			groups, rows, id["email_verified"], out["unknown"], frank.Groups, want, frank.EmailVerified)
	}
	// Someone who never logged in, by id: from the owner's list, with the unknowns said.
	out = preview("2004")
	if !strings.Contains(fmt.Sprint(out["from"]), "owner's list") || !strings.Contains(fmt.Sprint(out["unknown"]), "email_verified") {
		t.Fatalf("preview of 2004: %v", out)
	}
	if out = preview("nobody"); !strings.Contains(fmt.Sprint(out["error"]), "No one called nobody") {
		t.Fatalf("preview of an unknown name: %v", out)
	}
}

// A well-formed machine ID of a server the owner does not have saves, with a warning
// (through the contract's new ConfigWarnings call); the owner's own servers give none.
func TestUnknownMachineIDWarns(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	b := h.browser()
	b.AdminLogin(adminPassword)
	save := func(machineID string) string {
		p := b.Do("GET", "/admin/sources/"+src.ID, nil)
		form := url.Values{"csrf": {p.CSRF()}, "f.access_mode": {"members"}, "f.include_default_mappings": {"on"},
			"f.allowed_servers.0.machine_id": {plexsim.ServerLivingRoom}, "f.allowed_servers.0.name": {"Living Room"},
			"f.allowed_servers.1.machine_id": {machineID}, "f.allowed_servers.1.name": {"Attic"}}
		p = b.Do("POST", "/admin/sources/"+src.ID, form)
		if p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.Status, p.Body)
		}
		return b.Do("GET", p.Location, nil).Body
	}
	if page := save("0123456789abcdef0123456789abcdef"); !strings.Contains(page, "Saved. Warning: Attic is not a server of the owner account") {
		t.Fatalf("no warning for a server the owner does not have: %s", page)
	}
	if page := save(plexsim.ServerCabin); strings.Contains(page, "Warning") || !strings.Contains(page, "Saved.") {
		t.Fatalf("a warning for the owner's own server: %s", page)
	}
}

// A notice is shown once, and only one this host signed: a cookie set by a sibling site
// under a shared cookie domain shows nothing.
func TestFlashIsSignedAndOneTime(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/sources/"+src.ID, nil)
	if p = b.Do("POST", "/admin/sources/"+src.ID+"/discard", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("discard: %d", p.Status)
	}
	if page := b.Do("GET", p.Location, nil).Body; !strings.Contains(page, "Draft discarded") {
		t.Fatal("no notice after the redirect")
	}
	if page := b.Do("GET", p.Location, nil).Body; strings.Contains(page, "Draft discarded") {
		t.Fatal("the notice showed twice")
	}
	u, _ := url.Parse(h.host.URL + "/admin")
	forged := base64.RawURLEncoding.EncodeToString([]byte("error|Call 555-0100 to restore your server"))
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "hx_flash", Value: forged + "." + strings.Repeat("0", 32), Path: "/admin"}})
	if page := b.Do("GET", "/admin/sources/"+src.ID, nil).Body; strings.Contains(page, "555-0100") {
		t.Fatal("a forged notice was shown")
	}
}
