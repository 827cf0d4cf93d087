package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// In Chromium: a friend admitted to two of three apps sees exactly those two tiles (one with
// its icon, served from this site under its CSP) and reaches each by a click; the owner sees
// all three; on a 390 px phone no tile is off-screen and the page does not scroll sideways.
func TestBrowserPortalTiles(t *testing.T) {
	apps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		fmt.Fprintf(w, "<!doctype html><title>app</title><p id=app>app %s %s</p>", host, r.URL.Path)
	}))
	t.Cleanup(apps.Close)
	_, port, _ := net.SplitHostPort(apps.Listener.Addr().String())
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	sonarr, _ := portalApps(t, h, "sonarr.example.test:"+port, "radarr.example.test:"+port, "http://127.0.0.1:"+port+"/grafana/")
	if err := h.store.PutAppIcon(context.Background(), store.AppIcon{Kind: store.RuleIcon, AppID: sonarr, ContentType: "image/png", Data: pngIcon(t)}); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	signIn := func(persona string) []string {
		t.Helper()
		steps(t, ctx, "sign in as "+persona, append(append([]browsertest.Action{chromedp.Navigate(h.host.URL + "/login"), click("#login-plex")},
			browsertest.ApproveAs(persona)...), visible("#portal-hello"))...)
		names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#tiles .tile strong")).map(e => e.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	if names := signIn("friend"); !slices.Equal(names, []string{"Grafana", "Sonarr"}) {
		t.Fatalf("the friend's tiles: %q", names)
	}
	steps(t, ctx, "the icon", chromedp.Poll[chromedp.Void](`Array.from(document.querySelectorAll("#tiles img.app-icon")).some(i => i.complete && i.naturalWidth == 16)`,
		chromedp.WithPollingTimeout(10*time.Second)))
	screenshot(t, ctx, "portal")
	for tile, want := range map[string]string{sonarr: "app sonarr.example.test /", "grafana": "app 127.0.0.1 /grafana/"} {
		steps(t, ctx, "open "+tile, chromedp.Navigate(h.host.URL+"/"), visible("#tiles"), click(`#tiles .tile[data-id="`+tile+`"] a`), visible("#app"))
		if got := textOf(t, ctx, "#app"); got != want {
			t.Errorf("the %s tile opened %q, want %q", tile, got, want)
		}
	}
	steps(t, ctx, "sign out", chromedp.Navigate(h.host.URL+"/"), visible("#nav-logout"), click("#nav-logout"), visible("#login-plex"))
	if names := signIn("owner"); !slices.Equal(names, []string{"Grafana", "Radarr", "Sonarr"}) {
		t.Fatalf("the owner's tiles: %q", names)
	}
	steps(t, ctx, "the header's Apps link", chromedp.Navigate(h.host.URL+"/profile"), visible("#profile"), click("#nav-apps"), visible("#tiles"))
	steps(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), visible("#tiles"))
	offscreen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#tiles .tile")).filter(e => {
		const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth + 1 || r.width < 40 }).map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if len(offscreen) > 0 {
		t.Errorf("tiles off-screen on a 390 px phone: %q", offscreen)
	}
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 391 {
		t.Errorf("the portal is %d px wide on a 390 px phone", w)
	}
	screenshot(t, ctx, "phone-portal")
	steps(t, ctx, "open Radarr on the phone", click(`#tiles .tile[data-id] a[href*="radarr"]`), visible("#app"))
	if got := textOf(t, ctx, "#app"); !strings.HasPrefix(got, "app radarr.example.test") {
		t.Errorf("the Radarr tile opened %q", got)
	}
}
