package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// phoneShot takes a screenshot of the page on a phone (390 px wide) besides the desktop one.
func phoneShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshot(t, ctx, name)
	steps(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), visible("main"))
	screenshot(t, ctx, "phone-"+name)
	steps(t, ctx, "desktop", chromedp.EmulateViewport(1200, 1000), chromedp.Reload(), visible("main"))
}

// The admin walks the home (the day's sign-ins and refusals), finds a person, reads their
// page and deletes them; the person signs in again and is new: another sub, a suffixed name.
func TestBrowserAdminHomePersonAndDeletion(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	ctx := newBrowser(t)
	// The person signs in in a browser of their own (a browser context apart from the admin's).
	uctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	userLogin(t, uctx, h, "noshare")
	userLogin(t, uctx, h, "friend")

	steps(t, ctx, "admin home", chromedp.Navigate(h.host.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#today"))
	if in, out := textOf(t, ctx, "#day-signins"), textOf(t, ctx, "#day-refused"); in != "1" || out != "1" {
		t.Fatalf("the day: %s sign-ins, %s refused; want 1 and 1", in, out)
	}
	if row := textOf(t, ctx, "#source-plex"); !strings.Contains(row, "frank") || !strings.Contains(row, "plugin running") {
		t.Fatalf("the source's row: %s", row)
	}
	phoneShot(t, ctx, "admin-home")

	steps(t, ctx, "find frank", chromedp.Navigate(h.host.URL+"/admin/users"), chromedp.SendKeys(chromedp.CSS("#users-q"), "Frank"),
		click("#user-search button"))
	waitLocation(t, ctx, "q=Frank") // the list before the search links frank too: click on the search's page
	steps(t, ctx, "open frank", visible("a.person-link"), click("a.person-link"), visible("#person"))
	sub, username := textOf(t, ctx, "#person-sub"), textOf(t, ctx, "#person-username")
	if username != "frank" || sub == "" {
		t.Fatalf("person page: username %q, sub %q", username, sub)
	}
	if ev := textOf(t, ctx, "#person-events"); !strings.Contains(ev, "Signed in") {
		t.Fatalf("person's events: %s", ev)
	}
	if s := textOf(t, ctx, "#person-sessions"); !strings.Contains(s, "this site") {
		t.Fatalf("person's sessions: %s", s)
	}
	phoneShot(t, ctx, "person-page")

	steps(t, ctx, "delete", click("#person-delete"), visible("#confirm-delete"))
	if keeps := textOf(t, ctx, "#delete-keeps"); !strings.Contains(keeps, "keep the name and the account id") || !strings.Contains(keeps, "new id for apps") {
		t.Fatalf("the confirmation: %s", keeps)
	}
	screenshot(t, ctx, "delete-person")
	steps(t, ctx, "confirm", click("#confirm-button"), visible("#flash"))
	waitText(t, ctx, "#flash", "was deleted")
	steps(t, uctx, "the person is signed out", chromedp.Navigate(h.host.URL+"/profile"), visible("#login-plex"))

	// He signs in again: a new person.
	userLogin(t, uctx, h, "friend")
	steps(t, ctx, "find him again", chromedp.Navigate(h.host.URL+"/admin/users?q=2001"), visible("a.person-link"), click("a.person-link"), visible("#person"))
	if again, name := textOf(t, ctx, "#person-sub"), textOf(t, ctx, "#person-username"); again == sub || name != "frank-2" {
		t.Fatalf("came back with sub %q (was %q), username %q", again, sub, name)
	}
}
