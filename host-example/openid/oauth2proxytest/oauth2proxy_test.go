package oauth2proxytest_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

// membersConfig lets in the owner and the friends with a share on Living Room.
const membersConfig = `{"access_mode":"members","owner_token":"OWNER","allowed_servers":[{"machine_id":"` +
	plexsim.ServerLivingRoom + `","name":"Living Room"}]}`

// TestOAuth2ProxyRecipe runs two oauth2-proxies with the flags of docs/oidc.md (read from the
// page) in front of an app that echoes the headers it gets: a friend whose Plex e-mail is
// unconfirmed signs in through the first, and the app receives his groups, his opaque sub as
// X-Forwarded-User and his username as X-Forwarded-Preferred-Username; the second
// (--allowed-group=plex-owner) refuses him with its 403 and lets the owner in.
func TestOAuth2ProxyRecipe(t *testing.T) {
	bin := browsertest.Required(t, "oauth2-proxy (OAUTH2_PROXY=$(scripts/oauth2-proxy))", os.Getenv("OAUTH2_PROXY"))
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil {
		t.Fatalf("%s --version: %v %s", bin, err, out)
	} else {
		t.Logf("%s", strings.TrimSpace(string(out)))
	}
	world := plexsim.DefaultWorld()
	for i := range world.Personas {
		if world.Personas[i].Key == "friend" {
			world.Personas[i].Confirmed = false // email_verified false: what --insecure-oidc-allow-unverified-email is for
		}
	}
	sim, simURL := plexsim.Serve(t, world)
	upstream := newEchoApp(t)

	// The two apps are registered as a clients file, as docs/oidc.md shows.
	everyone, owners, strict := newProxy(t, "whoami"), newProxy(t, "whoami-owners"), newProxy(t, "whoami-strict")
	clients := readClients(t, everyone, owners, strict)
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...),
		hosttest.Config(func(c *app.Config) { c.FileClients = clients }))
	src := h.AddSource("plex", "plex", "Plex", membersConfig, sim.Token("owner"))
	everyone.start(t, bin, h.URL, upstream.URL)
	owners.start(t, bin, h.URL, upstream.URL, "--allowed-group=plex-owner",
		// Both test proxies live on 127.0.0.1; apps on hosts of their own need no cookie name.
		"--cookie-name=_oauth2_proxy_owners")
	strict.start(t, bin, h.URL, upstream.URL, "--insecure-oidc-allow-unverified-email=false", "--cookie-name=_oauth2_proxy_strict")

	// The friend, in a browser of his own: oauth2-proxy sends him straight to host-example
	// (--skip-provider-button), he logs in with Plex and lands on the app.
	friend := browsertest.New(t)
	browsertest.Steps(t, friend, "friend signs in", append(append([]browsertest.Action{
		chromedp.Navigate(everyone.url + "/shows?page=2"), browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")},
		browsertest.ApproveAs("friend")...), browsertest.Visible("#seen"))...)
	browsertest.WaitLocation(t, friend, everyone.url+"/shows?page=2")
	frank, err := h.Store.FindUser(context.Background(), src.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	if frank.EmailVerified || frank.PublicID == "" || frank.PublicID == frank.Username {
		t.Fatalf("frank: verified %v, sub %q", frank.EmailVerified, frank.PublicID)
	}
	if len(frank.Groups) < 2 || !slices.Contains(frank.Groups, "plex-friend") {
		t.Fatalf("frank's groups: %v", frank.Groups)
	}
	// One X-Forwarded-Groups header: the groups joined by commas.
	seen := headers(t, browsertest.Text(t, friend, "#seen"))
	for name, want := range map[string]string{"X-Forwarded-User": frank.PublicID, "X-Forwarded-Preferred-Username": "frank",
		"X-Forwarded-Email": "frank@example.com", "X-Forwarded-Groups": strings.Join(frank.Groups, ",")} {
		if seen[name] != want {
			t.Errorf("the app got %s %q, want %q (all: %q)", name, seen[name], want, seen)
		}
	}

	// The client's own X-Forwarded-* headers never reach the app: oauth2-proxy replaces them.
	cookies, err := chromedp.Run(friend, browsertest.Cookies(everyone.url))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", everyone.url+"/", nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	req.Header.Set("X-Forwarded-User", "forged-sub")
	req.Header.Set("X-Forwarded-Preferred-Username", "owner")
	req.Header.Set("X-Forwarded-Groups", "plex-owner")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if forged := headers(t, html.UnescapeString(string(body))); resp.StatusCode != http.StatusOK ||
		forged["X-Forwarded-User"] != frank.PublicID || forged["X-Forwarded-Groups"] != strings.Join(frank.Groups, ",") {
		t.Fatalf("forged headers with the friend's cookie: %d %s", resp.StatusCode, body)
	}

	// The owners-only app: the friend (still signed in at host-example) gets oauth2-proxy's 403.
	// (.status-code is on oauth2-proxy's error page.)
	browsertest.Steps(t, friend, "friend at the owners' app", chromedp.Navigate(owners.url+"/"), browsertest.Visible(".status-code"))
	browsertest.WaitLocation(t, friend, owners.url+"/oauth2/callback")
	if code := status(t, friend); code != http.StatusForbidden {
		t.Fatalf("friend at the owners' app: status %d, want 403: %s", code, browsertest.Text(t, friend, "body"))
	}
	if body := browsertest.Text(t, friend, "body"); strings.Contains(body, "X-Forwarded") {
		t.Fatalf("the owners' app served the friend: %s", body)
	}

	// Without --insecure-oidc-allow-unverified-email oauth2-proxy refuses him: his email_verified is false.
	browsertest.Steps(t, friend, "friend at a proxy without the flag", chromedp.Navigate(strict.url+"/"), browsertest.Visible(".status-code"))
	if code := status(t, friend); code != http.StatusForbidden {
		t.Fatalf("friend at a proxy without --insecure-oidc-allow-unverified-email: status %d, want 403: %s", code, browsertest.Text(t, friend, "body"))
	}

	// The owner, in another browser: let in, with plex-owner among the groups.
	owner := browsertest.New(t)
	browsertest.Steps(t, owner, "owner signs in", append(append([]browsertest.Action{
		chromedp.Navigate(owners.url + "/admin"), browsertest.Visible("#login-plex"), browsertest.Click("#login-plex")},
		browsertest.ApproveAs("owner")...), browsertest.Visible("#seen"))...)
	browsertest.WaitLocation(t, owner, owners.url+"/admin")
	olivia, err := h.Store.FindUser(context.Background(), src.ID, "owner")
	if err != nil {
		t.Fatal(err)
	}
	seen = headers(t, browsertest.Text(t, owner, "#seen"))
	if seen["X-Forwarded-User"] != olivia.PublicID || seen["X-Forwarded-Preferred-Username"] != "owner" ||
		!slices.Contains(strings.Split(seen["X-Forwarded-Groups"], ","), "plex-owner") {
		t.Errorf("the owners' app got %q; the owner's sub is %q", seen, olivia.PublicID)
	}
}

// status is the HTTP status of the page the tab shows.
func status(t *testing.T, ctx context.Context) int {
	t.Helper()
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`performance.getEntriesByType("navigation")[0].responseStatus`))
	if err != nil {
		t.Fatalf("status of the page: %v", err)
	}
	return code
}

// newEchoApp is the protected app: it shows the X-Forwarded-* headers it gets, and an
// Authorization header (the id_token, with --pass-authorization-header), one value a line.
func newEchoApp(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for name, values := range r.Header {
			if strings.HasPrefix(name, "X-Forwarded-") || name == "Authorization" {
				for _, v := range values {
					fmt.Fprintf(&b, "%s: %s\n", name, html.EscapeString(v))
				}
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>app</title><pre id=\"seen\">path=%s\n%s</pre>", html.EscapeString(r.URL.RequestURI()), b.String())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// headers reads the echo app's lines back: the value of each header, which comes once.
func headers(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if _, dup := out[name]; dup {
			t.Fatalf("the app got %s twice: %s", name, text)
		}
		out[name] = value
	}
	return out
}

// proxy is one oauth2-proxy and its registration at host-example.
type proxy struct {
	clientID, secret string
	addr, url        string
	// alg is its registration's id_token_signed_response_alg ("": the default).
	alg string
	// refresh registers it for refresh tokens too.
	refresh bool
	// logs is what it has logged so far (once started).
	logs func() string
}

// newProxy picks the proxy's address and makes its client secret as docs/oidc.md says
// (openssl rand -hex 32).
func newProxy(t *testing.T, clientID string) *proxy {
	addr := "127.0.0.1:" + hosttest.FreePort(t)
	return &proxy{clientID: clientID, secret: hex.EncodeToString(random(t, 32)), addr: addr, url: "http://" + addr}
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// readClients writes the clients file docs/oidc.md shows for the proxies (the secret's
// SHA-256 in hex) and reads it as host-example's -oidc-clients does.
func readClients(t *testing.T, proxies ...*proxy) []*store.OIDCClient {
	type entry struct {
		ClientID     string   `json:"client_id"`
		Name         string   `json:"name"`
		SecretSHA256 string   `json:"client_secret_sha256"`
		RedirectURIs []string `json:"redirect_uris"`
		Alg          string   `json:"id_token_signed_response_alg,omitempty"`
		GrantTypes   []string `json:"grant_types,omitempty"`
	}
	var list []entry
	for _, p := range proxies {
		sum := sha256.Sum256([]byte(p.secret))
		e := entry{ClientID: p.clientID, Name: p.clientID, SecretSHA256: hex.EncodeToString(sum[:]),
			RedirectURIs: []string{p.url + "/oauth2/callback"}, Alg: p.alg}
		if p.refresh {
			e.GrantTypes = []string{openid.GrantCode, openid.GrantRefresh}
		}
		list = append(list, e)
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clients.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	clients, err := openid.ReadClientsFile(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return clients
}

// start runs oauth2-proxy with the flags of docs/oidc.md's recipe (plain http here:
// --cookie-secure=false) and extra ones; the secrets go in its environment, as the recipe's
// do. It stops with the test.
func (p *proxy) start(t *testing.T, bin, issuer, upstream string, extra ...string) {
	t.Helper()
	args := append(recipeFlags(t, map[string]string{"--http-address": p.addr, "--oidc-issuer-url": issuer,
		"--client-id": p.clientID, "--redirect-url": p.url + "/oauth2/callback", "--upstream": upstream + "/"}),
		"--cookie-secure=false") // plain http here
	args = append(args, extra...)
	t.Logf("oauth2-proxy %s", strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	// The cookie secret as the recipe makes it: 32 random bytes, URL-safe base64.
	cmd.Env = append(os.Environ(), "OAUTH2_PROXY_CLIENT_SECRET="+p.secret,
		"OAUTH2_PROXY_COOKIE_SECRET="+base64.URLEncoding.EncodeToString(random(t, 32)))
	var mu sync.Mutex
	var log strings.Builder
	p.logs = func() string {
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oauth2-proxy: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-done
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oauth2-proxy %s:\n%s", p.clientID, log.String())
		}
	})
	for i := 0; ; i++ {
		resp, err := http.Get(p.url + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if i == 200 {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("oauth2-proxy %s did not start: %v\n%s", p.clientID, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
