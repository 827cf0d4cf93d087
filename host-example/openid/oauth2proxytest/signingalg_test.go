package oauth2proxytest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Two oauth2-proxies of one host, registered in the clients file, one with
// "id_token_signed_response_alg": "ES256" and one without (the default, RS256): the friend
// signs in through each (each proxy verified its id_token against the JWKS, or there is no
// sign-in), and the id_token each passes on to the app (--pass-authorization-header) is signed
// with its own client's algorithm. The ES256 proxy refreshes its session (offline_access,
// --cookie-refresh): the refreshed id_token, verified again, is ES256 too; after the file
// drops the ES256 client's algorithm (a restart), its next refresh brings an RS256 one.
func TestOAuth2ProxyPerClientAlgorithm(t *testing.T) {
	bin := browsertest.Required(t, "oauth2-proxy (OAUTH2_PROXY=$(scripts/oauth2-proxy))", os.Getenv("OAUTH2_PROXY"))
	sim, simURL := plexsim.Serve(t, plexsim.DefaultWorld())
	upstream := newEchoApp(t)
	rs, es := newProxy(t, "whoami"), newProxy(t, "whoami-es")
	es.alg, es.refresh = "ES256", true
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...),
		hosttest.Config(func(c *app.Config) { c.FileClients = readClients(t, rs, es) }))
	h.AddSource("plex", "plex", "Plex", membersConfig, sim.Token("owner"))
	es.start(t, bin, h.URL, upstream.URL, "--pass-authorization-header", "--scope=openid profile email groups offline_access", "--cookie-refresh=1s")
	rs.start(t, bin, h.URL, upstream.URL, "--pass-authorization-header", "--cookie-name=_oauth2_proxy_rs")

	friend := browsertest.New(t)
	browsertest.Steps(t, friend, "friend signs in at the ES256 app", append(append([]browsertest.Action{
		chromedp.Navigate(es.url + "/"), browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")},
		browsertest.ApproveAs("friend")...), browsertest.Visible("#seen"))...)
	first := idToken(t, browsertest.Text(t, friend, "#seen"))
	if got := algOf(t, first); got != "ES256" {
		t.Fatalf("the ES256 app's id_token is signed with %q", got)
	}
	// Still signed in at host-example: the RS256 app's proxy gets its own id_token at once.
	browsertest.Steps(t, friend, "friend at the RS256 app", chromedp.Navigate(rs.url+"/"), browsertest.Visible("#seen"))
	if got := algOf(t, idToken(t, browsertest.Text(t, friend, "#seen"))); got != "RS256" {
		t.Fatalf("the RS256 app's id_token is signed with %q", got)
	}

	// The ES256 proxy's session refreshes: its new id_token keeps the client's algorithm.
	refreshed := nextToken(t, friend, es, first)
	if got := algOf(t, refreshed); got != "ES256" {
		t.Fatalf("the refreshed id_token is signed with %q", got)
	}
	// The file drops the client's own algorithm: at its next refresh it gets the default's.
	es.alg = ""
	h.Restart(func(c *app.Config) { c.FileClients = readClients(t, rs, es) })
	if got := algOf(t, nextToken(t, friend, es, refreshed)); got != "RS256" {
		t.Fatalf("after the change the refreshed id_token is signed with %q, want the default RS256", got)
	}
}

// nextToken loads pages of the app behind proxy p until the id_token it passes on is no
// longer prev, and answers the new one, which p's log shows came with a refresh.
func nextToken(t *testing.T, ctx context.Context, p *proxy, prev string) string {
	t.Helper()
	refreshes := strings.Count(p.logs(), "Refreshing session")
	for i := 0; i < 40; i++ {
		time.Sleep(250 * time.Millisecond) // past --cookie-refresh
		browsertest.Steps(t, ctx, "the app again", chromedp.Navigate(fmt.Sprintf("%s/?n=%d", p.url, i)), browsertest.Visible("#seen"))
		if tok := idToken(t, browsertest.Text(t, ctx, "#seen")); tok != prev {
			// A refresh, not a new sign-in after a failed one.
			if logs := p.logs(); strings.Count(logs, "Refreshing session") == refreshes || strings.Contains(logs, "Unable to refresh") {
				t.Fatalf("the id_token changed without a refresh:\n%s", logs)
			}
			return tok
		}
	}
	t.Fatalf("the proxy %s never refreshed its id_token:\n%s", p.clientID, p.logs())
	return ""
}

// idToken is the id_token in the Authorization header the echo app shows.
func idToken(t *testing.T, seen string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(headers(t, seen)["Authorization"], "Bearer ")
	if !ok {
		t.Fatalf("the app got no id_token: %s", seen)
	}
	return tok
}

// algOf is the alg of an id_token's header.
func algOf(t *testing.T, tok string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h struct{ Alg string }
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("id_token header of %q: %v", tok, err)
	}
	return h.Alg
}
