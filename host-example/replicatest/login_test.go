package replicatest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
)

// loginAttempts bounds the Chromium logins tried until one began and finished on different
// replicas (round-robin puts them on the same one about one time in three).
const loginAttempts = 6

// testBrowserLogin: a Plex login in Chromium through nginx, whose pages land on different
// replicas; it finishes, and at least one login begun on one replica (POST /login/plex)
// finished on another (GET /callback).
func testBrowserLogin(t *testing.T, c *cluster) {
	ctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	crossed := 0
	for attempt := 1; attempt <= loginAttempts && crossed == 0; attempt++ {
		if _, err := chromedp.Run(ctx, clearCookies()); err != nil {
			t.Fatal(err)
		}
		mark := c.nginx.mark(t)
		browsertest.Steps(t, ctx, "Plex login", append([]browsertest.Action{chromedp.Navigate(c.auth + "/login"), browsertest.Visible("#login-plex"),
			browsertest.Click("#login-plex")}, browsertest.ApproveAs("friend")...)...)
		browsertest.Steps(t, ctx, "the portal", browsertest.Visible("#portal-hello")) // a login without a return address ends on the person's apps
		var begun, finished string
		served := map[string]int{}
		var trail []string
		for _, e := range c.nginx.entries(t, mark) {
			if e.host != "auth.example.test" || len(e.upstreams) == 0 {
				continue
			}
			r := c.replicaOf(e.upstreams[len(e.upstreams)-1])
			served[r]++
			path, _, _ := strings.Cut(e.request, "?")
			trail = append(trail, r+" "+path)
			switch {
			case strings.HasPrefix(e.request, "POST /login/plex "):
				begun = r
			case strings.HasPrefix(e.request, "GET /callback?"):
				finished = r
			}
		}
		t.Logf("login %d: begun on %s, finished on %s; requests per replica %v; %s", attempt, begun, finished, served, strings.Join(trail, " | "))
		if begun == "" || finished == "" {
			t.Fatalf("the access log lacks the login's begin or callback: %v", trail)
		}
		if len(served) < 2 {
			t.Errorf("login %d: every page on one replica under round-robin: %v", attempt, served)
		}
		if begun != finished {
			crossed++
		}
	}
	if crossed == 0 {
		t.Fatalf("in %d logins none began and finished on different replicas", loginAttempts)
	}
}

// clearCookies empties the browser's cookies: the next login starts signed out.
func clearCookies() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return chromedp.Void{}, err
	}
}
