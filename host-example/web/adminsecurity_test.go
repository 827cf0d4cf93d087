package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// testClock is a clock the test moves.
type testClock struct{ unix atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.unix.Store(time.Now().Unix())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(c.unix.Load(), 0) }
func (c *testClock) advance(d time.Duration) { c.unix.Add(int64(d / time.Second)) }
func (c *testClock) code(t *testing.T, secret string, d time.Duration) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, c.now().Add(d), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wrongCode is a code that is none of the codes of the steps around now.
func (c *testClock) wrongCode(t *testing.T, secret string) string {
	t.Helper()
	n, _ := strconv.Atoi(c.code(t, secret, 0))
	for {
		n = (n + 1) % 1_000_000
		w := fmt.Sprintf("%06d", n)
		if w != c.code(t, secret, -host.TOTPPeriod) && w != c.code(t, secret, host.TOTPPeriod) && w != c.code(t, secret, 0) {
			return w
		}
	}
}

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// enrolTOTP sets up the admin TOTP on the security page with the signed-in admin browser b;
// it returns the secret.
func (b *browser) enrolTOTP(clock *testClock) string {
	t := b.h.t.(*testing.T)
	t.Helper()
	p := b.Do("GET", "/admin/security", nil)
	if p = b.Do("POST", "/admin/security/totp/begin", url.Values{"csrf": {p.CSRF()}, "proof_password": {adminPassword}}); p.Status != http.StatusOK {
		t.Fatalf("begin: %d %s", p.Status, p.Body)
	}
	m := secretRE.FindStringSubmatch(p.Body)
	if m == nil || !strings.Contains(p.Body, "otpauth://totp/") || !strings.Contains(p.Body, `src="data:image/png;base64,`) {
		t.Fatalf("no secret, URI or QR code on the enrolment:\n%s", p.Body)
	}
	if p := b.Do("GET", "/admin/security", nil); strings.Contains(p.Body, m[1]) || !strings.Contains(p.Body, `id="totp-pending-here"`) {
		t.Fatalf("the secret shown again on a later load of the page:\n%s", p.Body)
	}
	p = b.Do("POST", "/admin/security/totp/confirm", url.Values{"csrf": {p.CSRF()}, "code": {clock.wrongCode(t, m[1])}, "proof_password": {adminPassword}})
	if !strings.Contains(p.Body, "the code is not on yet") || !strings.Contains(p.Body, `id="totp-secret">`+m[1]) {
		t.Fatalf("a wrong code confirmed the enrolment, or its answer lost the secret:\n%s", p.Body)
	}
	b.Do("POST", "/admin/security/totp/confirm", url.Values{"csrf": {p.CSRF()}, "code": {clock.code(t, m[1], 0)}, "proof_password": {adminPassword}})
	if p = b.Do("GET", "/admin/security", nil); !strings.Contains(p.Body, `id="totp-state">On`) {
		t.Fatalf("TOTP not on after its confirmation:\n%s", p.Body)
	}
	return m[1]
}

// adminPasswordStep posts the admin password and expects the code step.
func (b *browser) adminPasswordStep(address string) page {
	b.h.t.Helper()
	p := b.adminTry(address, adminPassword)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="admin-code"`) {
		b.h.t.Fatalf("no code asked after the password: %d %s", p.Status, p.Body)
	}
	return p
}

// The admin enrols a TOTP: then the password alone opens nothing, the code does, once; a
// code of the next step is accepted, two steps away is not; the reset removes the TOTP.
func TestAdminTOTPSignIn(t *testing.T) {
	clock := newTestClock()
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback; c.Clock = clock.now })
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	secret := admin.enrolTOTP(clock)
	clock.advance(2 * host.TOTPPeriod) // past the enrolment's code

	b := h.browser()
	p := b.adminPasswordStep("192.0.2.1")
	if got := b.Do("GET", "/admin", nil); got.Status != http.StatusSeeOther || got.Location != "/admin/login" {
		t.Fatalf("the password alone opened the admin: %d %s", got.Status, got.Location)
	}
	code := clock.code(t, secret, 0)
	if p = b.Do("POST", "/admin/login/code", url.Values{"csrf": {p.CSRF()}, "code": {code}}); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the right code: %d %s", p.Status, p.Body)
	}
	if p = b.Do("GET", "/admin", nil); p.Status != http.StatusOK {
		t.Fatalf("admin after the code: %d", p.Status)
	}

	// The same code again, in another browser within its window: refused.
	other := h.browser()
	p = other.adminPasswordStep("192.0.2.2")
	if p = other.Do("POST", "/admin/login/code", url.Values{"csrf": {p.CSRF()}, "code": {code}}); p.Status != http.StatusUnauthorized ||
		!strings.Contains(p.Body, "already used") {
		t.Fatalf("a reused code: %d %s", p.Status, p.Body)
	}
	// Two steps ahead: refused; one step ahead: accepted.
	if p = other.Do("POST", "/admin/login/code", url.Values{"csrf": {p.CSRF()}, "code": {clock.code(t, secret, 2*host.TOTPPeriod)}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("a code two steps ahead: %d", p.Status)
	}
	if p = other.Do("POST", "/admin/login/code", url.Values{"csrf": {p.CSRF()}, "code": {clock.code(t, secret, host.TOTPPeriod)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("a code one step ahead: %d %s", p.Status, p.Body)
	}
	// A code without the password first: nothing to continue.
	fresh := h.browser()
	p = fresh.Do("GET", "/admin/login", nil)
	if p = fresh.Do("POST", "/admin/login/code", url.Values{"csrf": {p.CSRF()}, "code": {clock.code(t, secret, host.TOTPPeriod)}}); p.Status != http.StatusBadRequest {
		t.Fatalf("a code without the password: %d", p.Status)
	}

	if _, err := host.NewAdmin(h.store, nil).Reset(context.Background(), adminPassword); err != nil {
		t.Fatal(err)
	}
	h.browser().AdminLogin(adminPassword) // the password alone again
}

// Wrong codes count like wrong passwords: ten in a row from a known browser lock it out.
func TestWrongAdminCodesLockOutAKnownBrowser(t *testing.T) {
	clock := newTestClock()
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback; c.Clock = clock.now })
	known := h.knownAdminBrowser()
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	secret := admin.enrolTOTP(clock)
	for i := 0; i < 10; i++ {
		p := known.adminPasswordStep("192.0.2." + strconv.Itoa(100+i))
		if p = known.Do("POST", "/admin/login/code", url.Values{"csrf": {p.CSRF()}, "code": {clock.wrongCode(t, secret)}}); p.Status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, p.Status)
		}
	}
	h.emptyGlobalBucket("203.0.113")
	if p := known.adminTry("192.0.2.99", adminPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("a browser locked out by wrong codes, during an attack: %d", p.Status)
	}
	if evs, _ := h.store.Events(context.Background(), 50, "wrong or reused TOTP code"); len(evs) != 10 {
		t.Fatalf("want 10 wrong-code events, got %d", len(evs))
	}
}

// sourceAdminSignIn signs persona in through the plex source on the way to the admin and
// returns the answer of the admin's source sign-in.
func (h *harness) sourceAdminSignIn(b *browser, persona string) page {
	h.t.Helper()
	return h.sourceAdminSignInVia(b, "plex", persona)
}

// sourceAdminSignInVia is sourceAdminSignIn through the source of slug.
func (h *harness) sourceAdminSignInVia(b *browser, slug, persona string) page {
	h.t.Helper()
	p := b.Do("GET", "/admin/login", nil)
	link := regexp.MustCompile(`href="([^"]+)" id="admin-source-login"`).FindStringSubmatch(p.Body)
	if link == nil {
		h.t.Fatalf("no sign-in through a source on the admin login:\n%s", p.Body)
	}
	p = b.Do("GET", strings.ReplaceAll(link[1], "&amp;", "&"), nil)
	p = b.Do("POST", "/login/"+slug, url.Values{"csrf": {p.CSRF()}, "return": {"/admin/login/source"}})
	if p = b.Do("GET", b.Approve(p.Redirect, persona), nil); p.Location != "/admin/login/source" {
		h.t.Fatalf("the login did not return to the admin: %d %s", p.Status, p.Location)
	}
	return h.openAdminThroughSource(b)
}

// openAdminThroughSource is the way back from a source sign-in to the admin: the page that
// asks, then the person's POST of its button (the answer of the GET when it asks nothing).
func (h *harness) openAdminThroughSource(b *browser) page {
	h.t.Helper()
	p := b.Do("GET", "/admin/login/source", nil)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-button"`) {
		return p
	}
	return b.Do("POST", "/admin/login/source", url.Values{"csrf": {p.CSRF()}})
}

// A person the mapping gives the admin group signs in to the admin through the source; the
// local password turns off only after that, and then the admin login offers only the source;
// the reset turns the password on again.
func TestSourceAdminAndTurningThePasswordOff(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.AdminPassword = "" })
	adm := host.NewAdmin(h.store, nil)
	if err := adm.SetPassword(context.Background(), adminPassword); err != nil {
		t.Fatal(err)
	}
	mapping, _ := json.Marshal("[admins]\ngroups: user.is_owner ? [\"admins\"] : []")
	h.addSource(strings.Replace(membersConfig, `"password_login":true`, `"password_login":true,"mappings":`+string(mapping), 1))
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	post := func(path string, form url.Values) string {
		t.Helper()
		p := admin.Do("GET", "/admin/security", nil)
		form.Set("csrf", p.CSRF())
		form.Set("proof_password", adminPassword)
		if p = admin.Do("POST", path, form); p.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", path, p.Status, p.Body)
		}
		return admin.Do("GET", "/admin/security", nil).Body
	}
	grant := func(group string) url.Values {
		return url.Values{"grant_source": {h.source.ID}, "grant_group": {group}, "confirm": {"1"}}
	}
	if body := post("/admin/security/password/off", url.Values{}); !strings.Contains(body, "Not turned off: no admin grant is set") {
		t.Fatalf("turned off without an admin group:\n%s", body)
	}
	post("/admin/security/grants", grant("admins"))
	if body := post("/admin/security/password/off", url.Values{}); !strings.Contains(body, "Not turned off: no one has signed in") {
		t.Fatalf("turned off before a source admin signed in:\n%s", body)
	}

	if p := h.sourceAdminSignIn(h.browser(), "friend"); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Not an admin") {
		t.Fatalf("a person without the admin group: %d %s", p.Status, p.Body)
	}
	owner := h.browser()
	if p := h.sourceAdminSignIn(owner, "owner"); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the owner through the source: %d %s", p.Status, p.Body)
	}
	if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusOK {
		t.Fatalf("the source admin's admin page: %d", p.Status)
	}
	// Another admin group: the owner's admin session is no longer one.
	post("/admin/security/grants", grant("other"))
	if p := owner.Do("GET", "/admin/users", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("a source admin without the admin group: %d", p.Status)
	}
	if body := post("/admin/security/password/off", url.Values{}); !strings.Contains(body, "Not turned off: no one has signed in") {
		t.Fatalf("turned off on a sign-in of another group:\n%s", body)
	}
	post("/admin/security/grants", grant("admins"))
	// That admin disabled since: the password stays on (no one could get in without it).
	users, _ := h.store.Users(context.Background())
	var ownerID int64
	for _, u := range users {
		if u.Username == "owner" {
			ownerID = u.ID
		}
	}
	_ = h.store.SetDisabled(context.Background(), ownerID, true, store.DisabledByAdmin)
	if body := post("/admin/security/password/off", url.Values{}); !strings.Contains(body, "Not turned off: the last person who signed in") {
		t.Fatalf("turned off though the source admin was disabled:\n%s", body)
	}
	_ = h.store.SetDisabled(context.Background(), ownerID, false, "")
	if p := h.sourceAdminSignIn(owner, "owner"); p.Status != http.StatusSeeOther {
		t.Fatalf("the owner again: %d %s", p.Status, p.Body)
	}
	if body := post("/admin/security/password/off", url.Values{}); !strings.Contains(body, "The local password is off") {
		t.Fatalf("not turned off:\n%s", body)
	}
	if body := post("/admin/security/grants", url.Values{"confirm": {"1"}}); !strings.Contains(body, "Not saved: the local password is off") {
		t.Fatalf("the admin grants removed while the password is off:\n%s", body)
	}

	b := h.browser()
	p := b.Do("GET", "/admin/login", nil)
	if strings.Contains(p.Body, `id="admin-password"`) || !strings.Contains(p.Body, `id="admin-source-login"`) {
		t.Fatalf("the admin login still offers the password:\n%s", p.Body)
	}
	if p = b.Do("POST", "/admin/login", url.Values{"csrf": {p.CSRF()}, "password": {adminPassword}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("the old password while off: %d", p.Status)
	}
	if evs, _ := h.store.Events(context.Background(), 10, "local admin password turned off"); len(evs) != 1 || evs[0].Kind != store.EventAdminSecurityChanged {
		t.Fatalf("no event of turning the password off: %+v", evs)
	}

	// The break-glass: the reset turns the password on again.
	if _, err := adm.Reset(context.Background(), adminPassword); err != nil {
		t.Fatal(err)
	}
	h.browser().AdminLogin(adminPassword)
}

// A password set by HOST_ADMIN_PASSWORD at every start cannot be turned off in the admin.
func TestFixedAdminPasswordCannotBeTurnedOff(t *testing.T) {
	h := newHarness(t, nil)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/security", nil)
	b.Do("POST", "/admin/security/password/off", url.Values{"csrf": {p.CSRF()}})
	if p = b.Do("GET", "/admin/security", nil); !strings.Contains(p.Body, "HOST_ADMIN_PASSWORD sets the password at every start") {
		t.Fatalf("no reason:\n%s", p.Body)
	}
	if !host.NewAdmin(h.store, nil).PasswordOn(context.Background()) {
		t.Fatal("turned off")
	}
}

// Without -site-name the pages call the site by the public URL's host; with it, by it.
func TestSiteNameDefaultsToThePublicHost(t *testing.T) {
	h := newHarness(t, nil)
	u, _ := url.Parse(h.host.URL)
	if p := h.browser().Do("GET", "/login", nil); !strings.Contains(p.Body, "Sign in to "+u.Hostname()+"<") ||
		!strings.Contains(p.Body, "· "+u.Hostname()+"</title>") {
		t.Fatalf("the site is not called %s:\n%s", u.Hostname(), p.Body)
	}
	h = newHarness(t, func(c *app.Config) { c.SiteName = "Olivia's media" })
	if p := h.browser().Do("GET", "/login", nil); !strings.Contains(p.Body, "Sign in to Olivia&#39;s media<") {
		t.Fatalf("-site-name not used:\n%s", p.Body)
	}
}
