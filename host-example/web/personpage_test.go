package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The person page renders whole, its events as facts: a template error would cut it off at
// the first event (the page then lacks its end).
func TestPersonPageRendersItsEvents(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(ssoConfig)
	h.browser().Login("plex", "friend")
	_, uid := kept(t, h)
	frank, err := h.store.User(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.AddEvent(context.Background(), store.Event{SourceID: frank.SourceID, Kind: store.EventLoginDenied, Subject: frank.Subject,
		Name: frank.Username, Reason: "not_a_member", Detail: "mode=members | servers checked: 2"}); err != nil {
		t.Fatal(err)
	}
	// Issue 28 #7: a hand-over, as forward-auth records it.
	if err := h.store.AddEvent(context.Background(), store.Event{SourceID: frank.SourceID, Kind: store.EventCredentialHandedOver, Subject: frank.Subject,
		Name: frank.Username, Detail: "kind=plex.token | origin=https://plexweb.example.test | client=203.0.113.9 | navigation=unknown"}); err != nil {
		t.Fatal(err)
	}
	a := h.browser()
	a.AdminLogin(adminPassword)
	p := a.Do("GET", "/admin/users/"+strconv.FormatInt(uid, 10), nil)
	for _, want := range []string{"Servers checked: 2", "Reason: Not a member", "Signed in", "Sign-in handed to an app",
		"Origin: https://plexweb.example.test", "Client: 203.0.113.9", "Navigation: unknown", `id="person-events"`, "All their events", "</html>"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the person page lacks %q:\n%s", want, p.Body[max(0, len(p.Body)-1500):])
		}
	}
}
