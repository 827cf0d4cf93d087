package systemtest_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// webKind is a credential kind a browser app reads from localStorage.
var webKind = source.CredentialKind{Kind: "up.token", App: "Up Web", StorageKey: "upAccessToken", StartPath: "/web/index.html", ConfigField: "web_sso"}

type kinds struct{}

func (kinds) CredentialKind(k string) (source.CredentialKind, bool) {
	return webKind, k == webKind.Kind
}

const secretToken = "up-account-token-5b9e0c2d7a"

// handoverFixture adds a dedicated app origin that receives up.token (for plex-friend), the
// friend's stored credential, and a forward-auth service that knows the kind.
func handoverFixture(t testing.TB) (*fixture, *forwardauth.Service) {
	f := newFixture(t)
	ctx := context.Background()
	r := store.ForwardRule{Host: "web.example.test", Groups: []string{"plex-friend", "plex-owner"}, Handover: webKind.Kind}
	if errs := append(forwardauth.CheckRule(&r), forwardauth.CheckHandover(&r, nil, "auth.example.test")...); len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := f.st.PutForwardRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.PutForwardRule(ctx, store.ForwardRule{Host: "other.example.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.FinishLogin(ctx, store.User{SourceID: f.src.ID, Subject: "2", Username: "frank", Name: "Frank Friend",
		Groups: []string{"plex-friend"}, Credentials: []store.Credential{{Kind: webKind.Kind, Value: secretToken}}},
		store.Event{Kind: "login_allowed"}, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	pub, _ := url.Parse("http://auth.example.test")
	fa, err := forwardauth.New(forwardauth.Options{PublicURL: pub, CookieDomain: "example.test", Store: f.st, Sessions: f.sessions, Pages: f.srv, Kinds: kinds{}, Now: f.now,
		HandedOver: func(kind, navigation string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.counted = append(f.counted, kind+"/"+navigation)
		}})
	if err != nil {
		t.Fatal(err)
	}
	return f, fa
}

// upstream is host-example's address as a proxy reaches it (the Host the documented nginx
// bridge location passes): the proxy-only paths are not asked on the public host.
const upstream = "http://127.0.0.1:8080"

// serve asks fa's path as the proxy does, with h and cookies.
func serve(fa *forwardauth.Service, path string, h http.Header, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", upstream+path, nil)
	r.Header = h.Clone()
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	fa.ServeHTTP(w, r)
	return w
}

// nginxBridge is what the documented nginx bridge location sends for a request to rawURL.
func nginxBridge(rawURL string) http.Header {
	u, _ := url.Parse(rawURL)
	return http.Header{"X-Original-Url": {rawURL}, "X-Original-Host": {u.Hostname()}, "X-Original-Method": {"GET"}}
}

// The bridge writes the friend's credential into the app origin's storage, with no-store, no
// referrer and a nonce CSP, and the credential in no header or URL; it refuses an app whose
// rule does not hand over, a forged URL naming another host, and a person outside the groups.
// Issue 28: it writes it only after the code round trip through the public host (the friend
// signed in there), never on the forward-auth cookie alone.
func TestHandoverBridge(t *testing.T) {
	f, fa := handoverFixture(t)
	friend := &http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)}
	b := newHandoverBrowser(t, f, fa, f.friend)
	w, _ := b.handOver("/web/index.html#!/media")
	body := w.Body.String()
	if w.Code != 200 || !handedOver(w, secretToken) {
		t.Fatalf("bridge: %d %s", w.Code, body)
	}
	csp := w.Header().Get("Content-Security-Policy")
	if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Referrer-Policy") != "no-referrer" ||
		!strings.Contains(csp, "script-src 'nonce-") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("bridge headers: %v", w.Header())
	}
	for k, vs := range w.Header() {
		if strings.Contains(strings.Join(vs, " "), secretToken) {
			t.Errorf("the credential is in header %s", k)
		}
	}
	var mark *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "hx_handover" {
			mark = c
		}
	}
	if mark == nil || mark.Domain != "" || !mark.HttpOnly || strings.Contains(mark.Value, secretToken) {
		t.Fatalf("handover mark: %+v", mark)
	}
	// Issue 28 #7: the hand-over is an event of the person (kind, origin, client, navigation)
	// and counted.
	if evs := handoverEvents(t, f); len(evs) != 1 || !strings.Contains(evs[0], "kind=up.token") ||
		!strings.Contains(evs[0], "origin=http://web.example.test") || !strings.Contains(evs[0], "client=") ||
		!strings.Contains(evs[0], "navigation=yes") || strings.Contains(evs[0], secretToken) {
		t.Errorf("hand-over events: %q", evs)
	}
	if strings.Join(f.counted, ",") != "up.token/yes" {
		t.Errorf("counted hand-overs: %q", f.counted)
	}

	refused := map[string]http.Header{
		"an app without hand-over":  nginxBridge("http://other.example.test" + forwardauth.BridgePath),
		"an unknown host":           nginxBridge("http://evil.example.test" + forwardauth.BridgePath),
		"a URL naming another host": {"X-Original-Url": {"http://web.example.test/"}, "X-Original-Host": {"other.example.test"}},
		"no proxy headers":          {},
		"the header sent twice":     {"X-Original-Url": {"http://web.example.test/", "http://web.example.test/"}, "X-Original-Host": {"web.example.test"}},
	}
	for name, h := range refused {
		w := serve(fa, forwardauth.HandoverNginxPath, h, friend)
		if w.Code == 200 || strings.Contains(w.Body.String(), secretToken) {
			t.Errorf("%s: %d, the credential handed over", name, w.Code)
		}
	}
	// Caddy and Traefik: the host from the X-Forwarded-* the proxy sets.
	px := http.Header{"X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"other.example.test"}, "Sec-Fetch-Mode": {"navigate"}}
	if w := serve(fa, forwardauth.HandoverProxyPath, px, friend); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), secretToken) {
		t.Errorf("proxy flavour, app without hand-over: %d", w.Code)
	}
	px.Set("X-Forwarded-Host", "web.example.test")
	if w := serve(fa, forwardauth.HandoverProxyPath, px, friend); w.Code != http.StatusFound ||
		!strings.HasPrefix(w.Header().Get("Location"), "http://auth.example.test"+forwardauth.HandoverCodePath+"?") {
		t.Errorf("proxy flavour, first step: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Outside the rule's groups: the public host sends the browser back refused, and the
	// bridge refuses it, with a credential stored.
	done, err := f.st.FinishLogin(context.Background(), store.User{SourceID: f.src.ID, Subject: "3", Username: "nina", Groups: []string{"plex-other"},
		Credentials: []store.Credential{{Kind: webKind.Kind, Value: "nina-token"}}}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nina := newHandoverBrowser(t, f, fa, done.UserID)
	if w, back := nina.handOver("/"); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "nina-token") ||
		!strings.Contains(back, "error=access_denied") || strings.Contains(back, "code=") {
		t.Errorf("outside the groups: %d (back with %q)", w.Code, back)
	}
	// Signed out: to the sign-in, back to the bridge.
	if w := serve(fa, forwardauth.HandoverNginxPath, nginxBridge("http://web.example.test"+forwardauth.BridgePath),
		&http.Cookie{Name: "hx_forward", Value: "x"}); w.Code != http.StatusFound || !strings.Contains(w.Header().Get("Location"), url.QueryEscape("http://web.example.test"+forwardauth.BridgePath)) {
		t.Errorf("signed out: %d %s", w.Code, w.Header().Get("Location"))
	}
}

// Forward-auth sends a navigation to the hand-over app through the bridge until this browser
// was given the current credential or signed out of it; other requests pass.
func TestHandoverDetour(t *testing.T) {
	f, fa := handoverFixture(t)
	friend := &http.Cookie{Name: "hx_forward", Value: f.forwardToken(f.friend)}
	ask := func(mode string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		h := nginxBridge("http://web.example.test/web/index.html")
		h.Set("Sec-Fetch-Mode", mode)
		h.Set("Sec-Fetch-Dest", map[string]string{"navigate": "document", "cors": "empty"}[mode])
		return serve(fa, forwardauth.NginxPath, h, cookies...)
	}
	w := ask("navigate", friend)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusUnauthorized || loc == nil || loc.Host != "web.example.test" || loc.Path != forwardauth.BridgePath ||
		loc.Query().Get("rd") != "/web/index.html" {
		t.Fatalf("navigation without the mark: %d %q", w.Code, w.Header().Get("Location"))
	}
	// A very long address is not carried to the bridge (the 401's Location would overflow
	// nginx's buffer for the answer's headers, and the bridge would not return to it anyway).
	long := nginxBridge("http://web.example.test/web/index.html?q=" + strings.Repeat("%22", 2000))
	long.Set("Sec-Fetch-Mode", "navigate")
	long.Set("Sec-Fetch-Dest", "document")
	if w := serve(fa, forwardauth.NginxPath, long, friend); w.Code != http.StatusUnauthorized || len(w.Header().Get("Location")) > 2000 ||
		!strings.HasSuffix(w.Header().Get("Location"), forwardauth.BridgePath) {
		t.Errorf("a long address: %d, Location of %d bytes", w.Code, len(w.Header().Get("Location")))
	}
	if w := ask("cors", friend); w.Code != 200 {
		t.Errorf("an XHR is never detoured: %d", w.Code)
	}
	if w := ask("navigate", &http.Cookie{Name: "hx_forward", Value: f.ownerTok}); w.Code != 200 {
		t.Errorf("a person with no credential is never detoured: %d", w.Code)
	}
	given := func(query string) *http.Cookie {
		b := newHandoverBrowser(t, f, fa, f.friend)
		if query == "" {
			b.handOver("/")
		} else {
			b.bridge(query)
		}
		if b.app["hx_handover"] == "" {
			t.Fatalf("no mark from the bridge%s", query)
		}
		return &http.Cookie{Name: "hx_handover", Value: b.app["hx_handover"]}
	}
	mark := given("")
	if w := ask("navigate", friend, mark); w.Code != 200 {
		t.Errorf("navigation after the bridge: %d", w.Code)
	}
	// The origin's bare "/" is not the app's page: through the bridge, which goes on to the
	// kind's start page without another hand-over.
	root := nginxBridge("http://web.example.test/")
	root.Set("Sec-Fetch-Mode", "navigate")
	root.Set("Sec-Fetch-Dest", "document")
	if w := serve(fa, forwardauth.NginxPath, root, friend, mark); w.Code != http.StatusUnauthorized ||
		w.Header().Get("Location") != "http://web.example.test"+forwardauth.BridgePath+"?rd=%2F" {
		t.Errorf("the bare /: %d %q", w.Code, w.Header().Get("Location"))
	}
	root = nginxBridge("http://web.example.test" + forwardauth.BridgePath + "?rd=%2F")
	root.Set("Sec-Fetch-Mode", "navigate")
	if w := serve(fa, forwardauth.HandoverNginxPath+"?rd=%2F", root, friend, mark); w.Code != http.StatusFound ||
		w.Header().Get("Location") != webKind.StartPath {
		t.Errorf("the bridge for the bare / of a browser already given the credential: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Signed out of the app: the key is removed and the browser is not handed it again.
	out := serve(fa, forwardauth.HandoverNginxPath+"?signout=1", nginxBridge("http://web.example.test"+forwardauth.BridgePath), friend)
	if !strings.Contains(out.Body.String(), `localStorage.removeItem("upAccessToken")`) || strings.Contains(out.Body.String(), secretToken) {
		t.Fatalf("sign-out page: %s", out.Body.String())
	}
	outMark := given("?signout=1")
	if w := ask("navigate", friend, outMark); w.Code != 200 {
		t.Errorf("navigation after signing out of the app: %d", w.Code)
	}
	// A new login brings a new credential: handed over again.
	if _, err := f.st.FinishLogin(context.Background(), store.User{SourceID: f.src.ID, Subject: "2", Username: "frank", Groups: []string{"plex-friend"},
		Credentials: []store.Credential{{Kind: webKind.Kind, Value: "new-token"}}}, store.Event{Kind: "login_allowed"}, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	if w := ask("navigate", friend, mark); w.Code != http.StatusUnauthorized {
		t.Errorf("a new credential is not handed over: %d", w.Code)
	}
}

// A hand-over app needs an origin of its own: never a path, a shared host or the site's host.
func TestHandoverRuleNeedsItsOwnOrigin(t *testing.T) {
	existing := []store.ForwardRule{{ID: "a", Host: "apps.example.test"}, {ID: "b", Host: "plex.example.test", Handover: "up.token"}}
	cases := map[string]store.ForwardRule{
		"a path":                        {Host: "web.example.test", PathPrefix: "/plex", Handover: "up.token"},
		"a shared host":                 {Host: "apps.example.test", Handover: "up.token"},
		"the site's own host":           {Host: "auth.example.test", Handover: "up.token"},
		"a second app on its host":      {Host: "plex.example.test", PathPrefix: "/other"},
		"the same host by its port":     {Host: "apps.example.test:443", Handover: "up.token"},
		"the same name, another port":   {Host: "apps.example.test:8443", Handover: "up.token"},
		"the site's name, another port": {Host: "auth.example.test:8443", Handover: "up.token"},
	}
	for name, r := range cases {
		if errs := forwardauth.CheckRule(&r); len(errs) > 0 {
			t.Fatalf("%s: %v", name, errs)
		}
		if errs := forwardauth.CheckHandover(&r, existing, "auth.example.test"); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := store.ForwardRule{ID: "b", Host: "plex.example.test", Handover: "up.token", Groups: []string{"x"}}
	if errs := forwardauth.CheckHandover(&ok, existing, "auth.example.test"); len(errs) > 0 {
		t.Errorf("changing the hand-over rule itself: %v", errs)
	}
}

// The bridge goes on only to a path of the app's own origin: an rd naming another origin, or
// the bridge itself, is replaced by the kind's start page, with the credential still written;
// so is the origin's bare "/" (issue 28: it is not the app's page).
func TestHandoverBridgeGoesOnOnlyOnTheAppsOrigin(t *testing.T) {
	f, fa := handoverFixture(t)
	next := regexp.MustCompile(`id="bridge-next" href="([^"]*)"`)
	for rd, want := range map[string]string{
		"/web/index.html#!/settings":          "/web/index.html#!/settings",
		"/":                                   webKind.StartPath,
		"https://evil.example/":               webKind.StartPath,
		"//evil.example/":                     webKind.StartPath,
		"/\\evil.example/":                    webKind.StartPath,
		"javascript:alert(1)":                 webKind.StartPath,
		forwardauth.BridgePath + "?signout=1": webKind.StartPath,
	} {
		w, _ := newHandoverBrowser(t, f, fa, f.friend).handOver(rd)
		m := next.FindStringSubmatch(w.Body.String())
		if w.Code != 200 || m == nil || html.UnescapeString(m[1]) != want || !handedOver(w, secretToken) ||
			strings.Contains(w.Body.String(), "evil.example") || strings.Contains(w.Body.String(), "alert(1)") {
			t.Errorf("rd %q: %d, goes on to %v, want %q", rd, w.Code, m, want)
		}
	}
}
