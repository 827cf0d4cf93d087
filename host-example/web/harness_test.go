package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

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

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	h      *harness
	c      *http.Client
	header http.Header
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, header: http.Header{}}
}

type page struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (b *browser) do(method, path string, form url.Values) page {
	b.h.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.h.host.URL + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	for k, v := range b.header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return page{Status: resp.StatusCode, Body: string(data), Location: resp.Header.Get("Location"), Header: resp.Header}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfOf(body string) string {
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// startLogin opens the login page and presses "Sign in with Plex"; it returns the app.plex.tv URL.
func (b *browser) startLogin(slug string) string {
	b.h.t.Helper()
	p := b.do("GET", "/login", nil)
	p = b.do("POST", "/login/"+slug, url.Values{"csrf": {csrfOf(p.Body)}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, b.h.simURL+"/auth#?") {
		b.h.t.Fatalf("begin login: %d %s %s", p.Status, p.Location, p.Body)
	}
	return p.Location
}

// login runs the whole flow as persona and returns the page after the callback.
func (b *browser) login(slug, persona string) page {
	b.h.t.Helper()
	auth := b.startLogin(slug)
	code, fwd, err := plexsim.ForwardURL(auth)
	if err != nil {
		b.h.t.Fatal(err)
	}
	if err := b.h.sim.Claim(code, persona); err != nil {
		b.h.t.Fatal(err)
	}
	return b.do("GET", fwd, nil)
}

func (b *browser) adminLogin() {
	b.h.t.Helper()
	p := b.do("GET", "/admin/login", nil)
	p = b.do("POST", "/admin/login", url.Values{"csrf": {csrfOf(p.Body)}, "password": {adminPassword}})
	if p.Status != http.StatusSeeOther || p.Location != "/admin" {
		b.h.t.Fatalf("admin login: %d %s", p.Status, p.Body)
	}
}

// beginLogins presses "Sign in with Plex" n times (before(i) runs first each time) and
// returns the last status.
func (b *browser) beginLogins(n int, before func(i int)) int {
	last := 0
	for i := 0; i < n; i++ {
		if before != nil {
			before(i)
		}
		p := b.do("GET", "/login", nil)
		last = b.do("POST", "/login/plex", url.Values{"csrf": {csrfOf(p.Body)}}).Status
	}
	return last
}
