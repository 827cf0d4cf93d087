package web_test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

const adminPassword = hosttest.AdminPassword

// harness is a host with the real Plex plugin process and a simulated plex.tv on
// another site (localhost vs 127.0.0.1).
type harness struct {
	t       testing.TB
	sim     *plexsim.Sim
	simURL  string
	host    *httptest.Server
	srv     *hosttest.Host
	store   *store.Store
	dataDir string
	owner   string
	source  *store.Source
}

func newHarness(t testing.TB, cfg func(*app.Config)) *harness {
	t.Helper()
	return newHarnessWorld(t, plexsim.DefaultWorld(), cfg)
}

// newHarnessWorld is newHarness with the simulated plex.tv's personas of world.
func newHarnessWorld(t testing.TB, world plexsim.World, cfg func(*app.Config), opts ...hosttest.Option) *harness {
	t.Helper()
	sim, simURL := plexsim.Serve(t, world)
	return newHarnessOn(t, sim, simURL, cfg, opts...)
}

// newHarnessOn is a harness whose plugin asks the simulated plex.tv sim at simURL.
func newHarnessOn(t testing.TB, sim *plexsim.Sim, simURL string, cfg func(*app.Config), opts ...hosttest.Option) *harness {
	t.Helper()
	if cfg == nil {
		cfg = func(*app.Config) {}
	}
	h := hosttest.New(t, append([]hosttest.Option{hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...), hosttest.Config(cfg)}, opts...)...)
	return &harness{t: t, sim: sim, simURL: simURL, host: h.Server, srv: h, store: h.Store, dataDir: h.DataDir, owner: sim.Token("owner")}
}

// addSource creates an enabled Plex source with cfg (OWNER replaced by the owner token).
func (h *harness) addSource(cfg string) *store.Source {
	h.t.Helper()
	h.source = h.srv.AddSource("plex", "plex", "Plex", cfg, h.owner)
	return h.source
}

const membersConfig = `{"access_mode":"members","owner_token":"OWNER","password_login":true,"allowed_servers":[{"machine_id":"` +
	plexsim.ServerLivingRoom + `","name":"Living Room"},{"machine_id":"` + plexsim.ServerCabin + `","name":"Cabin"}]}`

// browser is the tests' browser (hosttest.Browser) of the harness's host, whose logins go
// to its simulated plex.tv.
type browser struct {
	*hosttest.Browser
	h *harness
}

func (h *harness) browser() *browser {
	return &browser{Browser: hosttest.NewBrowser(h.t, h.host.URL, hosttest.Upstream{Sim: h.sim, URL: h.simURL}), h: h}
}

// page is one answer of the browser.
type page = hosttest.Page

// beginLogins presses "Sign in with Plex" n times (before(i) runs first each time) and
// returns the last status.
func (b *browser) beginLogins(n int, before func(i int)) int {
	last := 0
	for i := 0; i < n; i++ {
		if before != nil {
			before(i)
		}
		p := b.Do("GET", "/login", nil)
		last = b.Do("POST", "/login/plex", url.Values{"csrf": {p.CSRF()}}).Status
	}
	return last
}
