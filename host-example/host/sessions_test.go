package host_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// sessionsOn are the sessions of a fresh store, behind the public URL pub, and a person of
// an enabled source signed in there (their login's cookie token).
func sessionsOn(t *testing.T, pub string) (*store.Store, *host.Sessions, *store.LoginDone) {
	t.Helper()
	st := openStore(t)
	ctx := context.Background()
	src, err := st.CreateSource(ctx, "demo", "demo", "Demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "1", Username: "ada"},
		store.Event{Kind: store.EventLoginAllowed}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pub)
	return st, host.NewSessions(st, u), done
}

// request is a request carrying the session cookie token ("": none).
func request(ss *host.Sessions, token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if token != "" {
		r.AddCookie(&http.Cookie{Name: ss.CookieName(), Value: token})
	}
	return r
}

// The cookie keeps its name and attributes: "__Host-" prefixed and Secure only behind https.
func TestSessionCookie(t *testing.T) {
	_, plain, _ := sessionsOn(t, "http://127.0.0.1:8080")
	_, secure, _ := sessionsOn(t, "https://id.example.test")
	exp := time.Unix(2000000000, 0)
	for _, c := range []struct {
		ss     *host.Sessions
		name   string
		secure bool
	}{{plain, "hx_session", false}, {secure, "__Host-hx_session", true}} {
		got := c.ss.Cookie("tok", exp)
		if got.Name != c.name || got.Value != "tok" || got.Path != "/" || !got.HttpOnly || got.SameSite != http.SameSiteLaxMode ||
			got.Secure != c.secure || !got.Expires.Equal(exp) || got.Domain != "" {
			t.Errorf("cookie: %+v", got)
		}
		clear := c.ss.ClearCookie()
		if clear.Name != c.name || clear.MaxAge != -1 || clear.Value != "" || clear.Path != "/" || !clear.HttpOnly || clear.Secure != c.secure {
			t.Errorf("clearing cookie: %+v", clear)
		}
	}
}

// A request loads its stored session, else its cookie's anonymous one (nothing stored, the
// same id and CSRF token for the same cookie); no cookie, an empty or an overlong one is none.
func TestSessionLoadAndAnonymous(t *testing.T) {
	_, ss, done := sessionsOn(t, "http://127.0.0.1")
	sess, err := ss.Load(request(ss, done.Token))
	if err != nil || sess == nil || sess.UserID != done.UserID {
		t.Fatalf("the login's session: %+v %v", sess, err)
	}
	for _, token := range []string{"", strings.Repeat("a", 129)} {
		if sess, err := ss.Load(request(ss, token)); sess != nil || err != nil {
			t.Errorf("cookie %q loaded %+v %v", token, sess, err)
		}
	}
	token, anon := ss.Anonymous()
	again, err := ss.Load(request(ss, token))
	if err != nil || again == nil || again.UserID != 0 || again.ID != anon.ID || again.CSRF != anon.CSRF || anon.CSRF == "" {
		t.Fatalf("anonymous session %+v loaded as %+v %v", anon, again, err)
	}
	other, _ := ss.Anonymous()
	if o, _ := ss.Of(context.Background(), other); o.ID == anon.ID || o.CSRF == anon.CSRF {
		t.Error("two anonymous sessions share an id or a CSRF token")
	}
	if _, _, ok := ss.SignedIn(request(ss, token)); ok || ss.SessionID(request(ss, token)) != "" {
		t.Error("an anonymous session is signed in")
	}
}

// A session started in a browser ends the one the browser had (no session fixation), as the
// login's finish does with the same replaced id.
func TestSessionStartEndsTheReplacedOne(t *testing.T) {
	st, ss, done := sessionsOn(t, "http://127.0.0.1")
	ctx := context.Background()
	r := request(ss, done.Token)
	token, sess, err := ss.Start(ctx, ss.Replaced(r), 0, true, time.Hour)
	if err != nil || !sess.Admin || sess.UserID != 0 {
		t.Fatalf("start: %+v %v", sess, err)
	}
	if old, err := ss.Load(r); err != nil || old.UserID != 0 {
		t.Fatalf("the replaced session still loads: %+v %v", old, err)
	}
	if got, err := ss.Load(request(ss, token)); err != nil || got.ID != sess.ID || !got.Admin {
		t.Fatalf("the new session: %+v %v", got, err)
	}
	// A login finishing in the admin's browser replaces that session the same way.
	admin := request(ss, token)
	src, err := st.SourceBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "2", Username: "bo"}, store.Event{Kind: store.EventLoginAllowed},
		ss.Replaced(admin), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.Load(admin); err != nil || got.Admin {
		t.Fatalf("the session a login replaced still loads: %+v %v", got, err)
	}
	if ss.Replaced(request(ss, "")) != "" {
		t.Error("a browser without a cookie replaces a session")
	}
}

// SignedIn and SessionID answer for the person's live session; EndUserSession ends it only
// for its own person; End ends it; a disabled person is signed in nowhere.
func TestSessionSignedInAndEnd(t *testing.T) {
	st, ss, done := sessionsOn(t, "http://127.0.0.1")
	ctx := context.Background()
	r := request(ss, done.Token)
	u, auth, ok := ss.SignedIn(r)
	sess, _ := ss.Load(r)
	if !ok || u.ID != done.UserID || auth.IsZero() || ss.SessionID(r) != sess.ID || sess.ID == "" {
		t.Fatalf("signed in: %+v %v %v %q", u, auth, ok, ss.SessionID(r))
	}
	ss.EndUserSession(r, done.UserID+1)
	if _, _, ok := ss.SignedIn(r); !ok {
		t.Fatal("another person's EndUserSession ended the session")
	}
	ss.EndUserSession(r, done.UserID)
	if _, _, ok := ss.SignedIn(r); ok || ss.SessionID(r) != "" {
		t.Fatal("the session outlived EndUserSession")
	}

	token, sess, err := ss.Start(ctx, "", done.UserID, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r = request(ss, token)
	if err := st.SetDisabled(ctx, done.UserID, true, store.DisabledByAdmin); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ss.SignedIn(r); ok {
		t.Fatal("a disabled person is signed in")
	}
	if err := st.SetDisabled(ctx, done.UserID, false, ""); err != nil {
		t.Fatal(err)
	}
	if err := ss.End(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ss.SignedIn(r); ok {
		t.Fatal("the session outlived End")
	}
}

// An admin session upgraded from a person's stands on the same sign-in; an ended session is
// not upgraded.
func TestSessionUpgrade(t *testing.T) {
	_, ss, done := sessionsOn(t, "http://127.0.0.1")
	ctx := context.Background()
	old, err := ss.Load(request(ss, done.Token))
	if err != nil {
		t.Fatal(err)
	}
	token, sess, err := ss.Upgrade(ctx, old, time.Hour)
	if err != nil || !sess.Admin || sess.UserID != done.UserID || !sess.AuthTime.Equal(old.AuthTime) {
		t.Fatalf("upgrade: %+v %v", sess, err)
	}
	if got, _ := ss.Load(request(ss, done.Token)); got.UserID != 0 {
		t.Fatal("the upgraded session still loads")
	}
	if _, _, err := ss.Upgrade(ctx, old, time.Hour); !errors.Is(err, store.ErrAccessEnded) {
		t.Fatalf("upgrading an ended session: %v", err)
	}
	if got, err := ss.Load(request(ss, token)); err != nil || got.ID != sess.ID {
		t.Fatalf("the admin session: %+v %v", got, err)
	}
}
