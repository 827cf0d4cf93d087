package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// from is a new browser whose requests come from addr (through the trusted proxy).
func (h *harness) from(addr string) *browser {
	b := h.browser()
	b.Header.Set("X-Forwarded-For", addr)
	return b
}

// A flood of login starts from many addresses of one IPv6 /48, each a new browser, asks
// plex.tv for no more PINs than the budget, leaves the stored starts bounded, and leaves the
// reserve to the others: a browser of another network, a person signed in from inside the
// flooding /48, and a browser there that signed in before and signed out, still start and
// finish a login.
func TestLoginStartFloodFromOneSiteIsBounded(t *testing.T) {
	limits := host.StartLimits{PerMinute: 40, Reserve: 10, PerNetwork: 5, MaxOpen: 15}
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback; c.LoginStarts = limits })
	h.addSource(membersConfig)
	insider := h.from("2001:db8:1:ffff::1")
	if p := insider.Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("the insider's first login: %d %s", p.Status, p.Location)
	}
	returning := h.from("2001:db8:1:fffe::1")
	returning.Login("plex", "friend")
	p := returning.Do("GET", "/profile", nil)
	if p = returning.Do("POST", "/logout", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.Status)
	}
	h.sim.ResetCounts()
	refused := 0
	for i := range 60 {
		switch status := h.from(fmt.Sprintf("2001:db8:1:%x::1", i)).beginLogins(1, nil); status {
		case http.StatusSeeOther:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("flood start %d: %d", i, status)
		}
	}
	if n := h.sim.Counts()["pins.create"]; refused == 0 || n > limits.PerMinute {
		t.Fatalf("the flood: %d refused, %d PINs asked of plex.tv (budget %d)", refused, n, limits.PerMinute)
	}
	if n, err := h.store.CountLoginStarts(context.Background()); err != nil || n > limits.MaxOpen {
		t.Fatalf("%d login starts stored (%v), bound %d", n, err, limits.MaxOpen)
	}
	if p := h.from("198.51.100.7").Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("a browser of another network during the flood: %d %s", p.Status, p.Location)
	}
	if p := insider.Login("plex", "owner"); p.Location != "/" {
		t.Fatalf("a signed-in person inside the flooding network: %d %s", p.Status, p.Location)
	}
	if p := returning.Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("a browser that signed in before, inside the flooding network: %d %s", p.Status, p.Location)
	}
}

// When plex.tv answers 429, the networks that were starting more than their share pause
// (without asking plex.tv) and the page says so, while a browser of a quiet network still
// starts: a 429 no longer pauses every sign-in for everyone.
func TestUpstreamRateLimitPausesOnlyBusyNetworks(t *testing.T) {
	h := newHarness(t, func(c *app.Config) {
		c.TrustedProxies = trustLoopback
		c.LoginStarts = host.StartLimits{PerNetwork: 2}
	})
	h.addSource(membersConfig)
	if last := h.from("2001:db8:1:1::1").beginLogins(3, nil); last != http.StatusSeeOther {
		t.Fatalf("a busy network while the budget is plentiful: %d", last)
	}
	h.sim.Inject("pins.create", plexsim.FaultRateLimit, 3) // the plugin tries more than once
	if last := h.from("2001:db8:1:2::1").beginLogins(1, nil); last != http.StatusServiceUnavailable {
		t.Fatalf("plex.tv 429: %d", last)
	}
	h.sim.ClearFaults()
	h.sim.ResetCounts()
	b := h.from("2001:db8:1:3::1")
	p := b.Do("GET", "/login", nil)
	p = b.Do("POST", "/login/plex", url.Values{"csrf": {p.CSRF()}})
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "busy networks are paused") {
		t.Fatalf("the busy network after the 429: %d %s", p.Status, p.Body)
	}
	if n := h.sim.Counts()["pins.create"]; n != 0 {
		t.Fatalf("plex.tv asked %d times for the busy network during the pause", n)
	}
	if p := h.from("198.51.100.7").Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("a quiet network during the pause: %d %s", p.Status, p.Location)
	}
}

// Review of issue 28 (L1): the quiet share of the budget is the person's, not each browser's.
// One person who signs in from eight fresh cookie jars (one address) and then starts logins
// from all of them takes one share, not eight: the reserve stays for a browser of a quiet
// network and for the owner.
func TestKnownBrowsersOfOnePersonShareOneShare(t *testing.T) {
	limits := host.StartLimits{PerMinute: 40, Reserve: 10, PerNetwork: 5, MaxOpen: 15}
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback; c.LoginStarts = limits })
	h.addSource(membersConfig)
	var farmed []*browser
	for i := range 8 {
		b := h.from("203.0.113.9")
		if p := b.Login("plex", "friend"); p.Location != "/" {
			t.Fatalf("sign-in %d from a fresh browser: %d %s", i, p.Status, p.Location)
		}
		p := b.Do("GET", "/profile", nil)
		if p = b.Do("POST", "/logout", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
			t.Fatalf("sign out %d: %d", i, p.Status)
		}
		farmed = append(farmed, b)
	}
	started := 0
	for range 10 {
		for _, b := range farmed {
			if b.beginLogins(1, nil) == http.StatusSeeOther {
				started++
			}
		}
	}
	if started == 0 {
		t.Fatal("the person's known browsers started nothing: they are not known")
	}
	if status := h.from("198.51.100.7").beginLogins(1, nil); status != http.StatusSeeOther {
		t.Errorf("a browser of a quiet network after one person's %d starts from 8 browsers: %d", started, status)
	}
	if p := h.from("192.0.2.77").Login("plex", "owner"); p.Location != "/" {
		t.Errorf("the owner from a quiet network after one person's %d starts from 8 browsers: %d %s", started, p.Status, p.Location)
	}
}
