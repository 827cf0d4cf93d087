package systemtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
)

// Behind Caddy a refused person sees host-example's denied page, not a blank 403: forward_auth
// copies the answer onto the app's origin, so the page carries its own security headers, its
// styles run by the answer's nonce (Chromium applies them under that CSP) and every link leads
// to the public host.
func TestCaddyShowsTheDeniedPage(t *testing.T) {
	eachCaddy(t, caddyShowsTheDeniedPage)
}

func caddyShowsTheDeniedPage(t *testing.T, caddy string) {
	f := newFixture(t)
	host := httptest.NewServer(f.srv)
	t.Cleanup(host.Close)
	addr := startCaddy(t, caddy, host.Listener.Addr().String(), newEchoApp(t).Listener.Addr().String(), "")
	port := strings.TrimPrefix(addr, "127.0.0.1:")
	app := "http://app.example.test:" + port
	friend := f.forwardToken(f.friend)

	get := func(u, token string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+strings.TrimPrefix(u, app), nil)
		req.Host = "app.example.test:" + port
		if token != "" {
			req.AddCookie(&http.Cookie{Name: "hx_forward", Value: token})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get(app+"/admin/settings", friend)
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	nonce := regexp.MustCompile(`style-src 'nonce-([A-Za-z0-9_-]{24})'`).FindStringSubmatch(csp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="denied"`) || nonce == nil ||
		!strings.Contains(body, `<style nonce="`+nonce[1]+`">`) || strings.Contains(csp, "'self'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("the denied page through Caddy: %d %v\n%.400s", resp.StatusCode, h, body)
	}
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(href[1], "http://auth.example.test/") {
			t.Errorf("a link that does not lead to the public host: %s", href[1])
		}
	}
	// A path refused outright, anonymously: the page too.
	if resp, body := get(app+"/api/..;/x", ""); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="denied"`) {
		t.Errorf("an unreadable path: %d %.200s", resp.StatusCode, body)
	}

	// In Chromium: the page shows, styled by its nonce, on the app's own address.
	ctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "hx_forward", Value: friend, URL: app + "/"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	browsertest.Steps(t, ctx, "refused", chromedp.Navigate(app+"/admin/settings"), browsertest.Visible("#denied"))
	browsertest.WaitLocation(t, ctx, app+"/admin/settings")
	if d := browsertest.Text(t, ctx, "#denied"); !strings.Contains(d, "No access to app.example.test/admin") || !strings.Contains(d, "Frank Friend") ||
		!strings.Contains(d, "only for members of plex-owner") {
		t.Fatalf("the denied page in the browser: %s", d)
	}
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header")).backgroundColor`))
	if err != nil || bg != "rgb(34, 34, 34)" {
		t.Fatalf("the page's styles did not apply (CSP?): %q %v", bg, err)
	}
	signOut, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#sign-out").href`))
	if err != nil || signOut != "http://auth.example.test/forward-auth/logout" {
		t.Fatalf("sign-out link: %q %v", signOut, err)
	}
}
