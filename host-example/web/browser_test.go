package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// chromium finds Debian's Chromium; CI installs it, so there a missing browser fails.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := exec.LookPath(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not installed (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium not installed")
	return ""
}

func newBrowser(t *testing.T) context.Context {
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1000),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true)}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// steps runs actions, failing the test with what was being done.
func steps(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v (at %s: %.500s)", what, err, loc, body)
	}
}

// waitLocation waits until the tab's URL contains part.
func waitLocation(t *testing.T, ctx context.Context, part string) {
	t.Helper()
	var loc string
	for i := 0; i < 100; i++ {
		loc, _ = chromedp.Run(ctx, chromedp.Location())
		if strings.Contains(loc, part) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("location %s never contained %q: %.800s", loc, part, textOf(t, ctx, "main"))
}

// waitText waits until the element's text contains part.
func waitText(t *testing.T, ctx context.Context, sel, part string) {
	t.Helper()
	var text string
	for i := 0; i < 100; i++ {
		text, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if strings.Contains(text, part) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q: %q", sel, part, text)
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Error(err)
	}
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

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
