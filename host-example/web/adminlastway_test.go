package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// With the local password off, the only way in is the sign-in through the source of the last
// source admin's grant. An admin session (the local admin's, which outlives the password being
// turned off, or any other) cannot take it away: turning off or deleting that source, or
// turning off or deleting that person, is refused until the password is on again, as grants
// without that person's grant are. Another person is turned off as before.
func TestLastWayInIsKeptWhileThePasswordIsOff(t *testing.T) {
	clock := newTestClock()
	h, owner := proofHarness(t, clock)
	ctx := context.Background()
	if p := owner.grantsPost("admins", url.Values{"proof_password": {adminPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the grant: %d %s", p.Status, p.Body)
	}
	if p := h.browser().Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("the friend's sign-in: %d %s", p.Status, p.Body)
	}
	src := h.browser()
	if p := h.sourceAdminSignIn(src, "owner"); p.Status != http.StatusSeeOther {
		t.Fatalf("the source admin: %d", p.Status)
	}
	if p := owner.securityPost("/admin/security/password/off", url.Values{"proof_password": {adminPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the password off: %d %s", p.Status, p.Body)
	}
	ids := map[string]int64{}
	users, _ := h.store.Users(ctx)
	for _, u := range users {
		ids[u.Username] = u.ID
	}
	srcPath := "/admin/sources/" + h.source.ID
	person := func(name string) string { return "/admin/users/" + strconv.FormatInt(ids[name], 10) }
	post := func(b *browser, path string, form url.Values) page {
		t.Helper()
		form.Set("csrf", b.Do("GET", "/admin", nil).CSRF())
		return b.Do("POST", path, form)
	}
	refused := func(b *browser, path string, form url.Values, what string) {
		t.Helper()
		p := post(b, path, form)
		if p.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", what, p.Status, p.Body)
		}
		if shown := b.Do("GET", p.Location, nil); !strings.Contains(shown.Body, "turn the local password on first") {
			t.Fatalf("%s: no refusal shown at %s:\n%s", what, p.Location, shown.Body)
		}
		s, err := h.store.Source(ctx, h.source.ID)
		u, err2 := h.store.User(ctx, ids["owner"])
		if err != nil || err2 != nil || !s.Enabled || u.Disabled {
			t.Fatalf("%s: the way in was taken away (source %v %v, person %v %v)", what, s, err, u, err2)
		}
	}
	for _, b := range []*browser{owner, src} { // the local admin's session, and the source admin's own
		refused(b, srcPath+"/enabled", url.Values{"enabled": {"0"}}, "the source off")
		refused(b, srcPath+"/delete", url.Values{}, "the source deleted")
		refused(b, person("owner")+"/disabled", url.Values{"disabled": {"1"}, "back": {"person"}}, "the person off")
		refused(b, person("owner")+"/delete", url.Values{}, "the person deleted")
	}
	// Someone else is turned off as before.
	if p := post(owner, person("frank")+"/disabled", url.Values{"disabled": {"1"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("another person off: %d", p.Status)
	}
	if u, _ := h.store.User(ctx, ids["frank"]); !u.Disabled {
		t.Fatal("another person was not turned off")
	}
	// Once the password is on again (the source admin's fresh sign-in is the proof), the source goes off.
	if p := src.securityPost("/admin/security/password/on", url.Values{"password": {"a-password-again"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the password on: %d %s", p.Status, p.Body)
	}
	if p := post(owner, srcPath+"/enabled", url.Values{"enabled": {"0"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the source off with the password on: %d", p.Status)
	}
	if s, _ := h.store.Source(ctx, h.source.ID); s.Enabled {
		t.Fatal("the source is still on with the password on")
	}
}
