package web_test

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

var (
	steps        = browsertest.Steps
	waitLocation = browsertest.WaitLocation
	waitText     = browsertest.WaitText
	textOf       = browsertest.Text
	screenshot   = browsertest.Screenshot
	click        = browsertest.Click
	visible      = browsertest.Visible
)

func newBrowser(t *testing.T) context.Context { return browsertest.New(t) }

// approveAs picks a persona on the simulated app.plex.tv page.
func approveAs(persona string) []chromedp.Action[chromedp.Void] {
	sel := `button.persona[data-persona="` + persona + `"]`
	return []chromedp.Action[chromedp.Void]{visible(sel), click(sel)}
}

func userLogin(t *testing.T, ctx context.Context, h *harness, persona string) string {
	t.Helper()
	steps(t, ctx, "login as "+persona, append(append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(h.host.URL + "/login"), click("#login-plex")},
		approveAs(persona)...), visible("#profile, #message"))...)
	return textOf(t, ctx, "main")
}

func TestBrowserAdminSetupAndLogins(t *testing.T) {
	h := newHarness(t, nil)
	ctx := newBrowser(t)
	// The admin signs in and creates a Plex source from scratch.
	steps(t, ctx, "create source",
		chromedp.Navigate(h.host.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword),
		click("#admin-login"), visible("#new-plex"), click("#new-plex"), visible("#src-name"),
		chromedp.SendKeys(chromedp.CSS("#src-name"), "Plex"),
		chromedp.SendKeys(chromedp.CSS("#src-slug"), "plex"),
		click("#create-source"), visible("#action-load_servers"))
	screenshot(t, ctx, "admin-form")
	// "Sign in to Plex to load servers": the same full-page redirect as a login.
	steps(t, ctx, "load servers", append(append([]chromedp.Action[chromedp.Void]{click("#action-load_servers")}, approveAs("owner")...),
		visible("#save-choices"), click("#pick-"+plexsim.ServerLivingRoom), click("#pick-"+plexsim.ServerCabin),
		click("#save-choices"), visible("#flash"))...)
	if flash := textOf(t, ctx, "#flash"); !strings.Contains(flash, "Servers saved") {
		t.Fatalf("after picking servers: %q", flash)
	}
	// A broken mapping shows line:column beside the editor.
	steps(t, ctx, "broken mapping",
		chromedp.SetValue(chromedp.CSS("#f-mappings"), "[roles]\ngroups: user.is_ownr ? [\"vip\"] : []"),
		click("#save"), visible("#field-mappings .field-error"))
	if errText := textOf(t, ctx, "#field-mappings .field-error"); !strings.Contains(errText, "mappings.roles.groups:1:5") || !strings.Contains(errText, "is_ownr") {
		t.Fatalf("editor error %q", errText)
	}
	screenshot(t, ctx, "mapping-editor")
	steps(t, ctx, "fix mapping and enable",
		chromedp.SetValue(chromedp.CSS("#f-mappings"), "[roles]\ngroups: user.username == \"frank\" ? [\"vip\"] : []"),
		click("#save"))
	waitLocation(t, ctx, "flash=Saved")
	// The live preview evaluates the unsaved text against a user of the owner's list.
	steps(t, ctx, "preview", chromedp.SendKeys(chromedp.CSS("#preview-user"), "2001"), click("#preview-run"))
	waitText(t, ctx, "#preview-out", "vip")
	steps(t, ctx, "preview a broken draft", chromedp.SetValue(chromedp.CSS("#f-mappings"), "[roles]\ngroups: user.is_ownr"), click("#preview-run"))
	waitText(t, ctx, "#preview-out", "mappings.roles.groups:1:5")
	steps(t, ctx, "enable", chromedp.Navigate(h.host.URL+"/admin"), click("#enable-plex"), visible("#disable-plex"))

	// Users log in in a second tab of the same browser.
	uctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	text := userLogin(t, uctx, h, "friend")
	for _, want := range []string{"Frank Friend", "vip", "plex-friend", "plex-server:Living Room"} {
		if !strings.Contains(text, want) {
			t.Errorf("profile lacks %q: %s", want, text)
		}
	}
	screenshot(t, uctx, "login-result")
	steps(t, uctx, "logout", click("#profile button.secondary"), visible("#login-plex"))

	text = userLogin(t, uctx, h, "noshare")
	if !strings.Contains(text, "Access denied") || !strings.Contains(text, "does not have access to this server") {
		t.Fatalf("refusal page: %s", text)
	}

	// kill -9 of the plugin process: the next login still succeeds.
	if err := syscall.Kill(h.srv.Plugin("plex").P.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	text = userLogin(t, uctx, h, "google")
	if !strings.Contains(text, "Gus Google") {
		t.Fatalf("login after kill -9: %s", text)
	}

	// Full-page redirects only: no popup or other page ever opened.
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, tg := range targets {
		if tg.Type == "page" {
			pages++
		}
	}
	if pages != 2 { // the admin's tab and the user's
		t.Fatalf("%d page targets, want 2 (a popup opened?)", pages)
	}
}
