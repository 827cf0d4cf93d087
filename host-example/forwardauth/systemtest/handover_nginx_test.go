package systemtest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// plexWebRules protects the app and Plex Web (which receives the sign-in) on the stack's port.
func plexWebRules(t *testing.T, st *store.Store, port string) {
	for _, r := range []store.ForwardRule{{Host: "plexweb.example.test:" + port, Handover: "plex.token"}, {Host: "app.example.test:" + port}} {
		if _, err := st.PutForwardRule(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// signInOnTheApp signs the friend in at host-example in a new browser, by way of the app.
func signInOnTheApp(t *testing.T, app string) context.Context {
	ctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	browsertest.Steps(t, ctx, "sign in on the app", append(append([]browsertest.Action{chromedp.Navigate(app + "/"),
		browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")}, browsertest.ApproveAs("friend")...), browsertest.Visible("#seen"))...)
	return ctx
}

// cookieOf is the browser's cookie name for u.
func cookieOf(t *testing.T, ctx context.Context, u, name string) *http.Cookie {
	cookies, err := chromedp.Run(ctx, browsertest.Cookies(u))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cookie %s for %s", name, u)
	return nil
}

// Issue 28 #1, through the real nginx of docs/plex-sso.md: the friend, signed in at
// host-example, opens Plex Web signed in with one navigation (to its bare address); his
// forward-auth cookie, stolen by a sibling app and replayed from a plain HTTP client that
// follows every redirect (with or without forged fetch metadata), gets no token; a client
// without fetch metadata is handed over on code and state alone, and its code replayed gets
// nothing; a browser whose host session ended signs in once and opens Plex Web signed in; a
// browser the bridge refuses reaches Plex Web signed out, and stays there, not in a loop.
func TestPlexWebHandoverBehindNginx(t *testing.T) {
	s := newStackOf(t, ssoSource, true)
	plexWebRules(t, s.st, s.port)
	web := "http://plexweb.example.test:" + s.port

	uctx := signInOnTheApp(t, s.app)
	browsertest.Steps(t, uctx, "open Plex Web", chromedp.Navigate(web+"/"), browsertest.Visible(`body[data-state="ready"]`))
	browsertest.WaitLocation(t, uctx, web+"/web/index.html")
	if who := browsertest.Text(t, uctx, "#who"); who != "signed in as frank" {
		t.Fatalf("Plex Web says %q", who)
	}
	tok, err := s.st.UserCredential(context.Background(), frankID(t, s), "plex.token")
	if err != nil {
		t.Fatal(err)
	}
	stolen := cookieOf(t, uctx, web, "hx_forward")

	for name, hdr := range map[string]map[string]string{
		"a plain client":    nil,
		"forged navigation": {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "same-site", "Accept": "text/html"},
		"a sibling's CORS":  {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Origin": s.app},
	} {
		// (Every client here is 127.0.0.1: few enough starts for the per-client rate of the
		// public host's code page, which the browsers below need too.)
		for _, start := range []string{web + forwardauth.BridgePath + "?rd=%2Fweb%2Findex.html", web + forwardauth.BridgePath + "?code=" + strings.Repeat("A", 43)} {
			last, bodies := follow(t, start, hdr, jarOf(t, s.port, map[string][]*http.Cookie{"plexweb": {stolen}, "app": {stolen}, "auth": {stolen}}))
			if strings.Contains(bodies, tok.Value) {
				t.Errorf("%s from %s: the token handed over (ended at %s)", name, start, last)
			}
		}
	}

	// A browser without fetch metadata (Safari before 16.4) with the friend's cookies: handed
	// over on the code and the state cookie alone; its code, replayed, gets nothing.
	own := jarOf(t, s.port, map[string][]*http.Cookie{"plexweb": {stolen}, "auth": {cookieOf(t, uctx, s.auth, "hx_session")}})
	html := map[string]string{"Accept": "text/html,application/xhtml+xml"}
	last, body := follow(t, web+"/web/index.html", html, own)
	if !strings.Contains(body, `localStorage.setItem("myPlexAccessToken","`+tok.Value+`")`) || !strings.Contains(last, "code=") {
		t.Fatalf("a browser without fetch metadata: ended at %s without the token", last)
	}
	if again, body := follow(t, last, html, own); strings.Contains(body, tok.Value) {
		t.Errorf("the code replayed: the token handed over again (%s)", again)
	}
	// The code of a fresh round trip on another app's bridge location: refused there.
	own = jarOf(t, s.port, map[string][]*http.Cookie{"plexweb": {stolen}, "app": {stolen}, "auth": {cookieOf(t, uctx, s.auth, "hx_session")}})
	first := s.client()
	req, _ := http.NewRequest("GET", web+forwardauth.BridgePath+"?rd=%2F&again=1", nil)
	req.AddCookie(stolen)
	resp, err := first.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, forwardauth.HandoverCodePath) {
		t.Fatalf("the bridge's first step: %d %q", resp.StatusCode, loc)
	}
	code, _, hdr := s.get(resp.Header.Get("Location"), nil, cookieOf(t, uctx, s.auth, "hx_session"))
	back, _ := url.Parse(hdr.Get("Location"))
	if code != http.StatusSeeOther || back == nil || back.Query().Get("code") == "" {
		t.Fatalf("the public host: %d %q", code, hdr.Get("Location"))
	}
	if _, body := follow(t, s.app+forwardauth.BridgePath+"?"+back.RawQuery, html, own); strings.Contains(body, tok.Value) {
		t.Errorf("the code on another app's bridge location: the token handed over")
	}

	// A browser whose host-example session ended while hx_forward lives: the public host asks
	// it to sign in once, then Plex Web opens signed in.
	ectx := signInOnTheApp(t, s.app)
	if err := chromedp.Do(ectx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.DeleteCookies, network.DeleteCookiesParams{Name: "hx_session", URL: s.auth + "/"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if c, _ := chromedp.Run(ectx, browsertest.Cookies(s.auth)); len(c) == 0 || slices.ContainsFunc(c, func(c *http.Cookie) bool { return c.Name == "hx_session" }) {
		t.Fatalf("the host session cookie was not removed: %v", c)
	}
	browsertest.Steps(t, ectx, "Plex Web after the host session ended", append(append([]browsertest.Action{chromedp.Navigate(web + "/web/index.html"),
		browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")}, browsertest.ApproveAs("friend")...), browsertest.Visible(`body[data-state="ready"]`))...)
	browsertest.WaitLocation(t, ectx, web+"/web/index.html")

	// A refused browser (a code it did not ask for): Plex Web opens signed out, and page loads
	// go straight there afterwards.
	rctx := signInOnTheApp(t, s.app)
	browsertest.Steps(t, rctx, "a code it did not ask for", chromedp.Navigate(web+forwardauth.BridgePath+"?code="+strings.Repeat("A", 43)),
		browsertest.Visible("#bridge"))
	if b := browsertest.Text(t, rctx, "#bridge"); !strings.Contains(b, "Not signed in to Plex Web") {
		t.Fatalf("the refused bridge says %q", b)
	}
	browsertest.Steps(t, rctx, "continue to Plex Web", browsertest.Click("#bridge-next"), browsertest.Visible(`body[data-state="signed-out"]`),
		chromedp.Navigate(web+"/web/index.html"), browsertest.Visible(`body[data-state="signed-out"]`))
	browsertest.WaitLocation(t, rctx, web+"/web/index.html")
	if who := browsertest.Text(t, rctx, "#who"); who != "Sign in" {
		t.Fatalf("Plex Web after a refusal: %q", who)
	}
}

// jarOf is a cookie jar holding cookies for each of hosts (on the stack's names).
func jarOf(t *testing.T, port string, cookies map[string][]*http.Cookie) http.CookieJar {
	jar, _ := cookiejar.New(nil)
	for host, cs := range cookies {
		hu, _ := url.Parse("http://" + host + ".example.test:" + port + "/")
		for _, c := range cs {
			jar.SetCookies(hu, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
		}
	}
	return jar
}

// follow GETs u as a plain client with jar (the fake names reach 127.0.0.1 on the URL's port),
// sending hdr on every request and following every redirect (at most 20); it answers the last
// address and its body.
func follow(t *testing.T, u string, hdr map[string]string, jar http.CookieJar) (string, string) {
	t.Helper()
	d := &net.Dialer{}
	c := &http.Client{Timeout: 10 * time.Second, Jar: jar, Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return d.DialContext(ctx, network, "127.0.0.1:"+port)
	}}}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 20 {
			return errors.New("too many redirects")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		return nil
	}
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Request.URL.String(), string(b)
}
