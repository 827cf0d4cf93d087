package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// ownSessionEnd finds the End buttons of a profile's host sessions, newest first.
var ownSessionEnd = regexp.MustCompile(`action="(/profile/sessions/host/[^"]+)"`)

// A person ends one device from their profile: that browser is signed out, the other is not;
// another person cannot end it (not theirs), nor a page of another site (no CSRF token); the
// event says the person did it.
func TestProfileEndsOneDevice(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	here, there := h.browser(), h.browser()
	here.Login("plex", "friend")
	there.Login("plex", "friend")
	p := here.Get("/profile")
	ends := ownSessionEnd.FindAllStringSubmatch(p.Body, -1)
	if len(ends) != 2 {
		t.Fatalf("%d host sessions with an End button, want 2:\n%s", len(ends), p.Body)
	}
	end := ends[0][1]
	signedIn := func(b *browser) bool { return b.Get("/profile").Status == http.StatusOK }

	if p := here.Do("POST", end, url.Values{"csrf": {"0123456789abcdef0123456789abcdef"}}); p.Status != http.StatusForbidden {
		t.Fatalf("without this site's CSRF token: %d", p.Status)
	}
	other := h.browser()
	other.Login("plex", "google")
	if p := other.Do("POST", end, url.Values{"csrf": {other.Get("/profile").CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("another person's end: %d", p.Status)
	}
	if !signedIn(here) || !signedIn(there) {
		t.Fatal("a refused end ended a session")
	}

	if p := here.Do("POST", end, url.Values{"csrf": {here.Get("/profile").CSRF()}}); p.Status != http.StatusSeeOther || p.Location != "/profile" {
		t.Fatalf("end a device: %d %s", p.Status, p.Location)
	}
	if signedIn(here) == signedIn(there) {
		t.Fatalf("after ending one device: this browser signed in %v, the other %v; want exactly one", signedIn(here), signedIn(there))
	}
	events, err := h.store.Events(context.Background(), 20, "")
	if err != nil {
		t.Fatal(err)
	}
	ended := 0
	for _, e := range events {
		if e.Kind == store.EventSessionEnded {
			ended++
		}
	}
	if ended != 1 {
		t.Fatalf("%d session_ended events, want 1", ended)
	}
}
