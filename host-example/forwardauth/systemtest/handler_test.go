package systemtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/host-example/web"
)

// fixture is a store with one enabled source, two users, rules, the real web server for the
// host's sessions, and forward-auth with a clock the test moves.
type fixture struct {
	t        testing.TB
	dir      string
	st       *store.Store
	src      *store.Source
	srv      *web.Server
	sessions *host.Sessions
	fa       *forwardauth.Service
	mu       sync.Mutex
	clock    time.Time
	owner    int64 // in plex-owner
	friend   int64 // in plex-friend only
	ownerTok string
	counted  []string // hand-overs the metrics were told of: kind/navigation
}

const ttl = 30 * time.Second

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clock: time.Now()}
	st, err := store.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	ctx := context.Background()
	if f.src, err = st.CreateSource(ctx, "plex", "plex", "Plex"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, f.src.ID, true); err != nil {
		t.Fatal(err)
	}
	f.owner = f.user("1", "olivia", "Olivia Owner", "olivia@example.test", "plex-owner", "bad,group", "evil\r\nX-Injected: 1")
	f.friend = f.user("2", "frank", "Frank Friend", "frank@example.test", "plex-friend")
	for _, r := range []store.ForwardRule{
		{Host: "app.example.test"},
		{Host: "app.example.test", PathPrefix: "/admin", Groups: []string{"plex-owner"}},
		{Host: "app.example.test", PathPrefix: "/api", Bypass: []string{"/api/hooks"}, BypassOptions: true},
	} {
		if errs := forwardauth.CheckRule(&r); len(errs) > 0 {
			t.Fatal(errs)
		}
		if _, err := st.PutForwardRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	pub, _ := url.Parse("http://auth.example.test")
	a, err := app.New(ctx, app.Config{PublicURL: pub, Store: st, CookieDomain: "example.test", ForwardCache: ttl, Clock: f.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	f.srv, f.fa, f.sessions = a.Web, a.Forward, a.Sessions
	f.ownerTok = f.forwardToken(f.owner)
	return f
}

func (f *fixture) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.clock }
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

func (f *fixture) user(sub, username, name, email string, groups ...string) int64 {
	done, err := f.st.FinishLogin(context.Background(), store.User{SourceID: f.src.ID, Subject: sub, Username: username, Name: name,
		Email: email, Groups: groups}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return done.UserID
}

func (f *fixture) forwardToken(uid int64) string {
	_, sess, err := f.st.CreateSession(context.Background(), uid, false, time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	tok, _, err := forwardauth.StartSession(context.Background(), f.st, sess.ID, time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// ask is the proxy's subrequest: path is the endpoint, hdr the proxy's headers, token the forward-auth cookie.
func (f *fixture) ask(path, token string, hdr map[string]string) *httptest.ResponseRecorder {
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	return f.askHeader(path, token, h)
}

// nginx asks the nginx endpoint as the documented configuration does: X-Original-URL,
// X-Original-Method, and X-Original-Host ($host: the URL's host without its port).
func (f *fixture) nginx(token, method, u string) *httptest.ResponseRecorder {
	host := ""
	if pu, err := url.Parse(u); err == nil {
		host = pu.Hostname()
	}
	return f.ask(forwardauth.NginxPath, token, map[string]string{"X-Original-URL": u, "X-Original-Method": method, "X-Original-Host": host})
}

func TestNginxAnswers(t *testing.T) {
	f := newFixture(t)
	friendTok := f.forwardToken(f.friend)
	cases := []struct {
		name, token, method, url string
		want                     int
		user                     string
	}{
		{"no cookie", "", "GET", "http://app.example.test/movies?x=1", 401, ""},
		{"forged cookie", strings.Repeat("a", 64) + "." + strings.Repeat("b", 32), "GET", "http://app.example.test/", 401, ""},
		{"garbage cookie", "x", "GET", "http://app.example.test/", 401, ""},
		{"member", f.ownerTok, "GET", "http://app.example.test/", 200, "olivia"},
		{"any user", friendTok, "GET", "http://app.example.test/", 200, "frank"},
		{"not in the groups", friendTok, "GET", "http://app.example.test/admin/users", 403, ""},
		{"traversal to admin", friendTok, "GET", "http://app.example.test/public/%2e%2e/admin", 403, ""},
		{"double slash to admin", friendTok, "GET", "http://app.example.test//admin", 403, ""},
		{"adminx is not admin", friendTok, "GET", "http://app.example.test/adminx", 200, "frank"},
		{"group member on admin", f.ownerTok, "GET", "http://app.example.test/admin", 200, "olivia"},
		{"unknown host", f.ownerTok, "GET", "http://other.example.test/", 403, ""},
		{"host by another name", f.ownerTok, "GET", "http://app.example.test.evil/", 403, ""},
		{"bypass", "", "POST", "http://app.example.test/api/hooks/sonarr", 200, ""},
		{"bypass boundary", "", "POST", "http://app.example.test/api/hooksx", 401, ""},
		{"preflight", "", "OPTIONS", "http://app.example.test/api/v1", 200, ""},
		{"no preflight bypass elsewhere", "", "OPTIONS", "http://app.example.test/", 401, ""},
		{"unreadable path", f.ownerTok, "GET", "http://app.example.test/a%00b", 403, ""},
		{"no target", f.ownerTok, "GET", "", 403, ""},
		{"userinfo host", f.ownerTok, "GET", "http://x@app.example.test/", 403, ""},
		{"not http", f.ownerTok, "GET", "ftp://app.example.test/", 403, ""},
	}
	for _, c := range cases {
		w := f.nginx(c.token, c.method, c.url)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.want)
			continue
		}
		switch w.Code {
		case 200:
			for _, h := range []string{"Remote-User", "Remote-Name", "Remote-Email", "Remote-Groups", "Remote-Id"} {
				if _, ok := w.Header()[h]; !ok {
					t.Errorf("%s: no %s header (an empty one must be sent)", c.name, h)
				}
			}
			if got := w.Header().Get("Remote-User"); got != c.user {
				t.Errorf("%s: Remote-User %q, want %q", c.name, got, c.user)
			}
		case 401:
			loc, err := url.Parse(w.Header().Get("Location"))
			if err != nil || loc.Host != "auth.example.test" || loc.Path != forwardauth.StartPath || loc.Query().Get("rd") != c.url {
				t.Errorf("%s: Location %q, want the start page returning to %s", c.name, w.Header().Get("Location"), c.url)
			}
		}
	}
	w := f.nginx(f.ownerTok, "GET", "http://app.example.test/")
	if got := w.Header().Get("Remote-Groups"); got != "plex-owner" {
		t.Errorf("Remote-Groups %q: a group with a comma or a newline must be left out", got)
	}
	if got := w.Header().Get("Remote-Email") + w.Header().Get("Remote-Name"); got != "olivia@example.testOlivia Owner" {
		t.Errorf("identity headers %q", got)
	}
}

func TestTraefikAndCaddyRedirect(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{forwardauth.TraefikPath, forwardauth.CaddyPath} {
		hdr := map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.test",
			"X-Forwarded-Uri": "/shows?page=2"}
		w := f.ask(p, "", hdr)
		loc, _ := url.Parse(w.Header().Get("Location"))
		if w.Code != http.StatusFound || loc == nil || loc.Query().Get("rd") != "https://app.example.test/shows?page=2" {
			t.Errorf("%s anonymous: %d %q", p, w.Code, w.Header().Get("Location"))
		}
		if w := f.ask(p, f.ownerTok, hdr); w.Code != 200 || w.Header().Get("Remote-User") != "olivia" {
			t.Errorf("%s signed in: %d %q", p, w.Code, w.Header().Get("Remote-User"))
		}
		hdr["X-Forwarded-Uri"] = "/admin/../admin/x"
		if w := f.ask(p, f.forwardToken(f.friend), hdr); w.Code != 403 {
			t.Errorf("%s non-member on /admin: %d", p, w.Code)
		}
	}
}

func TestRevocationWithinTheBound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const app = "http://app.example.test/"
	if w := f.nginx(f.ownerTok, "GET", app); w.Code != 200 {
		t.Fatalf("before: %d", w.Code)
	}
	// Through this process: seen at the next request.
	if err := f.st.SetDisabled(ctx, f.owner, true, store.DisabledByAdmin); err != nil {
		t.Fatal(err)
	}
	if w := f.nginx(f.ownerTok, "GET", app); w.Code != 401 {
		t.Fatalf("disabled user: %d, want 401", w.Code)
	}
	_ = f.st.SetDisabled(ctx, f.owner, false, "")
	tok := f.forwardToken(f.owner)
	if w := f.nginx(tok, "GET", app); w.Code != 200 {
		t.Fatalf("re-enabled, new session: %d", w.Code)
	}
	if err := f.st.SetEnabled(ctx, f.src.ID, false); err != nil {
		t.Fatal(err)
	}
	if w := f.nginx(tok, "GET", app); w.Code != 401 {
		t.Fatalf("disabled source: %d, want 401", w.Code)
	}
	_ = f.st.SetEnabled(ctx, f.src.ID, true)

	// Through another process on the same database: the cached answer is used (no read per
	// request) until the bound, then the change is seen.
	tok = f.forwardToken(f.friend)
	if w := f.nginx(tok, "GET", app); w.Code != 200 {
		t.Fatalf("friend: %d", w.Code)
	}
	other, err := store.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.SetDisabled(ctx, f.friend, true, store.DisabledByAdmin); err != nil {
		t.Fatal(err)
	}
	f.advance(ttl - time.Second)
	if w := f.nginx(tok, "GET", app); w.Code != 200 {
		t.Fatalf("within the bound the cached answer is used: %d", w.Code)
	}
	f.advance(time.Second)
	if w := f.nginx(tok, "GET", app); w.Code != 401 {
		t.Fatalf("after the bound: %d, want 401", w.Code)
	}
}

func TestLogoutEndsBothSessions(t *testing.T) {
	f := newFixture(t)
	done, err := f.st.FinishLogin(context.Background(), store.User{SourceID: f.src.ID, Subject: "1"}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hostCookie := &http.Cookie{Name: "hx_session", Value: done.Token}
	// The start page: signed in to the host, the browser gets the forward-auth cookie and goes back.
	r := httptest.NewRequest("GET", "http://auth.example.test"+forwardauth.StartPath+"?rd="+url.QueryEscape("http://app.example.test/x?y=1"), nil)
	r.AddCookie(hostCookie)
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "http://app.example.test/x?y=1" {
		t.Fatalf("start: %d %q", w.Code, w.Header().Get("Location"))
	}
	var fwd *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "hx_forward" {
			fwd = c
		}
	}
	if fwd == nil || fwd.Domain != "example.test" || !fwd.HttpOnly || fwd.SameSite != http.SameSiteLaxMode {
		t.Fatalf("forward-auth cookie %+v", fwd)
	}
	// It is not a host session: no profile, no admin.
	r = httptest.NewRequest("GET", "http://auth.example.test/profile", nil)
	r.AddCookie(&http.Cookie{Name: "hx_session", Value: fwd.Value})
	if _, _, ok := f.sessions.SignedIn(r); ok {
		t.Fatal("the forward-auth token opened a host session")
	}
	if w := f.nginx(fwd.Value, "GET", "http://app.example.test/"); w.Code != 200 {
		t.Fatalf("after start: %d", w.Code)
	}
	// Back at the start with that cookie (a proxy looping here): no second session.
	r = httptest.NewRequest("GET", "http://auth.example.test"+forwardauth.StartPath+"?rd="+url.QueryEscape("http://app.example.test/"), nil)
	r.AddCookie(hostCookie)
	r.AddCookie(fwd)
	w = httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 0 {
		t.Fatalf("start again with a live cookie: %d, cookies %v", w.Code, w.Result().Cookies())
	}
	// The host's log-out (with its CSRF token) ends the forward-auth session too.
	sess, err := f.st.Session(context.Background(), done.Token)
	if err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest("POST", "http://auth.example.test/logout", strings.NewReader(url.Values{"csrf": {sess.CSRF}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(hostCookie)
	r.AddCookie(fwd)
	w = httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", w.Code)
	}
	cleared := false
	for _, c := range w.Result().Cookies() {
		cleared = cleared || (c.Name == "hx_forward" && c.MaxAge < 0 && c.Domain == "example.test")
	}
	if !cleared {
		t.Error("log-out did not clear the forward-auth cookie")
	}
	if w := f.nginx(fwd.Value, "GET", "http://app.example.test/"); w.Code != 401 {
		t.Fatalf("after log-out: %d, want 401", w.Code)
	}
}

func TestStartRefusesForeignReturnAndSendsStrangersToLogin(t *testing.T) {
	f := newFixture(t)
	get := func(rd string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, httptest.NewRequest("GET", "http://auth.example.test"+forwardauth.StartPath+"?rd="+url.QueryEscape(rd), nil))
		return w
	}
	for _, rd := range []string{"https://evil.com/", "//evil.com", "javascript:alert(1)", "https://app.example.test@evil.com/",
		"https://evilexample.test/", ""} {
		if w := get(rd); w.Code != http.StatusBadRequest {
			t.Errorf("rd %q: %d, want 400", rd, w.Code)
		}
	}
	w := get("http://app.example.test/a?b=c")
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?return=") {
		t.Fatalf("anonymous start: %d %q", w.Code, loc)
	}
	back, _ := url.Parse(loc)
	if ret := back.Query().Get("return"); ret != forwardauth.StartPath+"?rd="+url.QueryEscape("http://app.example.test/a?b=c") {
		t.Fatalf("login returns to %q", ret)
	}
}

func TestCookieDomain(t *testing.T) {
	for _, c := range []struct {
		host, domain, want string
	}{
		{"auth.example.com", "example.com", "example.com"},
		{"auth.example.com", ".Example.COM", "example.com"},
		{"auth.example.com", "auth.example.com", "auth.example.com"},
		{"auth.home.example.co.uk", "example.co.uk", "example.co.uk"},
		{"auth.example.com", "co.uk", ""},
		{"auth.example.co.uk", "co.uk", ""},
		{"auth.example.com", "com", ""},
		{"auth.example.com", "other.com", ""},
		{"auth.example.com", "ample.com", ""},
		{"auth.example.com", "xample.com", ""},
		{"app.github.io", "github.io", ""}, // a private public suffix
		{"127.0.0.1", "127.0.0.1", ""},
		{"localhost", "localhost", ""},
		{"auth.example.com", "", ""},
	} {
		got, err := forwardauth.CheckCookieDomain(c.host, c.domain)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("host %s domain %q: %q %v, want %q", c.host, c.domain, got, err, c.want)
		}
	}
}

func TestCheckRule(t *testing.T) {
	for _, c := range []struct {
		in       store.ForwardRule
		wantHost string
		wantPath string
		errs     int
	}{
		{store.ForwardRule{Host: " Sonarr.Example.COM. "}, "sonarr.example.com", "", 0},
		{store.ForwardRule{Host: "app.example.com:443", PathPrefix: "/admin/"}, "app.example.com", "/admin", 0},
		{store.ForwardRule{Host: "app.example.com:8443", PathPrefix: "/"}, "app.example.com:8443", "", 0},
		{store.ForwardRule{Host: "bücher.example"}, "xn--bcher-kva.example", "", 0},
		{store.ForwardRule{Host: ""}, "", "", 1},
		{store.ForwardRule{Host: "https://app.example.com/"}, "", "", 1},
		{store.ForwardRule{Host: "app.example.com:99999"}, "", "", 1},
		{store.ForwardRule{Host: "app.example.com", PathPrefix: "admin"}, "app.example.com", "", 1},
		{store.ForwardRule{Host: "app.example.com", PathPrefix: "/public/../admin"}, "app.example.com", "", 1},
		{store.ForwardRule{Host: "app.example.com", PathPrefix: "/%61dmin"}, "app.example.com", "", 1},
		{store.ForwardRule{Host: "app.example.com", Groups: []string{"a,b"}}, "app.example.com", "", 1},
		{store.ForwardRule{Host: "app.example.com", PathPrefix: "/api", Bypass: []string{"/web"}}, "app.example.com", "/api", 1},
		{store.ForwardRule{Host: "app.example.com", PathPrefix: "/api", Bypass: []string{"/api"}}, "app.example.com", "/api", 1},
		{store.ForwardRule{Host: "app.example.com", Bypass: []string{"/"}}, "app.example.com", "", 1},
		{store.ForwardRule{Host: "app.example.com", PathPrefix: "/api", Bypass: []string{"/api/v1/"}}, "app.example.com", "/api", 0},
	} {
		r := c.in
		errs := forwardauth.CheckRule(&r)
		if len(errs) != c.errs || (c.errs == 0 && (r.Host != c.wantHost || r.PathPrefix != c.wantPath)) {
			t.Errorf("%+v: host %q path %q errors %q", c.in, r.Host, r.PathPrefix, errs)
		}
	}
}
