package web_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/store"

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

// userLogin signs in as persona and answers the text of the profile (a sign-in ends on the
// person's apps), or of the refusal.
func userLogin(t *testing.T, ctx context.Context, h *harness, persona string) string {
	t.Helper()
	steps(t, ctx, "login as "+persona, append(append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(h.host.URL + "/login"), click("#login-plex")},
		browsertest.ApproveAs(persona)...), visible("#portal-hello, #message"))...)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#portal-hello").length`)); n == 1 {
		steps(t, ctx, "profile", chromedp.Navigate(h.host.URL+"/profile"), visible("#profile"))
	}
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
	steps(t, ctx, "load servers", append(append([]chromedp.Action[chromedp.Void]{click("#action-load_servers")}, browsertest.ApproveAs("owner")...),
		visible("#save-choices"), click("#pick-"+plexsim.ServerLivingRoom), click("#pick-"+plexsim.ServerCabin),
		click("#save-choices"), visible("#flash"))...)
	// Picked servers go into the form, unsaved: the admin reviews and saves.
	if flash := textOf(t, ctx, "#flash"); !strings.Contains(flash, "2 picked") || !strings.Contains(flash, "Nothing is saved yet") {
		t.Fatalf("after picking servers: %q", flash)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, "flash") {
		t.Fatalf("a notice travels in the URL: %s", loc)
	}
	// A broken mapping shows line:column beside the editor.
	steps(t, ctx, "broken mapping",
		chromedp.SetValue(chromedp.CSS("#f-mappings"), "[roles]\ngroups: user.is_ownr ? [\"vip\"] : []"),
		click("#save"), visible("#field-mappings .field-error"))
	if errText := textOf(t, ctx, "#field-mappings .field-error"); !strings.Contains(errText, "[roles] groups") ||
		!strings.Contains(errText, "Line 2, column 13: undefined field 'is_ownr'") || !strings.Contains(errText, "\n            ^") {
		t.Fatalf("editor error %q", errText)
	}
	screenshot(t, ctx, "mapping-editor")
	steps(t, ctx, "fix mapping and enable",
		chromedp.SetValue(chromedp.CSS("#f-mappings"), "[roles]\ngroups: user.username == \"frank\" ? [\"vip\"] : []"),
		click("#save"))
	waitText(t, ctx, "#flash", "Saved")
	// The live preview evaluates the unsaved text against a user of the owner's list.
	steps(t, ctx, "preview", chromedp.SendKeys(chromedp.CSS("#preview-user"), "2001"), click("#preview-run"))
	waitText(t, ctx, "#preview-out", "vip")
	steps(t, ctx, "preview a broken draft", chromedp.SetValue(chromedp.CSS("#f-mappings"), "[roles]\ngroups: user.is_ownr"), click("#preview-run"))
	waitText(t, ctx, "#preview-out", "Line 2, column 13")
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
	if err := syscall.Kill(h.srv.Plugin("plex").Process.Pid(), syscall.SIGKILL); err != nil {
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

// An admin whose session ended while editing keeps the edits: a password page, then the kept
// form to send again. The header says who is signed in and offers to log out; /login and the
// log-out say so too.
func TestBrowserSessionEndedKeepsEditsAndSignedInStates(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := newBrowser(t)
	steps(t, ctx, "admin login", chromedp.Navigate(h.host.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#nav-logout"),
		chromedp.Navigate(h.host.URL+"/admin/sources/"+src.ID), visible("#f-mappings"))
	if _, err := h.store.DeleteAdminSessions(context.Background()); err != nil { // the session ends meanwhile
		t.Fatal(err)
	}
	steps(t, ctx, "save after the session ended", chromedp.SetValue(chromedp.CSS("#f-mappings"), "[kept]\ngroups: [\"kept-edit\"]"),
		click("#save"), visible("#resume-note"))
	screenshot(t, ctx, "admin-session-ended")
	steps(t, ctx, "log in again", chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"),
		visible("#resume-form"))
	if text := textOf(t, ctx, "#resume-form"); !strings.Contains(text, "kept-edit") || !strings.Contains(text, "(hidden)") {
		t.Fatalf("kept form: %s", text) // the edit shown, the owner token masked
	}
	steps(t, ctx, "send again", click("#resume-send"))
	waitText(t, ctx, "#flash", "Saved")
	saved, err := h.store.Source(context.Background(), src.ID)
	if err != nil || !strings.Contains(string(saved.Config), "kept-edit") {
		t.Fatalf("the kept edit was not saved: %v", err)
	}
	steps(t, ctx, "admin logs out", click("#nav-logout"), visible("#info"))
	if info := textOf(t, ctx, "#info"); !strings.Contains(info, "signed out") {
		t.Fatalf("after the admin's log-out: %q", info)
	}

	// A user: the header offers the profile and a log-out; /login says who is signed in.
	userLogin(t, ctx, h, "friend")
	steps(t, ctx, "signed in", visible("#nav-profile"), chromedp.Navigate(h.host.URL+"/login"), visible("#signed-in"))
	if s := textOf(t, ctx, "#signed-in"); !strings.Contains(s, "Frank Friend") {
		t.Fatalf("/login while signed in: %q", s)
	}
	steps(t, ctx, "user logs out", click("#nav-logout"), visible("#info"), visible("#login-plex"))
	// Back on the sign-in page, signed out: no profile, no sign-out, and no link to the page itself.
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#nav-login, #nav-logout, #nav-profile").length`)); n != 0 {
		t.Fatalf("the signed-out sign-in page's header has %d sign-in/out links", n)
	}
}

// On a phone (390 px wide) no page scrolls sideways, and the admin tables become stacked
// cards: every action in them is on screen.
func TestBrowserPhoneLayout(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	if err := h.store.PutOIDCClient(context.Background(), store.OIDCClient{ID: "grafana", Name: "Grafana", RedirectURIs: []string{"https://grafana.example.test/login/generic_oauth"},
		Origin: "ui"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.PutForwardRule(context.Background(), store.ForwardRule{Name: "Sonarr", Host: "sonarr.example.test", Groups: []string{"plex-friend"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.srv.Notify.Save(context.Background(), notify.TargetInput{Name: "Home Assistant", Format: notify.Webhook,
		URL: "http://homeassistant.local:8123/api/webhook/host-example", Kinds: []string{"refusal", "first_sign_in"}, Secret: "0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	steps(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	steps(t, ctx, "login page", chromedp.Navigate(h.host.URL+"/login"), visible("#login-plex"))
	screenshot(t, ctx, "phone-login")
	userLogin(t, ctx, h, "friend")
	pages := []string{"/profile", "/"}
	steps(t, ctx, "admin login", chromedp.Navigate(h.host.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#new-plex"))
	pages = append(pages, "/admin", "/admin/sources/"+src.ID, "/admin/users", "/admin/events", "/admin/clients", "/admin/forward-auth", "/admin/notifications")
	for _, p := range pages {
		steps(t, ctx, "open "+p, chromedp.Navigate(h.host.URL+p), visible("main"))
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= 391`))
		if err != nil {
			t.Fatal(err)
		}
		if !fits {
			w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			t.Errorf("%s is %d px wide on a 390 px phone", p, w)
		}
		offscreen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main table a, main table button"))
			.filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		if len(offscreen) > 0 {
			t.Errorf("%s: actions off-screen on a 390 px phone: %q", p, offscreen)
		}
		if p == "/admin/users" {
			screenshot(t, ctx, "phone-users")
		}
		if p == "/admin/notifications" {
			screenshot(t, ctx, "phone-notifications")
		}
	}
}

// The mapping editor shows the defaults it builds on, previews a person from their last
// login (and agrees with it), and the dry run answers by username beside its form.
func TestBrowserPreviewAgreesWithLogin(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := newBrowser(t)
	userLogin(t, ctx, h, "friend")
	frank, err := h.store.FindUser(context.Background(), src.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, "admin", chromedp.Navigate(h.host.URL+"/admin/login"), chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword),
		click("#admin-login"), visible("#new-plex"), chromedp.Navigate(h.host.URL+"/admin/sources/"+src.ID), visible("#f-mappings"),
		click("#defaults summary"), visible("#defaults-text"))
	if d := textOf(t, ctx, "#defaults-text"); !strings.Contains(d, "plex-owner") {
		t.Fatalf("defaults: %q", d)
	}
	steps(t, ctx, "preview frank", chromedp.SendKeys(chromedp.CSS("#preview-user"), "frank"))
	waitText(t, ctx, "#preview-out", "last login")
	out := textOf(t, ctx, "#preview-out")
	for _, want := range append([]string{"Would be let in", "frank@example.com (verified)"}, frank.Groups...) {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q (the login gave it): %s", want, out)
		}
	}
	// An edit updates the preview by itself.
	steps(t, ctx, "edit", chromedp.SendKeys(chromedp.CSS("#f-mappings"), "[x]\ngroups: [\"from-the-edit\"]\n"))
	waitText(t, ctx, "#preview-out", "from-the-edit")
	screenshot(t, ctx, "mapping-preview")
	steps(t, ctx, "dry run", chromedp.SendKeys(chromedp.CSS("#dryrun-sub"), "frank"), click("#dryrun"), visible("#dryrun-result"))
	if r := textOf(t, ctx, "#dryrun-result"); !strings.Contains(r, "Would get in.") || !strings.Contains(r, "plex-friend") {
		t.Fatalf("dry run: %s", r)
	}
	screenshot(t, ctx, "dry-run")
}

// "Who is watching?": the header says a sign-in is under way (no sign-in link), each profile
// shows its avatar (served by the simulated plex.tv), the PIN field shows only for a protected
// profile, and "Not you?" starts over; the profile then lists the apps and where one is signed in.
func TestBrowserWhoIsWatching(t *testing.T) {
	sim, simURL := plexsim.Serve(t, plexsim.DefaultWorld())
	h := newHarnessOn(t, sim, simURL, func(c *app.Config) { c.ImageSources = []string{simURL} })
	h.addSource(homeProfilesConfig)
	if _, err := h.store.PutForwardRule(context.Background(), store.ForwardRule{Name: "Kids' films", Host: "films.example.test"}); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	steps(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	steps(t, ctx, "login page", chromedp.Navigate(h.host.URL+"/login"), visible("#login-plex"))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#nav-login").length`)); n != 0 {
		t.Fatal("the login page links the login page")
	}
	steps(t, ctx, "owner", append(append([]chromedp.Action[chromedp.Void]{click("#login-plex")}, browsertest.ApproveAs("owner")...), visible("#step"))...)
	if s := textOf(t, ctx, "header"); !strings.Contains(s, "Signing in") || strings.Contains(s, "Sign in") {
		t.Fatalf("header during the step: %q", s)
	}
	kid := "#choice-" + kidProfile
	steps(t, ctx, "avatars", chromedp.Poll[chromedp.Void](`document.querySelectorAll("#step .choice img").length > 1 &&
		Array.from(document.querySelectorAll("#step .choice img")).every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second)))
	pinShown := func() bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("#label-pin")).display !== "none"`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if pinShown() {
		t.Error("the PIN field shows for the account itself, which has none")
	}
	steps(t, ctx, "pick the kid", click(kid))
	if !pinShown() {
		t.Fatal("no PIN field for the protected profile")
	}
	screenshot(t, ctx, "who-is-watching")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#not-you").getAttribute("href")`))
	if err != nil || !strings.HasPrefix(href, "/login") {
		t.Fatalf("Not you? links %q", href)
	}
	steps(t, ctx, "pin", chromedp.SendKeys(chromedp.CSS("#field-pin"), "1234"), click("#step-continue"), visible("#portal-hello"),
		chromedp.Navigate(h.host.URL+"/profile"), visible("#profile"))
	for sel, want := range map[string]string{"#p-apps": "Kids' films", "#p-sessions": "This site, in a browser"} {
		if got := textOf(t, ctx, sel); !strings.Contains(got, want) {
			t.Errorf("%s lacks %q: %s", sel, want, got)
		}
	}
	if got := textOf(t, ctx, "#profile"); strings.Contains(got, "account id") {
		t.Errorf("a person's own profile shows account ids: %s", got)
	}
	screenshot(t, ctx, "phone-profile")
}
