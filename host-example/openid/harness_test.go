package openid_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// refresh runs a refresh grant with token as r's client.
func (r *rp) refresh(token string) (*oauth2.Token, error) {
	return r.config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: token}).Token()
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

// browser is the tests' browser (hosttest.Browser) of the provider, whose logins go to the
// simulated plex.tv; Follow stays on this machine and stops at the relying party and plex.tv.
type browser struct {
	*hosttest.Browser
	d *idp
}

func (d *idp) browser() *browser {
	b := hosttest.NewBrowser(d.t, d.issuer, hosttest.Upstream{Sim: d.sim, URL: d.simURL})
	b.Stay = func(next string) bool {
		return strings.HasPrefix(next, "http://127.0.0.1:") && !strings.HasPrefix(next, "http://127.0.0.1:9/") && !strings.HasPrefix(next, d.simURL)
	}
	return &browser{Browser: b, d: d}
}

// page is one answer of the browser.
type page = hosttest.Page

// authorize runs the authorization request u as persona (logging in when asked) and returns
// the redirect to the relying party (or the last page).
func (b *browser) authorize(u, persona string) page {
	b.d.t.Helper()
	p := b.Follow(u)
	if p.Redirect == "" && strings.Contains(p.Body, "Sign in with") {
		p = b.SignIn(p, "plex", persona)
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
	u, err := url.Parse(p.Redirect)
	if err != nil || !strings.HasPrefix(p.Redirect, rpRedirect) || u.Query().Get("code") == "" {
		t.Fatalf("no code: %d %s %s", p.Status, p.Redirect, p.Body)
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
