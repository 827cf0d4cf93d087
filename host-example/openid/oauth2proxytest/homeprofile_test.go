package oauth2proxytest_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// homeProfilesConfig is membersConfig with "Let Plex Home members pick a profile" on.
var homeProfilesConfig = strings.Replace(membersConfig, `"access_mode":"members"`, `"access_mode":"members","home_profiles":true`, 1)

// kidProfile is the managed Home profile's uuid (the "Who is watching?" choice) in the default world.
const kidProfile = "60718293a4b5c6d7"

// A managed Home profile has no e-mail: through the recipe as it is, oauth2-proxy answers its
// 500 page after the login; with the addition docs/oidc.md gives for such profiles
// (--oidc-email-claim=sub, read from the page) the profile signs in, and the app receives its
// opaque sub (in X-Forwarded-Email too) and its name.
func TestOAuth2ProxyManagedHomeProfile(t *testing.T) {
	bin := browsertest.Required(t, "oauth2-proxy (OAUTH2_PROXY=$(scripts/oauth2-proxy))", os.Getenv("OAUTH2_PROXY"))
	addition := recipeAddition(t, "managed Home profiles (no e-mail) too")
	sim, simURL := plexsim.Serve(t, plexsim.DefaultWorld())
	upstream := newEchoApp(t)
	plain, homes := newProxy(t, "whoami"), newProxy(t, "whoami-homes")
	clients := readClients(t, plain, homes)
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...),
		hosttest.Config(func(c *app.Config) { c.FileClients = clients }))
	h.AddSource("plex", "plex", "Plex", homeProfilesConfig, sim.Token("owner"))
	plain.start(t, bin, h.URL, upstream.URL)
	homes.start(t, bin, h.URL, upstream.URL, addition, "--cookie-name=_oauth2_proxy_homes")

	// The owner signs in with Plex and picks the Kid profile (its PIN) at "Who is watching?".
	kid := browsertest.New(t)
	browsertest.Steps(t, kid, "the kid signs in", append(append([]browsertest.Action{
		chromedp.Navigate(plain.url + "/"), browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")},
		browsertest.ApproveAs("owner")...), browsertest.Visible("#step"), browsertest.Click("#choice-"+kidProfile),
		chromedp.SendKeys(chromedp.CSS("#field-pin"), "1234"), browsertest.Click("#step-continue"), browsertest.Visible(".status-code"))...)
	if code := status(t, kid); code != http.StatusInternalServerError {
		t.Fatalf("the kid through the plain recipe: status %d, want oauth2-proxy's 500: %s", code, browsertest.Text(t, kid, "body"))
	}

	// Through the proxy with the addition: in, still signed in at host-example.
	browsertest.Steps(t, kid, "the kid at the proxy with "+addition, chromedp.Navigate(homes.url+"/shows"), browsertest.Visible("#seen, .status-code"))
	if code := status(t, kid); code != http.StatusOK {
		t.Fatalf("the kid through the proxy with %s: status %d: %s", addition, code, browsertest.Text(t, kid, "body"))
	}
	browsertest.WaitLocation(t, kid, homes.url+"/shows")
	users, err := h.Store.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var sub string
	for _, u := range users {
		if u.Name == "Kid" && u.Email == "" {
			sub = u.PublicID
		}
	}
	if sub == "" {
		t.Fatalf("no user for the Kid profile among %d", len(users))
	}
	seen := headers(t, browsertest.Text(t, kid, "#seen"))
	for name, want := range map[string]string{"X-Forwarded-User": sub, "X-Forwarded-Email": sub, "X-Forwarded-Preferred-Username": "Kid"} {
		if seen[name] != want {
			t.Errorf("the app got %s %q, want %q (all: %q)", name, seen[name], want, seen)
		}
	}
}
