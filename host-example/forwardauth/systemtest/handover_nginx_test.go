package systemtest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

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
		browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")}, approveAs("friend")...), browsertest.Visible("#seen"))...)
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
// follows every redirect (with or without forged fetch metadata), gets no token; a browser
// the bridge refuses reaches Plex Web signed out, and stays there, not in a loop.
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
		for _, start := range []string{web + forwardauth.BridgePath, web + forwardauth.BridgePath + "?rd=%2Fweb%2Findex.html",
			web + "/web/index.html", web + forwardauth.BridgePath + "?code=" + strings.Repeat("A", 43)} {
			last, bodies := s.follow(t, start, hdr, stolen)
			if strings.Contains(bodies, tok.Value) {
				t.Errorf("%s from %s: the token handed over (ended at %s)", name, start, last)
			}
		}
	}

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

// follow GETs u through nginx as a plain client with only cookie, following every redirect
// (at most 20) with a cookie jar; it answers the last address and every body it read.
func (s *stack) follow(t *testing.T, u string, hdr map[string]string, cookie *http.Cookie) (string, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	for _, host := range []string{"plexweb", "app", "auth"} {
		hu, _ := url.Parse("http://" + host + ".example.test:" + s.port + "/")
		jar.SetCookies(hu, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
	}
	d := &net.Dialer{}
	c := &http.Client{Timeout: 10 * time.Second, Jar: jar, Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, "127.0.0.1:"+s.port)
	}}}
	var bodies strings.Builder
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
	bodies.Write(b)
	return resp.Request.URL.String(), bodies.String()
}
