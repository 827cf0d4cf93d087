package openid_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

// idp is a running host-example with the real Plex plugin process, a simulated plex.tv and
// the OpenID Connect provider, plus a registered relying party.
type idp struct {
	t       testing.TB
	sim     *plexsim.Sim
	simURL  string
	store   *store.Store
	dataDir string
	h       *hosttest.Host
	host    *httptest.Server
	issuer  string
	source  *store.Source
	plugins *host.Registry
	// fileClients are passed as the clients file's at the next start.
	fileClients []*store.OIDCClient
	// maxOpen bounds the open authorization requests from the next start (0: the default).
	maxOpen int
}

const (
	adminPassword = hosttest.AdminPassword
	rpID          = "demo-app"
	rpSecret      = "demo-app-secret-0123456789abcdef"
	rpRedirect    = "http://127.0.0.1:9/callback"
	rpLogout      = "http://127.0.0.1:9/logged-out"
	publicID      = "cli-app"
)

const membersConfig = `{"access_mode":"members","owner_token":"OWNER","allowed_servers":[{"machine_id":"` +
	plexsim.ServerLivingRoom + `","name":"Living Room"},{"machine_id":"` + plexsim.ServerCabin + `","name":"Cabin"}]}`

func readKey(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newIDP starts everything on a fresh data folder, with the RS256 test key.
func newIDP(t testing.TB) *idp {
	t.Helper()
	sim, simURL := plexsim.Serve(t, plexsim.DefaultWorld())
	d := &idp{t: t, sim: sim, simURL: simURL}
	d.h = hosttest.New(t, hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...), hosttest.BeforeStart(func(st *store.Store) {
		if _, err := openid.ImportKey(context.Background(), st, openid.RS256, readKey(t, "rs256-a.pem")); err != nil {
			t.Fatal(err)
		}
	}))
	d.store, d.dataDir = d.h.Store, d.h.DataDir
	d.started()
	d.source = d.h.AddSource("plex", "plex", "Plex", membersConfig, sim.Token("owner"))
	d.addClient(store.OIDCClient{ID: rpID, Name: "Demo app", SecretSHA256: openid.HashSecret(rpSecret), RedirectURIs: []string{rpRedirect},
		PostLogoutURIs: []string{rpLogout}, GrantTypes: []string{openid.GrantCode, openid.GrantRefresh}, ReleaseAttributes: []string{"plex_pass"}})
	d.addClient(store.OIDCClient{ID: publicID, Name: "CLI", Public: true, RedirectURIs: []string{"http://127.0.0.1:9/cli"},
		GrantTypes: []string{openid.GrantCode}})
	return d
}

// start restarts the host on the same address and store with the signing algorithm alg,
// the file clients and the bound on open requests the idp holds now.
func (d *idp) start(alg string) {
	d.t.Helper()
	d.h.Restart(func(c *app.Config) {
		c.SigningAlg, c.FileClients, c.MaxOpenAuthRequests = alg, d.fileClients, d.maxOpen
	})
	d.started()
}

// started takes the running host's parts.
func (d *idp) started() { d.host, d.issuer, d.plugins = d.h.Server, d.h.URL, d.h.Plugins }

func (d *idp) addClient(c store.OIDCClient) {
	if errs := openid.CheckClient(&c); len(errs) > 0 {
		d.t.Fatalf("client %s: %v", c.ID, errs)
	}
	c.Origin = "ui"
	if err := d.store.PutOIDCClient(context.Background(), c); err != nil {
		d.t.Fatal(err)
	}
}

// rp is a relying party built on coreos/go-oidc and x/oauth2.
type rp struct {
	provider *gooidc.Provider
	config   oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

func (d *idp) rp(scopes ...string) *rp {
	d.t.Helper()
	p, err := gooidc.NewProvider(context.Background(), d.issuer)
	if err != nil {
		d.t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, "profile", "email", "groups"}
	}
	return &rp{provider: p, verifier: p.Verifier(&gooidc.Config{ClientID: rpID}),
		config: oauth2.Config{ClientID: rpID, ClientSecret: rpSecret, Endpoint: p.Endpoint(), RedirectURL: rpRedirect, Scopes: scopes}}
}

// browser keeps cookies and follows redirects by hand.
type browser struct {
	d *idp
	c *http.Client
}

func (d *idp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{d: d, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	body     string
	location string
}

func (b *browser) do(method, u string, form url.Values) page {
	b.d.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.d.issuer + u
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.d.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc != "" {
		if l, err := resp.Request.URL.Parse(loc); err == nil {
			loc = l.String()
		}
	}
	return page{status: resp.StatusCode, body: string(data), location: loc}
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	returnRE = regexp.MustCompile(`name="return" value="([^"]*)"`)
)

// follow GETs u and its redirects until a page, the relying party, or the simulated Plex.
func (b *browser) follow(u string) page {
	b.d.t.Helper()
	for i := 0; i < 20; i++ {
		p := b.do("GET", u, nil)
		if p.location == "" || strings.HasPrefix(p.location, "http://127.0.0.1:9/") || strings.HasPrefix(p.location, b.d.simURL) ||
			!strings.HasPrefix(p.location, "http://127.0.0.1:") { // never leave this machine
			return p
		}
		u = p.location
	}
	b.d.t.Fatal("redirect loop")
	return page{}
}

// plexLogin presses "Sign in with Plex" on a login page and approves as persona; it returns
// the page after the callback's redirects.
func (b *browser) plexLogin(login page, persona string) page {
	b.d.t.Helper()
	m := csrfRE.FindStringSubmatch(login.body)
	if m == nil {
		b.d.t.Fatalf("no login form: %d %s", login.status, login.body)
	}
	ret := ""
	if r := returnRE.FindStringSubmatch(login.body); r != nil {
		ret = strings.ReplaceAll(r[1], "&amp;", "&")
	}
	p := b.do("POST", "/login/plex", url.Values{"csrf": {m[1]}, "return": {ret}})
	code, fwd, err := plexsim.ForwardURL(p.location)
	if err != nil {
		b.d.t.Fatalf("begin: %d %s", p.status, p.body)
	}
	if err := b.d.sim.Claim(code, persona); err != nil {
		b.d.t.Fatal(err)
	}
	return b.follow(fwd)
}

// authorize runs the authorization request u as persona (logging in when asked) and returns
// the redirect to the relying party (or the last page).
func (b *browser) authorize(u, persona string) page {
	b.d.t.Helper()
	p := b.follow(u)
	if p.location == "" && strings.Contains(p.body, "Sign in with") {
		p = b.plexLogin(p, persona)
	}
	return p
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// codeOf reads code and state from a redirect to the relying party.
func codeOf(t *testing.T, p page) (string, string) {
	t.Helper()
	u, err := url.Parse(p.location)
	if err != nil || !strings.HasPrefix(p.location, rpRedirect) || u.Query().Get("code") == "" {
		t.Fatalf("no code: %d %s %s", p.status, p.location, p.body)
	}
	return u.Query().Get("code"), u.Query().Get("state")
}

func importKey(d *idp, name string) (string, error) {
	alg := "RS256"
	if strings.HasPrefix(name, "es256") {
		alg = "ES256"
	}
	return openid.ImportKey(context.Background(), d.store, alg, readKey(d.t, name))
}

func header(tok *oauth2.Token) map[string]string {
	raw, _ := tok.Extra("id_token").(string)
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h map[string]string
	_ = json.Unmarshal(b, &h)
	return h
}

func kid(tok *oauth2.Token) string { return header(tok)["kid"] }
func alg(tok *oauth2.Token) string { return header(tok)["alg"] }

func s256() oauth2.AuthCodeOption { return oauth2.S256ChallengeOption(oauth2.GenerateVerifier()) }
