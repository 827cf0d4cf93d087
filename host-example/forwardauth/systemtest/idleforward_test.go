package systemtest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A forward-auth session ends when the sign-in it was minted under ends: a sign-in not kept
// on its device that ends unused (-idle-timeout) or at its lifetime takes the protected apps
// with it, however long -session-lifetime would give the forward-auth session on its own; and
// its cookie, like the sign-in's, is a browser-session one.
func TestForwardSessionEndsWithItsSignIn(t *testing.T) {
	f := newFixture(t)
	f.st.SetClock(f.now)
	// What -idle-timeout 30m gives a sign-in not kept on its device.
	done, err := f.st.FinishLoginWith(context.Background(), store.User{SourceID: f.src.ID, Subject: "2"}, store.Event{Kind: "login_allowed"}, "",
		store.SessionTerms{Life: 12 * time.Hour, Slide: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	w := f.start("192.0.2.10", &http.Cookie{Name: "hx_session", Value: done.Token})
	var fwd *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "hx_forward" && c.Value != "" {
			fwd = c
		}
	}
	if fwd == nil {
		t.Fatalf("no forward-auth cookie: %d", w.Code)
	}
	if w := f.nginx(fwd.Value, "GET", "http://app.example.test/"); w.Code != http.StatusOK {
		t.Fatalf("the fresh forward-auth cookie: %d", w.Code)
	}
	// The sign-in's cookie is a browser-session one: so is the forward-auth cookie made of it
	// (closing the browser on a shared computer closes the apps too).
	if !fwd.Expires.IsZero() || fwd.MaxAge != 0 {
		t.Errorf("the forward-auth cookie of a sign-in not kept outlives the browser: expires %v, max-age %d", fwd.Expires, fwd.MaxAge)
	}
	f.advance(2 * time.Hour) // unused for two hours: the sign-in has ended
	if _, err := f.st.Session(context.Background(), done.Token); err == nil {
		t.Fatal("the idle host session is still live")
	}
	if w := f.nginx(fwd.Value, "GET", "http://app.example.test/"); w.Code == http.StatusOK {
		t.Fatalf("the forward-auth cookie still opens the app two hours after its sign-in ended unused: %d", w.Code)
	}
}

// The forward-auth cookie of a sign-in kept on its device is kept too, until its session ends.
func TestForwardCookieOfARememberedSignInIsKept(t *testing.T) {
	f := newFixture(t)
	f.st.SetClock(f.now)
	done, err := f.st.FinishLoginWith(context.Background(), store.User{SourceID: f.src.ID, Subject: "2"}, store.Event{Kind: "login_allowed"}, "",
		store.SessionTerms{Life: 365 * 24 * time.Hour, Slide: 30 * 24 * time.Hour, Remembered: true})
	if err != nil {
		t.Fatal(err)
	}
	w := f.start("192.0.2.10", &http.Cookie{Name: "hx_session", Value: done.Token})
	for _, c := range w.Result().Cookies() {
		if c.Name == "hx_forward" && c.Value != "" {
			if c.Expires.IsZero() || c.Expires.After(f.now().Add(12*time.Hour+time.Minute)) {
				t.Fatalf("the forward-auth cookie of a remembered sign-in: expires %v", c.Expires)
			}
			return
		}
	}
	t.Fatalf("no forward-auth cookie: %d", w.Code)
}
