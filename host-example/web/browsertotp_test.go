package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
)

// The admin sets up a TOTP code on the Security page, signs out, and signs in again with the
// password and then the code.
func TestBrowserAdminTOTPSignIn(t *testing.T) {
	clock := newTestClock()
	h := newHarness(t, func(c *app.Config) { c.Clock = clock.now })
	ctx := newBrowser(t)
	steps(t, ctx, "sign in and open Security",
		chromedp.Navigate(h.host.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#nav-security"),
		click("#nav-security"), visible("#totp-begin"),
		chromedp.SendKeys(chromedp.CSS("#totp-begin-form input[name=proof_password]"), adminPassword), click("#totp-begin"), visible("#totp-secret"), visible("#totp-qr"))
	secret := strings.TrimSpace(textOf(t, ctx, "#totp-secret"))
	if !regexp.MustCompile(`^[A-Z2-7]{16,}$`).MatchString(secret) || !strings.HasPrefix(textOf(t, ctx, "#totp-uri"), "otpauth://totp/") {
		t.Fatalf("enrolment shows secret %q, URI %q", secret, textOf(t, ctx, "#totp-uri"))
	}
	screenshot(t, ctx, "admin-totp-enrol")
	steps(t, ctx, "confirm the code",
		chromedp.SendKeys(chromedp.CSS("#totp-confirm-code"), clock.code(t, secret, 0)),
		chromedp.SendKeys(chromedp.CSS("#totp-confirm-form input[name=proof_password]"), adminPassword), click("#totp-confirm"), visible("#totp-state"))
	waitText(t, ctx, "#totp-state", "On")
	steps(t, ctx, "sign out", click("#nav-logout"), visible("#admin-password"))

	clock.advance(2 * host.TOTPPeriod)
	steps(t, ctx, "password, then the code",
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#admin-code"))
	screenshot(t, ctx, "admin-totp")
	steps(t, ctx, "enter the code",
		chromedp.SendKeys(chromedp.CSS("#admin-code"), clock.code(t, secret, 0)), click("#admin-code-continue"), visible("#nav-security"))
	waitLocation(t, ctx, "/admin")
}
