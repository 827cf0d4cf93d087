package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// In Chromium with a profile kept on disk: a sign-in without "Keep me signed in on this
// device" ends when the browser is closed; one with it survives closing and reopening the
// browser, is listed on the profile as kept signed in, and ends when the person is disabled.
func TestBrowserRememberedDeviceSurvivesARestart(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	profile := t.TempDir()
	signIn := func(ctx context.Context, remember bool) {
		t.Helper()
		acts := []chromedp.Action[chromedp.Void]{chromedp.Navigate(h.host.URL + "/login"), visible("#login-plex")}
		if remember {
			acts = append(acts, click("#remember"))
		}
		acts = append(append(acts, click("#login-plex")), browsertest.ApproveAs("friend")...)
		steps(t, ctx, "sign in", append(acts, visible("#portal-hello"), chromedp.Navigate(h.host.URL+"/profile"), visible("#profile"))...)
	}
	ctx, stop := browsertest.Open(t, profile)
	restart := func() {
		t.Helper()
		stop()
		ctx, stop = browsertest.Open(t, profile)
	}

	signIn(ctx, false)
	restart()
	steps(t, ctx, "an ordinary sign-in after a restart", chromedp.Navigate(h.host.URL+"/profile"), visible("#login-plex"))

	signIn(ctx, true)
	if text := textOf(t, ctx, "#p-sessions"); !strings.Contains(text, "kept signed in") {
		t.Fatalf("the profile does not list this device: %q", text)
	}
	restart()
	steps(t, ctx, "a remembered sign-in after a restart", chromedp.Navigate(h.host.URL+"/profile"), visible("#profile"))

	users, err := h.store.Users(context.Background())
	if err != nil || len(users) != 1 {
		t.Fatalf("users: %v %v", users, err)
	}
	if err := h.srv.People.Disable(context.Background(), users[0], store.DisabledByAdmin); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, "disabled", chromedp.Navigate(h.host.URL+"/profile"), visible("#login-plex"))
}
