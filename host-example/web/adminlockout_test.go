package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
)

// adminTry posts password to the admin login from address (X-Forwarded-For, trusted loopback).
func (b *browser) adminTry(address, password string) page {
	b.h.t.Helper()
	b.Header.Set("X-Forwarded-For", address)
	p := b.Do("GET", "/admin/login", nil)
	return b.Do("POST", "/admin/login", url.Values{"csrf": {p.CSRF()}, "password": {password}})
}

// knownAdminBrowser signs in as admin once (the browser becomes a known device), then out.
func (h *harness) knownAdminBrowser() *browser {
	h.t.Helper()
	b := h.browser()
	if p := b.adminTry("198.51.100.1", adminPassword); p.Status != http.StatusSeeOther {
		h.t.Fatalf("admin login: %d %s", p.Status, p.Body)
	}
	p := b.Do("GET", "/admin", nil)
	if p = b.Do("POST", "/logout", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
		h.t.Fatalf("logout: %d", p.Status)
	}
	return b
}

// emptyGlobalBucket sends wrong admin passwords from six fresh browsers and addresses (net is
// the first three bytes of an unused network), five each.
func (h *harness) emptyGlobalBucket(net string) {
	h.t.Helper()
	for a := 1; a <= 6; a++ {
		for i := 0; i < 5; i++ {
			h.browser().adminTry(net+"."+strconv.Itoa(a), "guess")
		}
	}
}

// Six addresses guessing empty the global bucket: a browser that signed in as admin before
// still gets in with the right password; an unknown browser gets 429 with the recovery named.
func TestKnownAdminBrowserGetsInDuringAGuessingAttack(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback })
	known := h.knownAdminBrowser()
	h.emptyGlobalBucket("203.0.113")
	p := h.browser().adminTry("192.0.2.50", adminPassword)
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "host-example reset-admin-password") {
		t.Fatalf("an unknown browser during the attack: %d %s", p.Status, p.Body)
	}
	if p := known.adminTry("192.0.2.51", adminPassword); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the known browser during the attack: %d %s", p.Status, p.Body)
	}
	// A wrong password from the known browser still counts for its address.
	for i := 0; i < 5; i++ {
		known.adminTry("192.0.2.52", "guess")
	}
	if p := known.adminTry("192.0.2.52", adminPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("the known browser past its address' limit: %d", p.Status)
	}
}

// Ten wrong passwords in a row sent with a known browser's cookie lock that browser out: it
// then counts as unknown, and is held up by the global bucket. Nine do not, and a success
// starts the count again.
func TestKnownAdminBrowserLockedOutByItsWrongPasswords(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback })
	known := h.knownAdminBrowser()
	address := 100
	wrong := func(n int) {
		for i := 0; i < n; i++ {
			address++
			if p := known.adminTry("192.0.2."+strconv.Itoa(address), "guess"); p.Status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d", i+1, p.Status)
			}
		}
	}
	wrong(9)
	h.emptyGlobalBucket("203.0.113")
	if p := known.adminTry("192.0.2.99", adminPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("the known browser after nine wrong passwords: %d", p.Status)
	}
	wrong(10)
	h.emptyGlobalBucket("198.18.0")
	if p := known.adminTry("192.0.2.98", adminPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("a locked-out browser during the attack: %d", p.Status)
	}
	if evs, _ := h.store.Events(context.Background(), 5, "wrong passwords in a row"); len(evs) != 1 || evs[0].Kind != "admin_device_locked" {
		t.Fatalf("no admin_device_locked event: %+v", evs)
	}
}

// A password reset (what host-example reset-admin-password runs) forgets every known browser:
// while the attack goes on, that browser alone is held up again.
func TestResetAdminPasswordForgetsKnownBrowsers(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback })
	known := h.knownAdminBrowser()
	h.emptyGlobalBucket("203.0.113")
	if p := known.adminTry("192.0.2.60", adminPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("the known browser before the reset: %d", p.Status)
	}
	if _, err := host.NewAdmin(h.store, nil).Reset(context.Background(), adminPassword); err != nil {
		t.Fatal(err)
	}
	h.emptyGlobalBucket("198.18.0")
	if p := known.adminTry("192.0.2.61", adminPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("a browser known before the reset: %d", p.Status)
	}
}

// adminTryRecovery opens the recovery link and posts password from address.
func (b *browser) adminTryRecovery(address, link, password string) page {
	b.h.t.Helper()
	b.Header.Set("X-Forwarded-For", address)
	p := b.Do("GET", link, nil)
	if p.Status != http.StatusOK {
		return p
	}
	return b.Do("POST", "/admin/login", url.Values{"csrf": {p.CSRF()}, "password": {password},
		"recovery": {regexp.MustCompile(`name="recovery" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]}})
}

// The break-glass during the guessing attack the lockout page describes: the admin, whose own
// address used up its tries and whose browser the reset forgot, signs in with the new password
// through the recovery link while the attack goes on; the browser is then a known one; the link
// works once; it signs in to nothing by itself.
func TestResetAdminPasswordLetsTheAdminInDuringAnAttack(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback })
	admin := h.knownAdminBrowser()
	for i := 0; i < 5; i++ { // the admin's own tries, from home, with the old password forgotten
		admin.adminTry("192.0.2.70", "not-the-password")
	}
	h.emptyGlobalBucket("203.0.113")
	if p := admin.adminTry("192.0.2.70", adminPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("the admin's address before the reset: %d", p.Status)
	}
	const newPassword = "a-brand-new-password"
	reset, err := host.NewAdmin(h.store, nil).Reset(context.Background(), newPassword)
	if err != nil {
		t.Fatal(err)
	}
	link := host.RecoveryPath + reset.Recovery
	h.emptyGlobalBucket("198.18.0") // the attack goes on
	if p := h.browser().adminTry("192.0.2.71", newPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("an unknown browser without the link during the attack: %d", p.Status)
	}
	// The link alone opens nothing; a wrong password through it is refused and counted.
	if resp, err := http.Get(h.host.URL + link); err != nil || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the recovery page may send its address on: %v", err)
	} else {
		resp.Body.Close()
	}
	if p := admin.Do("GET", link, nil); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="admin-password"`) {
		t.Fatalf("the recovery link: %d %s", p.Status, p.Body)
	}
	if p := admin.Do("GET", "/admin", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("the recovery link signed in by itself: %d", p.Status)
	}
	if p := admin.adminTryRecovery("192.0.2.70", link, "wrong-password"); p.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong password through the link: %d %s", p.Status, p.Body)
	}
	if p := admin.adminTryRecovery("192.0.2.70", link, newPassword); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("the new password through the link during the attack: %d %s", p.Status, p.Body)
	}
	// Used: the link opens nothing any more; the browser is known now and gets in without it.
	if p := h.browser().Do("GET", link, nil); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Recovery link not valid") {
		t.Fatalf("the recovery link used twice: %d", p.Status)
	}
	p := admin.Do("GET", "/admin", nil)
	admin.Do("POST", "/logout", url.Values{"csrf": {p.CSRF()}})
	if p := admin.adminTry("192.0.2.72", newPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("the browser the link made known, during the attack: %d", p.Status)
	}
}

// X-Forwarded-For from a peer outside the trusted proxies is logged once, naming the peer and
// the flag; from a trusted proxy it is not.
func TestUntrustedForwardedForWarnedOnce(t *testing.T) {
	var logs loadertest.LogBuffer
	h := newHarness(t, func(c *app.Config) { c.Logger = hclog.New(&hclog.LoggerOptions{Output: &logs}) })
	b := h.browser()
	b.Do("GET", "/login", nil)
	if logs.String() != "" {
		t.Fatalf("logged without the header: %s", logs.String())
	}
	for i := 0; i < 3; i++ {
		b.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))
		b.Do("GET", "/login", nil)
	}
	out := logs.String()
	if n := strings.Count(out, "X-Forwarded-For sent by a peer"); n != 1 || !strings.Contains(out, "-trusted-proxies") || !strings.Contains(out, "peer=127.0.0.1") {
		t.Fatalf("want one warning naming the peer and -trusted-proxies, got %d:\n%s", n, out)
	}

	var quiet loadertest.LogBuffer
	h = newHarness(t, func(c *app.Config) {
		c.TrustedProxies = trustLoopback
		c.Logger = hclog.New(&hclog.LoggerOptions{Output: &quiet})
	})
	b = h.browser()
	b.Header.Set("X-Forwarded-For", "203.0.113.1")
	b.Do("GET", "/login", nil)
	if strings.Contains(quiet.String(), "X-Forwarded-For") {
		t.Fatalf("warned about a trusted proxy: %s", quiet.String())
	}
}
