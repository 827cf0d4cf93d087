package systemtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Issue 30 #2: from an empty data folder and the first-start setup link, the first-run guide
// walks the admin through the password (typed twice), a source signed in with its owner
// account and its servers picked, turning it on and protecting a first app; the nginx lines
// the guide shows are what nginx then runs, and a friend signs in to the app behind them.
// The guide is left (for the source's own page) and resumed from the admin home.
func TestFirstRunGuideToAFriendSignedIn(t *testing.T) {
	s := newStackOf(t, noSource, false, hosttest.ProxyListener(), hosttest.Config(func(c *app.Config) { c.AdminPassword = "" }))
	nginx := browsertest.Required(t, "nginx (Debian's nginx)", "nginx", "/usr/sbin/nginx")
	if s.host.SetupToken == "" {
		t.Fatal("an empty data folder gave no setup link")
	}
	flags := []chromedp.ExecAllocatorOption{chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors", true)}
	ctx := browsertest.New(t, flags...)
	const password = "first-run-password"
	browsertest.Steps(t, ctx, "the setup link, passwords that differ",
		chromedp.Navigate(s.auth+"/setup?token="+s.host.SetupToken),
		chromedp.SendKeys(chromedp.CSS("#setup-password"), password), chromedp.SendKeys(chromedp.CSS("#setup-confirm"), password+"!"),
		browsertest.Click("#setup-save"), browsertest.Visible("#setup-error"))
	browsertest.Steps(t, ctx, "the password, then the guide",
		chromedp.SendKeys(chromedp.CSS("#setup-password"), password), chromedp.SendKeys(chromedp.CSS("#setup-confirm"), password),
		browsertest.Click("#setup-save"), browsertest.Visible("#step-2.current"))

	browsertest.Steps(t, ctx, "add the source", browsertest.Click("#setup-add-plex"), browsertest.Visible("#src-name"),
		chromedp.SendKeys(chromedp.CSS("#src-name"), "Plex"), chromedp.SendKeys(chromedp.CSS("#src-slug"), "plex"),
		browsertest.Click("#create-source"), browsertest.Visible("#action-load_servers"))
	browsertest.Steps(t, ctx, "sign in as the owner, pick a server, save", append(append([]browsertest.Action{browsertest.Click("#action-load_servers")},
		browsertest.ApproveAs("owner")...), browsertest.Visible("#save-choices"), browsertest.Click("#pick-"+plexsim.ServerLivingRoom),
		browsertest.Click("#save-choices"), browsertest.Visible("#flash"), browsertest.Click("#save"))...)
	browsertest.WaitText(t, ctx, "#flash", "Saved")

	browsertest.Steps(t, ctx, "resume from the admin home", chromedp.Navigate(s.auth+"/admin"), browsertest.Click("#continue-setup"),
		browsertest.Visible("#step-3.current"), browsertest.Click("#setup-enable"), browsertest.Visible("#step-4.current"))
	if n := count(t, ctx, "#setup-settings"); n != 0 {
		t.Fatalf("the guide asks for start options this host has: %s", browsertest.Text(t, ctx, "#setup-settings"))
	}
	appPort := freePort(t)
	browsertest.Steps(t, ctx, "protect the app",
		chromedp.SendKeys(chromedp.CSS("#setup-rule-name"), "Wiki"), chromedp.SendKeys(chromedp.CSS("#setup-rule-host"), "wiki.example.test:"+appPort),
		browsertest.Click("#setup-rule-save"), browsertest.Visible("#setup-summary"), browsertest.Visible("#proxy-config"))
	httpLines, server := browsertest.Text(t, ctx, "#nginx-http"), browsertest.Text(t, ctx, "#nginx-server")
	if !strings.Contains(server, "server_name wiki.example.test;") || !strings.Contains(httpLines, s.host.Proxy.Listener.Addr().String()) {
		t.Fatalf("the guide's nginx lines:\n%s\n%s", httpLines, server)
	}
	runGeneratedNginx(t, nginx, httpLines, server, "wiki.example.test", s.upstream.Listener.Addr().String())

	browsertest.Steps(t, ctx, "finish", browsertest.Click("#setup-finish"), browsertest.Visible("#flash"))
	if n := count(t, ctx, "#continue-setup"); n != 0 {
		t.Fatal("the admin home still offers the finished guide")
	}

	friend := browsertest.New(t, flags...)
	browsertest.Steps(t, friend, "the friend opens the app and signs in", append(append([]browsertest.Action{
		chromedp.Navigate("https://wiki.example.test:" + appPort + "/"), browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")},
		browsertest.ApproveAs("friend")...), browsertest.Visible("#seen"))...)
	if seen := browsertest.Text(t, friend, "#seen"); !strings.Contains(seen, "user=frank") {
		t.Fatalf("the app saw %q", seen)
	}
}

// count is how many elements sel matches on ctx's page.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
