package systemtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// askHeader is the proxy's subrequest with every header as given.
func (f *fixture) askHeader(path, token string, h http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://auth.example.test"+path, nil)
	for k, vs := range h {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if token != "" {
		r.AddCookie(&http.Cookie{Name: "hx_forward", Value: token})
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

// traefikAsks is what Traefik's forwardAuth sends the auth server for a client's request, as
// its documentation describes it: every header of the client copied (authRequestHeaders
// unset), then X-Forwarded-Method, -Proto, -Host, -Uri and -For set from the request itself
// (trustForwardHeader=false). Caddy's forward_auth does the same for the X-Forwarded-*.
func traefikAsks(client *http.Request) http.Header {
	h := client.Header.Clone()
	h.Set("X-Forwarded-Method", client.Method)
	h.Set("X-Forwarded-Proto", "https")
	h.Set("X-Forwarded-Host", client.Host)
	h.Set("X-Forwarded-Uri", client.URL.RequestURI())
	h.Set("X-Forwarded-For", "203.0.113.9")
	return h
}

// Issue 17 #2: each endpoint reads only what its proxy sets. A client's X-Original-* reach
// Traefik's and Caddy's endpoints (both proxies copy them) and are never read there; the
// nginx endpoint never falls back to X-Forwarded-* (the subrequest carries the client's).
func TestEndpointsReadOnlyWhatTheirProxySets(t *testing.T) {
	f := newFixture(t)
	friend := f.forwardToken(f.friend)
	for _, p := range []string{forwardauth.TraefikPath, forwardauth.CaddyPath} {
		// A friend asks for /admin/ and says, in X-Original-URL, that it is /public/.
		req := httptest.NewRequest("GET", "https://app.example.test/admin/settings", nil)
		req.Header.Set("X-Original-URL", "https://app.example.test/public/")
		req.Header.Set("X-Original-Method", "GET")
		if w := f.askHeader(p, friend, traefikAsks(req)); w.Code != http.StatusForbidden {
			t.Errorf("%s: forged X-Original-URL: %d, want 403 (judged on the real path)", p, w.Code)
		}
		// An anonymous GET says it is a preflight.
		req = httptest.NewRequest("GET", "https://app.example.test/api/v1/series", nil)
		req.Header.Set("X-Original-Method", "OPTIONS")
		if w := f.askHeader(p, "", traefikAsks(req)); w.Code != http.StatusFound {
			t.Errorf("%s: forged X-Original-Method: %d, want 302 to the login", p, w.Code)
		}
		// The real preflight still passes.
		req = httptest.NewRequest("OPTIONS", "https://app.example.test/api/v1/series", nil)
		if w := f.askHeader(p, "", traefikAsks(req)); w.Code != http.StatusOK {
			t.Errorf("%s: preflight: %d, want 200", p, w.Code)
		}
		// A header the proxy sets once, sent twice, is ambiguous.
		h := traefikAsks(httptest.NewRequest("GET", "https://app.example.test/", nil))
		h.Add("X-Forwarded-Uri", "/admin/")
		if w := f.askHeader(p, f.ownerTok, h); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "X-Forwarded-Uri sent 2 times") {
			t.Errorf("%s: X-Forwarded-Uri twice: %d %q, want 400 saying why", p, w.Code, w.Body.String())
		}
		// Without the proxy's headers there is nothing to judge.
		if w := f.askHeader(p, f.ownerTok, http.Header{"X-Original-Url": {"https://app.example.test/"}}); w.Code != http.StatusBadRequest {
			t.Errorf("%s: only X-Original-URL: %d, want 400", p, w.Code)
		}
	}
	// nginx: no X-Original-URL is refused, whatever X-Forwarded-* the client sent.
	fwd := map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "app.example.test", "X-Forwarded-Uri": "/public/"}
	if w := f.ask(forwardauth.NginxPath, friend, fwd); w.Code != http.StatusForbidden {
		t.Errorf("nginx without X-Original-URL: %d, want 403", w.Code)
	}
	// nginx: a client's X-Forwarded-Method never stands in for X-Original-Method.
	w := f.ask(forwardauth.NginxPath, "", map[string]string{"X-Original-URL": "http://app.example.test/api/v1", "X-Original-Host": "app.example.test",
		"X-Forwarded-Method": "OPTIONS"})
	if w.Code != http.StatusUnauthorized {
		t.Errorf("nginx with the client's X-Forwarded-Method: %d, want 401", w.Code)
	}
}

// Issue 17 #3: the host part of X-Original-URL ($http_host) is parsed strictly: "#" or "?"
// there would turn the real path into a fragment or a query. 403 on nginx (auth_request
// makes a 500 of anything else), 400 on Traefik and Caddy.
func TestOddHostRefused(t *testing.T) {
	f := newFixture(t)
	friend := f.forwardToken(f.friend)
	for _, u := range []string{"http://app.example.test#/admin/settings", "http://app.example.test?/admin/settings",
		"http://app.example.test:80#/admin/", "http://app.example.test:80:80/admin/", "http://app_x.example.test/"} {
		if w := f.nginx(friend, "GET", u); w.Code != http.StatusForbidden {
			t.Errorf("nginx %q: %d, want 403", u, w.Code)
		}
	}
	for _, p := range []string{forwardauth.TraefikPath, forwardauth.CaddyPath} {
		for _, host := range []string{"app.example.test#", "app.example.test?", "app.example.test:443#", "x@app.example.test"} {
			h := http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {host}, "X-Forwarded-Uri": {"/admin/"}}
			if w := f.askHeader(p, friend, h); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "is not a host name") {
				t.Errorf("%s host %q: %d %q, want 400 saying why", p, host, w.Code, w.Body.String())
			}
		}
	}
	// nginx chose the server by the request line's host (absolute form) while $http_host names
	// another protected app: with X-Original-Host ($host) set, the two must agree.
	ctx := context.Background()
	lenient := store.ForwardRule{Host: "lenient.example.test"}
	if _, err := f.st.PutForwardRule(ctx, lenient); err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{"X-Original-URL": "http://lenient.example.test/admin/settings", "X-Original-Method": "GET", "X-Original-Host": "app.example.test"}
	if w := f.ask(forwardauth.NginxPath, friend, hdr); w.Code != http.StatusForbidden {
		t.Errorf("X-Original-Host names another app: %d, want 403", w.Code)
	}
	hdr["X-Original-Host"] = "Lenient.example.test."
	if w := f.ask(forwardauth.NginxPath, friend, hdr); w.Code != http.StatusOK {
		t.Errorf("X-Original-Host agreeing: %d, want 200", w.Code)
	}
	// Without X-Original-Host the two cannot be compared: refused (fail closed), saying what to add.
	delete(hdr, "X-Original-Host")
	if w := f.ask(forwardauth.NginxPath, friend, hdr); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "X-Original-Host") {
		t.Errorf("nginx without X-Original-Host: %d %q, want 403 naming the header", w.Code, w.Body.String())
	}
}

// Issue 17 #4 and #6: every reading of the path is judged (as Go routes it, as Java servers
// drop ";parameters", decoded, case-folded, compatibility-folded); dot segments hidden behind ";" or an escape, and
// names ending in a dot or a space, are refused.
func TestPathReadings(t *testing.T) {
	f := newFixture(t)
	friend := f.forwardToken(f.friend)
	const app = "http://app.example.test"
	for _, c := range []struct {
		name, token, method, path string
		want                      int
	}{
		{"..; to a bypass (anonymous)", "", "POST", "/admin/..;/api/hooks", 403},
		{"..; to /api (friend)", friend, "GET", "/admin/..;/api", 403},
		{"..;/..; to a bypass", "", "POST", "/admin/x/..;/..;/api/hooks", 403},
		{"%2e%2e to a bypass", "", "POST", "/admin/%2e%2e/api/hooks", 403},
		{"%2e%2e to /api (friend)", friend, "GET", "/admin/%2e%2e/api", 403},
		{"jsessionid", friend, "GET", "/login.view;jsessionid=X", 200},
		{"jsessionid on admin", friend, "GET", "/admin;jsessionid=X/users", 403},
		{"upper case", friend, "GET", "/ADMIN/", 403},
		{"mixed case", friend, "GET", "/Admin/users", 403},
		{"mixed case, owner", f.ownerTok, "GET", "/Admin/users", 200},
		{"upper-case bypass is no bypass", "", "POST", "/API/hooks", 401},
		{"bypass, case changed below it", "", "POST", "/api/Hooks", 401},
		{"bypass", "", "POST", "/api/hooks/sonarr", 200},
		{"trailing dot", friend, "GET", "/admin./", 403},
		{"trailing space", friend, "GET", "/admin%20/", 403},
		{"encoded slash, rule without the option", friend, "GET", "/public%2Fx", 403},
		{"Matrix room alias", friend, "GET", "/_matrix/client/v3/directory/room/%23room:example.test", 200},
		{"encoded # before ..", friend, "GET", "/admin%23/../public", 403},
		// Issue 28 #12: compatibility forms (NFKC) are a reading; ordinary non-ASCII paths pass.
		{"full-width slash after /admin", friend, "GET", "/admin%EF%BC%8Fx", 403},
		{"full-width slash after /admin, raw", friend, "GET", "/admin／x", 403},
		{"full-width slash after /admin, owner", f.ownerTok, "GET", "/admin%EF%BC%8Fx", 200},
		{"full-width dots to /admin", friend, "GET", "/public/%EF%BC%8E%EF%BC%8E/admin", 403},
		{"full-width letters", friend, "GET", "/%EF%BD%81dmin/", 403},
		{"accent", friend, "GET", "/caf%C3%A9/menu", 200},
		{"CJK", friend, "GET", "/%E6%9D%B1%E4%BA%AC/%E3%82%BF%E3%83%AF%E3%83%BC", 200},
		{"emoji", friend, "GET", "/%F0%9F%98%80", 200},
		{"non-ASCII Matrix alias", friend, "GET", "/_matrix/client/v3/directory/room/%23caf%C3%A9:example.test", 200},
		// Review of issue 28 (L3): the compatible reading is trimmed and decoded once more, as
		// the ASCII path's is.
		{"ideographic space after /admin", friend, "GET", "/admin%E3%80%80/", 403},
		{"no-break space after /admin", friend, "GET", "/admin%C2%A0/", 403},
		{"full-width dot after /admin", friend, "GET", "/admin%EF%BC%8E/", 403},
		{"ideographic space after /admin, owner", f.ownerTok, "GET", "/admin%E3%80%80/", 200},
		{"full-width percent", friend, "GET", "/%EF%BC%8561dmin/", 403},
		{"full-width %2e%2e to a bypass", "", "POST", "/api/hooks/%EF%BC%852e%EF%BC%852e/%EF%BC%852e%EF%BC%852e/admin", 401},
		{"full-width %2e%2e to a bypass, raw", "", "POST", "/api/hooks/％2e％2e/％2e％2e/admin", 401},
		{"full-width percent, ordinary", friend, "GET", "/sale/100%EF%BC%85", 200},
	} {
		w := f.nginx(c.token, c.method, app+c.path)
		if w.Code != c.want {
			t.Errorf("%s (%s %s): %d, want %d", c.name, c.method, c.path, w.Code, c.want)
		}
	}
}

// Issue 17 #5 (part): every 2xx carries Remote-Id, the user's public id (the OIDC sub),
// empty when unknown.
func TestRemoteID(t *testing.T) {
	f := newFixture(t)
	u, err := f.st.User(context.Background(), f.owner)
	if err != nil {
		t.Fatal(err)
	}
	w := f.nginx(f.ownerTok, "GET", "http://app.example.test/")
	if got := w.Header().Get("Remote-Id"); w.Code != 200 || got == "" || got != u.PublicID {
		t.Fatalf("Remote-Id %q (status %d), want the public id %q", got, w.Code, u.PublicID)
	}
	w = f.nginx("", "POST", "http://app.example.test/api/hooks/x")
	if v, ok := w.Header()["Remote-Id"]; w.Code != 200 || !ok || len(v) != 1 || v[0] != "" {
		t.Fatalf("bypass: Remote-Id %q present %v (status %d), want present and empty", v, ok, w.Code)
	}
}

// Issue 28 #11: the names in the Remote-* headers are what the host stored of the login:
// without bidi controls or zero-width spaces, cut to source.MaxNameLength code points.
func TestRemoteNamesAreClean(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("李", 7<<10)
	eve := f.user("3", "\u202eeve\u200b", "\u2067Olivia Owner\u2069 "+long, "eve\u202e@example.test", "plex-friend")
	w := f.nginx(f.forwardToken(eve), "GET", "http://app.example.test/")
	name := w.Header().Get("Remote-Name")
	if w.Code != 200 || w.Header().Get("Remote-User") != "eve" || w.Header().Get("Remote-Email") != "" ||
		name != "Olivia Owner "+long[:len("李")*(source.MaxNameLength-len("Olivia Owner "))] {
		t.Fatalf("%d: Remote-User %+q, Remote-Email %+q, Remote-Name %.40q… (%d bytes)", w.Code, w.Header().Get("Remote-User"),
			w.Header().Get("Remote-Email"), name, len(name))
	}
}

// start calls the start page as a signed-in person from addr, with the cookies given.
func (f *fixture) start(addr string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://auth.example.test"+forwardauth.StartPath+"?rd="+url.QueryEscape("http://app.example.test/"), nil)
	r.RemoteAddr = addr + ":4711"
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

func (f *fixture) hostCookie() *http.Cookie {
	done, err := f.st.FinishLogin(context.Background(), store.User{SourceID: f.src.ID, Subject: "2"}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return &http.Cookie{Name: "hx_session", Value: done.Token}
}

// Issue 17 #11: a user keeps at most store.MaxForwardSessions forward-auth sessions (minting
// one more ends the oldest), however many start calls without the cookie arrive.
func TestForwardSessionsCappedPerUser(t *testing.T) {
	f := newFixture(t)
	host := f.hostCookie()
	var tokens []string
	for i := range 30 {
		w := f.start(fmt.Sprintf("198.51.100.%d", i+1), host) // one address each: the rate limit is not what is tested
		if w.Code != http.StatusSeeOther {
			t.Fatalf("start %d: %d", i, w.Code)
		}
		for _, c := range w.Result().Cookies() {
			if c.Name == "hx_forward" {
				tokens = append(tokens, c.Value)
			}
		}
	}
	if len(tokens) != 30 {
		t.Fatalf("%d cookies for 30 starts", len(tokens))
	}
	live := 0
	for i, tok := range tokens {
		_, _, err := f.st.ForwardSession(context.Background(), forwardauth.SessionID(f.st, tok))
		switch {
		case err == nil:
			live++
			if i < len(tokens)-store.MaxForwardSessions {
				t.Errorf("session %d (of the oldest) still live", i)
			}
		case !errors.Is(err, store.ErrNotFound):
			t.Fatal(err)
		}
	}
	if live != store.MaxForwardSessions {
		t.Fatalf("%d live sessions, want %d", live, store.MaxForwardSessions)
	}
	// An ended session's cookie stops working at once (the cache is told).
	if w := f.nginx(tokens[0], "GET", "http://app.example.test/"); w.Code != http.StatusUnauthorized {
		t.Fatalf("oldest cookie: %d, want 401", w.Code)
	}
	if w := f.nginx(tokens[len(tokens)-1], "GET", "http://app.example.test/"); w.Code != http.StatusOK {
		t.Fatalf("newest cookie: %d, want 200", w.Code)
	}
	// Another user's sessions are not touched.
	if w := f.nginx(f.ownerTok, "GET", "http://app.example.test/"); w.Code != http.StatusOK {
		t.Fatalf("another user's session: %d", w.Code)
	}
}

// Issue 17 #11: the start page is rate-limited per client address; another address goes on.
func TestStartRateLimitedPerClient(t *testing.T) {
	f := newFixture(t)
	host := f.hostCookie()
	limited := false
	for i := 0; i < forwardauth.DefaultStartRate && !limited; i++ {
		w := f.start("203.0.113.5", host)
		switch w.Code {
		case http.StatusSeeOther:
		case http.StatusTooManyRequests:
			limited = true
			if !strings.Contains(w.Body.String(), "Too many sign-ins") || w.Header().Get("Retry-After") == "" {
				t.Fatalf("429 without a reason or Retry-After: %q", w.Body.String())
			}
		default:
			t.Fatalf("start %d: %d", i, w.Code)
		}
	}
	if !limited {
		t.Fatalf("%d starts a minute from one address were all served", forwardauth.DefaultStartRate)
	}
	if w := f.start("203.0.113.6", host); w.Code != http.StatusSeeOther {
		t.Fatalf("another address during the flood: %d, want 303", w.Code)
	}
}

// Issue 17 #4: an encoded slash passes only under a rule whose admin allowed it.
func TestEncodedSlashOnlyWhereAllowed(t *testing.T) {
	f := newFixture(t)
	rule := store.ForwardRule{Host: "mq.example.test", AllowEncodedSlash: true}
	if errs := forwardauth.CheckRule(&rule); len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := f.st.PutForwardRule(context.Background(), rule); err != nil {
		t.Fatal(err)
	}
	friend := f.forwardToken(f.friend)
	for u, want := range map[string]int{
		"http://mq.example.test/api/queues/%2F/orders":  200,
		"http://mq.example.test/api/queues/%2f/orders":  200,
		"http://mq.example.test/api/x/..%2F..%2Fadmin":  403, // a dot segment behind an escape, even here
		"http://app.example.test/api/queues/%2F/orders": 403,
	} {
		if w := f.nginx(friend, "GET", u); w.Code != want {
			t.Errorf("%s: %d, want %d", u, w.Code, want)
		}
	}
}

// The start page reuses a live forward-auth cookie of the signed-in person (no new session),
// and mints a new one when the cookie is another person's.
func TestStartReusesTheSamePersonsCookie(t *testing.T) {
	f := newFixture(t)
	host := f.hostCookie() // frank, the friend
	minted := func(w *httptest.ResponseRecorder) bool {
		for _, c := range w.Result().Cookies() {
			if c.Name == "hx_forward" && c.Value != "" {
				return true
			}
		}
		return false
	}
	w := f.start("198.51.100.1", host, &http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)})
	if w.Code != http.StatusSeeOther || minted(w) {
		t.Fatalf("own live cookie: %d, minted %v", w.Code, minted(w))
	}
	w = f.start("198.51.100.1", host, &http.Cookie{Name: "hx_forward", Value: f.ownerTok})
	if w.Code != http.StatusSeeOther || !minted(w) {
		t.Fatalf("another person's cookie: %d, minted %v", w.Code, minted(w))
	}
}

// The denied page is always 403 and no-store, escapes the person's name, links absolutely
// to the host (it is shown in the app's origin), and says why when the cookie came twice.
func TestDeniedPage(t *testing.T) {
	f := newFixture(t)
	mallory := f.forwardToken(f.user("3", "mallory", `<b>Mallory</b> & "co"`, "m@example.test"))
	denied := func(cookies ...*http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://app.example.test"+forwardauth.DeniedPath, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		return w
	}
	w := denied(&http.Cookie{Name: "hx_forward", Value: mallory})
	body := w.Body.String()
	if w.Code != http.StatusForbidden || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
	// Self-contained wherever a proxy shows it: styles by this answer's nonce, nothing of 'self'
	// (on the app's origin that is the app), no frames.
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; style-src 'nonce-") ||
		strings.Contains(csp, "'self'") || !strings.Contains(body, `<style nonce="`+strings.Split(strings.Split(csp, "'nonce-")[1], "'")[0]+`">`) ||
		w.Header().Get("X-Frame-Options") != "DENY" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", w.Header())
	}
	if strings.Contains(body, "<b>Mallory") || !strings.Contains(body, "&lt;b&gt;Mallory&lt;/b&gt; &amp; &#34;co&#34;") {
		t.Errorf("the name is not escaped: %s", body)
	}
	for _, link := range []string{`href="http://auth.example.test/profile"`, `href="http://auth.example.test` + forwardauth.LogoutPath + `"`} {
		if !strings.Contains(body, link) {
			t.Errorf("no absolute link %s: %s", link, body)
		}
	}
	w = denied(&http.Cookie{Name: "hx_forward", Value: mallory}, &http.Cookie{Name: "__Secure-hx_forward", Value: "planted"})
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "more than once") || strings.Contains(w.Body.String(), "Mallory") {
		t.Errorf("cookie sent twice: %d %s", w.Code, w.Body.String())
	}
}

// The denied page says what was refused, from the address the proxy names (X-Original-URL
// and X-Original-Host, for the words only): a host with no rule is "not set up" and offers
// the host's sign-in with no return address and no profile or sign-out to an anonymous
// visitor; a rule's refusal names the app and the groups it admits; the page carries the site's name.
func TestDeniedPageSaysWhy(t *testing.T) {
	f := newFixture(t)
	denied := func(original string, cookies ...*http.Cookie) string {
		t.Helper()
		r := httptest.NewRequest("GET", "http://127.0.0.1:8080"+forwardauth.DeniedPath, nil)
		if original != "" {
			u, _ := url.Parse(original)
			r.Header.Set("X-Original-URL", original)
			r.Header.Set("X-Original-Host", u.Hostname())
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Fatalf("%s: %d", original, w.Code)
		}
		return w.Body.String()
	}
	body := denied("http://unknown.example.test/some/page?x=1")
	for _, want := range []string{"This address is not set up", "unknown.example.test", `href="http://auth.example.test/login"`, "<strong>" + f.srv.SiteName() + "</strong>"} {
		if !strings.Contains(body, want) {
			t.Errorf("no rule: lacks %q: %s", want, body)
		}
	}
	for _, not := range []string{"return=", "Your profile", "Sign out", "some/page"} {
		if strings.Contains(body, not) {
			t.Errorf("no rule, anonymous: shows %q: %s", not, body)
		}
	}
	body = denied("http://app.example.test/admin/settings", &http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)})
	for _, want := range []string{"No access to app.example.test/admin", "Frank Friend", "plex-owner", "Your profile", "Sign out"} {
		if !strings.Contains(body, want) {
			t.Errorf("rule: lacks %q: %s", want, body)
		}
	}
	if strings.Contains(body, "not set up") {
		t.Errorf("a ruled host called not set up: %s", body)
	}
}

// The sign-in page of a forward-auth login names the app the login returns to: its rule's
// name, else its host and path.
func TestLoginPageNamesTheProtectedApp(t *testing.T) {
	f := newFixture(t)
	if _, err := f.st.PutForwardRule(context.Background(), store.ForwardRule{Name: "Sonarr", Host: "sonarr.example.test"}); err != nil {
		t.Fatal(err)
	}
	for rd, want := range map[string]string{"http://sonarr.example.test/series": "Sign in to Sonarr", "http://app.example.test/admin/x": "Sign in to app.example.test/admin",
		"http://elsewhere.example.test/": "Sign in to " + f.srv.SiteName()} {
		r := httptest.NewRequest("GET", "http://auth.example.test/login?return="+url.QueryEscape(forwardauth.StartPath+"?rd="+url.QueryEscape(rd)), nil)
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: lacks %q: %s", rd, want, w.Body.String())
		}
	}
}

// Anyone can ask for the denied page with a forged X-Original-URL: without a forward-auth
// session it names neither the app's groups nor the app, only the way to sign in (a real
// anonymous visitor is sent to sign in, never refused with a 403).
func TestDeniedPageTellsAnonymousCallersNoGroups(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest("GET", "http://127.0.0.1:8080"+forwardauth.DeniedPath, nil)
	r.Header.Set("X-Original-URL", "http://app.example.test/admin/settings")
	r.Header.Set("X-Original-Host", "app.example.test")
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	body := w.Body.String()
	if w.Code != http.StatusForbidden || !strings.Contains(body, `href="http://auth.example.test/login"`) {
		t.Fatalf("%d, no sign-in: %s", w.Code, body)
	}
	for _, not := range []string{"plex-owner", "only for members", "No access to app.example.test/admin"} {
		if strings.Contains(body, not) {
			t.Errorf("an anonymous caller is told %q: %s", not, body)
		}
	}
}
