// Package browsertest drives Debian's headless Chromium (through chromedp) for the host's
// browser tests: start a browser, run steps that fail the test with where the page was,
// wait for a location or a text, take screenshots for docs/screenshots.
package browsertest

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Action is one browser step.
type Action = chromedp.Action[chromedp.Void]

// Required finds the program (the first of paths on the PATH or as given). CI (CI set)
// installs it, so there a missing program fails the test; elsewhere the test is skipped.
func Required(t testing.TB, what string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if p != "" {
			if found, err := exec.LookPath(p); err == nil {
				return found
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not installed (.ci/run installs it)", what)
	}
	t.Skipf("%s not installed", what)
	return ""
}

// New starts headless Chromium with a fresh profile and extra flags (such as
// host-resolver-rules); it ends with the test.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ctx, _ := Open(t, t.TempDir(), extra...)
	return ctx
}

// Open starts headless Chromium on the profile in dir (a folder the test keeps, so a second
// Open is the same browser started again) with extra flags. stop shuts it down as a person
// closing the browser does: it writes its cookies to the profile and ends; else it ends with
// the test.
func Open(t testing.TB, dir string, extra ...chromedp.ExecAllocatorOption) (ctx context.Context, stop func()) {
	t.Helper()
	path := Required(t, "chromium (Debian's chromium)", os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser")
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(dir), chromedp.WindowSize(1200, 1000),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true)}, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(bctx, 120*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, func() {
		if err := chromedp.Cancel(bctx); err != nil { // Browser.close: a clean shutdown
			t.Errorf("close chromium: %v", err)
		}
		cancel3()
		cancel() // waits for the process to end
	}
}

// Steps runs actions, failing the test with what was being done and where the page was.
func Steps(t testing.TB, ctx context.Context, what string, actions ...Action) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v (at %s: %.500s)", what, err, loc, body)
	}
}

// WaitLocation waits until the tab's URL contains part.
func WaitLocation(t testing.TB, ctx context.Context, part string) {
	t.Helper()
	var loc string
	for i := 0; i < 100; i++ {
		loc, _ = chromedp.Run(ctx, chromedp.Location())
		if strings.Contains(loc, part) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	t.Fatalf("location %s never contained %q: %.800s", loc, part, body)
}

// WaitText waits until the element's text contains part.
func WaitText(t testing.TB, ctx context.Context, sel, part string) {
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

// Text is the element's text.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Screenshot saves the page as SCREENSHOT_DIR/name.png when SCREENSHOT_DIR is set.
func Screenshot(t testing.TB, ctx context.Context, name string) {
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

// ApproveAs picks persona on the simulated upstream's approval page.
func ApproveAs(persona string) []Action {
	sel := `button.persona[data-persona="` + persona + `"]`
	return []Action{Visible(sel), Click(sel)}
}

// Click clicks the element sel.
func Click(sel string) Action { return chromedp.Click(chromedp.CSS(sel)) }

// Visible waits for the element sel to be visible.
func Visible(sel string) Action { return chromedp.WaitVisible(chromedp.CSS(sel)) }

// Cookies is the browser's cookies for the URL u (HttpOnly ones included).
func Cookies(u string) chromedp.Action[[]*http.Cookie] {
	return func(ctx context.Context, t *chromedp.Target) ([]*http.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
		if err != nil {
			return nil, err
		}
		out := make([]*http.Cookie, 0, len(res.Cookies))
		for _, c := range res.Cookies {
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, HttpOnly: c.HTTPOnly, Secure: c.Secure})
		}
		return out, nil
	}
}
