package systemtest_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// ssoSource is a Plex source with "Sign users into Plex Web" on.
const ssoSource = `{"access_mode":"members","owner_token":"OWNER","plex_web_sso":true,"allowed_servers":[{"machine_id":"` +
	plexsim.ServerLivingRoom + `","name":"Living Room"}]}`

// Issue 19: a friend signs in once and opens Plex Web on its own host, behind the real nginx
// of docs/plex-sso.md, already signed in as himself, with the libraries shared with him and no
// Plex page in between; the bridge on an app without the option refuses him (also with a
// forged X-Original-URL); "Sign out of Plex Web" leaves Plex Web showing "Sign in".
func TestPlexWebSignedInBehindNginx(t *testing.T) {
	s := newStackOf(t, ssoSource, true)
	ctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	steps, click, visible := browsertest.Steps, browsertest.Click, browsertest.Visible
	web := "http://plexweb.example.test:" + s.port

	// The admin protects the app and Plex Web; a path on a shared host is refused for Plex Web.
	steps(t, ctx, "admin login", chromedp.Navigate(s.auth+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#new-plex"))
	addRule := func(host, path string, sso bool) {
		acts := []browsertest.Action{chromedp.Navigate(s.auth + "/admin/forward-auth/new"), visible("#rule-form"),
			chromedp.SendKeys(chromedp.CSS("#rule-host"), host)}
		if path != "" {
			acts = append(acts, chromedp.SendKeys(chromedp.CSS("#rule-path"), path))
		}
		if sso {
			acts = append(acts, click(`input[name="handover"]`))
		}
		steps(t, ctx, "rule "+host+path, append(acts, click("#save-rule"), visible("#flash, p.err"))...)
	}
	addRule("app.example.test:"+s.port, "", false)
	addRule("app.example.test:"+s.port, "/plex", true)
	if e := browsertest.Text(t, ctx, "body"); !strings.Contains(e, "never a path") {
		t.Fatalf("Plex Web on a path of a shared host: %q", e)
	}
	addRule("plexweb.example.test:"+s.port, "", true)
	browsertest.WaitText(t, ctx, "#flash", "Saved plexweb.example.test")

	// The friend opens Plex Web: one sign-in at host-example, then Plex Web, signed in.
	uctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	steps(t, uctx, "open Plex Web", append(append([]browsertest.Action{chromedp.Navigate(web + "/web/index.html"),
		visible("#login-plex"), click("#login-plex")}, browsertest.ApproveAs("friend")...), visible(`body[data-state="ready"]`))...)
	browsertest.WaitLocation(t, uctx, web+"/web/index.html")
	if who := browsertest.Text(t, uctx, "#who"); who != "signed in as frank" {
		t.Fatalf("Plex Web says %q", who)
	}
	sections := browsertest.Text(t, uctx, "#sections")
	if !strings.Contains(sections, "Living Room: Films") || !strings.Contains(sections, "Living Room: TV Shows") || strings.Contains(sections, "Music") {
		t.Fatalf("Plex Web lists %q, want the two libraries shared with frank", sections)
	}
	browsertest.Screenshot(t, uctx, "plex-web-signed-in")
	if n, _ := s.st.CountCredentials(context.Background(), "plex.token"); n != 1 {
		t.Fatalf("%d tokens kept, want frank's", n)
	}

	// The bridge pasted into an app without the option: refused, also with a forged URL.
	steps(t, uctx, "bridge on another app", chromedp.Navigate("http://app.example.test:"+s.port+forwardauth.BridgePath), visible("#bridge"))
	if b := browsertest.Text(t, uctx, "#bridge"); !strings.Contains(b, "No sign-in here") {
		t.Fatalf("bridge on a non-SSO app: %q", b)
	}
	var fwd *http.Cookie
	cookies, err := chromedp.Run(uctx, browsertest.Cookies(web))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "hx_forward" {
			fwd = c
		}
	}
	tok, _ := s.st.UserCredential(context.Background(), frankID(t, s), "plex.token")
	for name, hdr := range map[string]map[string]string{
		"no header":  nil,
		"forged URL": {"X-Original-URL": web + forwardauth.BridgePath, "X-Original-Host": "plexweb.example.test", "X-Forwarded-Host": "plexweb.example.test"},
	} {
		code, body, _ := s.get("http://app.example.test:"+s.port+forwardauth.BridgePath, hdr, fwd)
		if code != http.StatusForbidden || tok == nil || strings.Contains(body, tok.Value) {
			t.Errorf("%s: %d, the token handed out: %v", name, code, tok != nil && strings.Contains(body, tok.Value))
		}
	}

	// Sign out of Plex Web: the key is gone, and Plex Web asks to sign in.
	steps(t, uctx, "sign out of Plex Web", chromedp.Navigate(web+forwardauth.BridgePath+"?signout=1"), visible("#bridge"),
		chromedp.Navigate(web+"/web/index.html"), visible(`body[data-state="signed-out"]`))
	if who := browsertest.Text(t, uctx, "#who"); who != "Sign in" {
		t.Fatalf("Plex Web after signing out of it: %q", who)
	}
	// The host's own sign-out links that hop for every host that receives a sign-in.
	steps(t, uctx, "sign out", chromedp.Navigate(s.auth+"/profile"), visible("#logout"), click("#logout"), visible("#also-sign-out"))
	href, err := chromedp.Run(uctx, chromedp.Evaluate[string](`document.querySelector("a.also-sign-out").href`))
	if err != nil {
		t.Fatal(err)
	}
	if link := browsertest.Text(t, uctx, "#also-sign-out"); !strings.Contains(link, "Sign out of Plex Web too") ||
		href != web+forwardauth.BridgePath+"?signout=1" {
		t.Fatalf("signed-out page: %q -> %q", link, href)
	}
}

// The same behind Caddy: the bridge's location is handled before forward_auth, and the host
// is read from the X-Forwarded-* Caddy sets.
func TestPlexWebSignedInBehindCaddy(t *testing.T) {
	eachCaddy(t, plexWebSignedInBehindCaddy)
}

func plexWebSignedInBehindCaddy(t *testing.T, bin string) {
	s := newStackOf(t, ssoSource, false)
	su, _ := url.Parse(s.simURL)
	caddy := startCaddy(t, bin, s.hostAddr, s.upstream.Listener.Addr().String(), "127.0.0.1:"+su.Port())
	web := "http://plexweb.example.test:" + strings.TrimPrefix(caddy, "127.0.0.1:")
	ctx := context.Background()
	appHost := "app.example.test:" + strings.TrimPrefix(caddy, "127.0.0.1:")
	for _, r := range []store.ForwardRule{{Host: strings.TrimPrefix(web, "http://"), Handover: "plex.token"}, {Host: appHost}} {
		if _, err := s.st.PutForwardRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	uctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	browsertest.Steps(t, uctx, "open Plex Web", append(append([]browsertest.Action{chromedp.Navigate(web + "/web/index.html"),
		browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")}, browsertest.ApproveAs("friend")...),
		browsertest.Visible(`body[data-state="ready"]`))...)
	browsertest.WaitLocation(t, uctx, web+"/web/index.html")
	if who := browsertest.Text(t, uctx, "#who"); who != "signed in as frank" {
		t.Fatalf("Plex Web behind Caddy says %q", who)
	}
	// The bridge pasted into another app's site: Caddy replaces a client's X-Forwarded-Host,
	// so a friend with his cookie and a forged host naming Plex Web gets no token there.
	var fwd *http.Cookie
	cookies, err := chromedp.Run(uctx, browsertest.Cookies(web))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "hx_forward" {
			fwd = c
		}
	}
	tok, err := s.st.UserCredential(ctx, frankID(t, s), "plex.token")
	if fwd == nil || err != nil {
		t.Fatalf("no forward-auth cookie (%v) or kept token (%v)", fwd, err)
	}
	for _, forged := range []string{"", strings.TrimPrefix(web, "http://")} {
		req, _ := http.NewRequest("GET", "http://"+caddy+forwardauth.BridgePath, nil)
		req.Host = appHost
		if forged != "" {
			req.Header.Set("X-Forwarded-Host", forged)
		}
		req.AddCookie(fwd)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The bridge itself answers (forward_auth let the friend in on the app): "No sign-in here".
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "No sign-in here") || strings.Contains(string(b), tok.Value) {
			t.Errorf("bridge on the app's site, forged host %q: %d", forged, resp.StatusCode)
		}
	}
}

// frankID is the friend's user id on the host.
func frankID(t *testing.T, s *stack) int64 {
	users, err := s.st.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == "frank" {
			return u.ID
		}
	}
	t.Fatal("frank never signed in")
	return 0
}
