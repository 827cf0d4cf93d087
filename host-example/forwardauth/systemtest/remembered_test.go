package systemtest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The forward-auth cookie keeps its own life under a host session kept on its device: when
// it expires while that session lives, the start page mints a new one without a sign-in.
func TestForwardCookieIsRemintedUnderARememberedSession(t *testing.T) {
	f := newFixture(t)
	f.st.SetClock(f.now)
	done, err := f.st.FinishLoginWith(context.Background(), store.User{SourceID: f.src.ID, Subject: "2"}, store.Event{Kind: "login_allowed"}, "",
		store.SessionTerms{Life: 365 * 24 * time.Hour, Slide: 30 * 24 * time.Hour, Remembered: true})
	if err != nil {
		t.Fatal(err)
	}
	hostCookie := &http.Cookie{Name: "hx_session", Value: done.Token}
	forward := func(w *http.Response) *http.Cookie {
		t.Helper()
		for _, c := range w.Cookies() {
			if c.Name == "hx_forward" && c.Value != "" {
				return c
			}
		}
		t.Fatalf("no forward-auth cookie: %d %v", w.StatusCode, w.Cookies())
		return nil
	}
	first := forward(f.start("192.0.2.10", hostCookie).Result())
	if w := f.nginx(first.Value, "GET", "http://app.example.test/"); w.Code != http.StatusOK {
		t.Fatalf("the first forward-auth cookie: %d", w.Code)
	}
	f.advance(13 * time.Hour) // the forward-auth session's 12 hours are over; the host session lives
	if w := f.nginx(first.Value, "GET", "http://app.example.test/"); w.Code != http.StatusUnauthorized {
		t.Fatalf("an expired forward-auth cookie: %d", w.Code)
	}
	w := f.start("192.0.2.10", hostCookie, first)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "http://app.example.test/" {
		t.Fatalf("start with the host session alive: %d %s", w.Code, w.Header().Get("Location"))
	}
	again := forward(w.Result())
	if w := f.nginx(again.Value, "GET", "http://app.example.test/"); w.Code != http.StatusOK {
		t.Fatalf("the re-minted cookie: %d", w.Code)
	}
	sess, err := f.st.Session(context.Background(), done.Token)
	if err != nil || !sess.Remembered {
		t.Fatalf("the host session: %+v %v", sess, err)
	}
}
