package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Probe (review of issue 31 §3): an admin grant names the first source and a group its
// mapping gave frank at an earlier sign-in through it. The first household then takes his
// share away (its source would now refuse him); he signs in through Hank's source only. The
// fresh sign-in of the admin's source door must be one "in which the source an admin grant
// names gave the grant's group" (docs/security.md): a sign-in through another source must not
// open the admin through the first source's grant with a group that source gave earlier.
func TestProbeJoinedSourceSignInOpensNoOtherSourcesGrant(t *testing.T) {
	clock := newTestClock()
	h := newHarness(t, func(c *app.Config) { c.Clock = clock.now })
	h.store.SetClock(clock.now)
	first := h.addSource(membersConfig)
	h.sim.SetShare("friend", plexsim.ServerElsewhere, true)
	h.srv.AddSource("plex", "hanks", "Hank's Plex", hanksConfig, h.sim.Token("otherhome"))
	if err := host.NewAdmin(h.store, nil).SetGrants(t.Context(), []host.Grant{{SourceID: first.ID, Group: "plex-server:Living Room"}}); err != nil {
		t.Fatal(err)
	}
	if p := h.browser().Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through the first source: %d %s", p.Status, p.Body)
	}
	clock.advance(2 * time.Second) // later (hours in life: re-validation has not run yet)
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	viaHanks := h.browser()
	if p := viaHanks.Login("hanks", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through Hank's source: %d %s", p.Status, p.Body)
	}
	viaHanks.Do("POST", "/admin/login/source", url.Values{"csrf": {viaHanks.Do("GET", "/admin/login/source", nil).CSRF()}})
	if p := viaHanks.Do("GET", "/admin/users", nil); p.Status == http.StatusOK {
		t.Fatal("a sign-in through Hank's source opened the admin through the first source's grant (a group it gave at an earlier sign-in; it now refuses him)")
	}
	// A fresh sign-in through the grant's source still opens it.
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, true)
	clock.advance(2 * time.Second)
	viaFirst := h.browser()
	if p := viaFirst.Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank through the first source again: %d %s", p.Status, p.Body)
	}
	if p := h.openAdminThroughSource(viaFirst); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("a fresh sign-in through the grant's source: %d %s", p.Status, p.Location)
	}
}
