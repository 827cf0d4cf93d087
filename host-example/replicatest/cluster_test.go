package replicatest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

const (
	adminPassword = "replica-admin-password"
	clientID      = "demo-app"
	clientSecret  = "demo-app-secret-0123456789abcdef"
	redirectURI   = "http://127.0.0.1:9/callback"
	// forwardCache is every replica's -forward-auth-cache: long enough that a refusal seen
	// well before it passes comes from the replicas' shared change feed, not from the
	// bound, and that cached answers visibly outlive a short database outage.
	forwardCache = 20 * time.Second
)

// cluster is one PostgreSQL, the simulated plex.tv, three replicas of host-example and nginx
// in front of them, plus the protected demo app and the test's own connection to the store.
type cluster struct {
	pg       *postgrestest.Server
	dsn      string
	sim      *plexsim.Sim
	simURL   string
	port     string // nginx's
	auth     string // the public URL: http://auth.example.test:port (nginx)
	app      string // the protected app: http://app.example.test:port (nginx)
	appHost  string // app.example.test:port, the forward-auth rule's host
	replicas []*replica
	nginx    *nginx
	st       *store.Store
	source   *store.Source

	base               string // the folder of the replicas' data folders and logs
	key                []byte // the installation's key, copied to each replica's secret.key
	bootstrap, clients string // the bootstrap and OIDC clients files every replica reads
}

// newCluster starts everything; it all stops when the test ends.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	browsertest.Required(t, "nginx (Debian's nginx)", "nginx", "/usr/sbin/nginx")
	c := &cluster{port: hosttest.FreePort(t)}
	c.auth, c.appHost = "http://auth.example.test:"+c.port, "app.example.test:"+c.port
	c.app = "http://" + c.appHost
	c.pg = postgrestest.Start(t)
	c.dsn = c.pg.NewDatabase(t)
	c.sim, c.simURL = plexsim.Serve(t, plexsim.DefaultWorld())
	app := newEchoApp(t)

	base := t.TempDir()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	bootstrap := filepath.Join(base, "bootstrap.json")
	writeFile(t, bootstrap, fmt.Sprintf(`[{"plugin":"plex","slug":"plex","name":"Plex","enabled":true,"config":{
  "access_mode":"members","owner_token":%q,"allowed_servers":[{"machine_id":%q,"name":"Living Room"},{"machine_id":%q,"name":"Cabin"}]}}]`,
		c.sim.Token("owner"), plexsim.ServerLivingRoom, plexsim.ServerCabin))
	clients := filepath.Join(base, "oidc-clients.json")
	writeFile(t, clients, fmt.Sprintf(`[{"client_id":%q,"client_secret_env":"DEMO_RP_SECRET","name":"Demo app",
  "redirect_uris":[%q],"grant_types":["authorization_code","refresh_token"]}]`, clientID, redirectURI))

	c.base, c.key, c.bootstrap, c.clients = base, key, bootstrap, clients
	var addrs []string
	for i := 1; i <= 3; i++ {
		r := c.newReplica(t, fmt.Sprintf("r%d", i), c.dsn)
		c.replicas = append(c.replicas, r)
		addrs = append(addrs, r.addr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range c.replicas {
				t.Logf("%s log:\n%s", r.name, r.logTail())
			}
		}
	})
	// The first replica creates the schema, the keys and the bootstrap's source; the others
	// join it (FirstStartTogether starts three at once on empty databases).
	c.replicas[0].start(t)
	c.replicas[0].waitReady(t)
	for _, r := range c.replicas[1:] {
		r.start(t)
	}
	for _, r := range c.replicas[1:] {
		r.waitReady(t)
	}

	// The test's own connection to the shared store (its own copy of the key), for seeding
	// and reading back. The forward-auth rule is added before any replica has loaded the rules.
	own := filepath.Join(base, "test")
	mkdir(t, own)
	writeFile(t, filepath.Join(own, store.KeyFile), string(key))
	st, err := store.OpenWith(context.Background(), store.Options{Database: c.dsn, Dir: own})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.st = st
	if c.source, err = st.SourceBySlug(context.Background(), "plex"); err != nil {
		t.Fatalf("the bootstrap's source: %v", err)
	}
	rule := store.ForwardRule{Name: "Demo app", Host: c.appHost}
	if errs := forwardauth.CheckRule(&rule); len(errs) > 0 {
		t.Fatalf("rule: %v", errs)
	}
	if _, err := st.PutForwardRule(context.Background(), rule); err != nil {
		t.Fatal(err)
	}
	c.nginx = startNginx(t, c.port, app.Listener.Addr().String(), addrs)
	return c
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newReplica lays out a replica on database dsn (not started): its port, its -data folder
// with a copy of the cluster's key, its flags and environment; it stops when the test ends.
func (c *cluster) newReplica(t *testing.T, name, dsn string) *replica {
	t.Helper()
	r := &replica{name: name, addr: "127.0.0.1:" + hosttest.FreePort(t), data: filepath.Join(c.base, name)}
	r.log = filepath.Join(c.base, name+".log")
	mkdir(t, r.data)
	writeFile(t, filepath.Join(r.data, store.KeyFile), string(c.key))
	r.args = []string{"-listen", r.addr, "-public-url", c.auth, "-database", dsn, "-data", r.data, "-plugins", bins.pluginDir,
		"-trusted-proxies", "127.0.0.1/32", "-bootstrap", c.bootstrap, "-oidc-clients", c.clients, "-cookie-domain", "example.test",
		"-forward-auth-cache", forwardCache.String(), "-revalidate-interval", "1h"}
	r.env = append(plexsim.PluginEnv(c.simURL), "HOST_ADMIN_PASSWORD="+adminPassword, "DEMO_RP_SECRET="+clientSecret)
	t.Cleanup(r.stop)
	return r
}

// newEchoApp is the protected app: it answers who nginx said the user is.
func newEchoApp(t *testing.T) *httptest.Server {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>app</title><pre id=\"seen\">path=%s\nuser=%s\n</pre>", r.URL.Path, r.Header.Get("Remote-User"))
	}))
	t.Cleanup(app.Close)
	return app
}

// replicaOf names the replica at addr (an nginx upstream address), or addr itself.
func (c *cluster) replicaOf(addr string) string {
	for _, r := range c.replicas {
		if r.addr == addr {
			return r.name
		}
	}
	return addr
}

// client is a cookie-less HTTP client for the API calls (tokens, userinfo, forward-auth's
// questions) that sends every request, whatever its URL's host, to addr (nginx's or one
// replica's address) and does not follow redirects; browsers are hosttest.Browser.
func client(addr string) *http.Client { return hosttest.ClientVia(addr, nil) }

// browser is a new browser of the public addresses, reaching addr (nginx's or one
// replica's address) whatever the URL; its logins go to the simulated plex.tv, and Follow
// stays on the example.test addresses (nginx).
func (c *cluster) browser(t *testing.T, addr string) *hosttest.Browser {
	b := hosttest.NewBrowser(t, c.auth, hosttest.Upstream{Sim: c.sim, URL: c.simURL}).Via(addr)
	b.Stay = func(next string) bool {
		return strings.HasPrefix(next, c.auth+"/") || strings.HasPrefix(next, c.app+"/")
	}
	return b
}

// viaNginx is a browser of the public addresses through nginx.
func (c *cluster) viaNginx(t *testing.T) *hosttest.Browser { return c.browser(t, "127.0.0.1:"+c.port) }

// page is an answer, read whole.
type page struct {
	status   int
	body     string
	location string // absolute
}

// do sends one request; form, when set, is the urlencoded body.
func do(t *testing.T, hc *http.Client, method, u string, form url.Values, hdr http.Header) page {
	t.Helper()
	p, err := try(hc, method, u, form, hdr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return p
}

// try is do that answers the error.
func try(hc *http.Client, method, u string, form url.Values, hdr http.Header) (page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return page{}, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, body: string(b)}
	if loc := resp.Header.Get("Location"); loc != "" {
		if l, err := resp.Request.URL.Parse(loc); err == nil {
			p.location = l.String()
		}
	}
	return p, nil
}

// plexLogin signs b in as persona of the simulated plex.tv: the login page, "Sign in with
// Plex", the persona's approval at plex.tv (the simulator's claim), the callback. It
// answers the page the login ended on.
func (c *cluster) plexLogin(b *hosttest.Browser, persona string) hosttest.Page {
	return b.SignIn(b.Follow(c.auth+"/login"), "plex", persona)
}

// forwardCookie signs the signed-in b into the protected app through nginx (the
// forward-auth start and its redirects) and answers the app's forward-auth cookie.
func (c *cluster) forwardCookie(t *testing.T, b *hosttest.Browser) *http.Cookie {
	t.Helper()
	p := b.Follow(c.app + "/start")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "path=/start") {
		t.Fatalf("the app through forward-auth: %d %s %.500s", p.Status, p.Redirect, p.Body)
	}
	u, _ := url.Parse(c.app + "/")
	for _, ck := range b.Client.Jar.Cookies(u) {
		if ck.Name == "hx_forward" {
			return ck
		}
	}
	t.Fatalf("no forward-auth cookie for the app: %v", b.Client.Jar.Cookies(u))
	return nil
}

// askForward asks replica r's nginx endpoint about token for the app's path (as nginx's
// auth_request does) and answers the status: 200 allowed, 401 not signed in.
func (c *cluster) askForward(r *replica, token, path string) (int, error) {
	p, err := try(client(r.addr), "GET", c.auth+forwardauth.NginxPath, nil, c.forwardHeaders(token, path))
	return p.status, err
}

// forwardHeaders are nginx's auth_request headers for the app's path with the cookie token.
func (c *cluster) forwardHeaders(token, path string) http.Header {
	return http.Header{"X-Original-Url": {c.app + path}, "X-Original-Method": {"GET"}, "X-Original-Host": {"app.example.test"},
		"Cookie": {"hx_forward=" + token}}
}

// session is a forward-auth session of a seeded user.
type session struct{ token, user string }

// seedUser makes a user of the source as a login would, through the test's own store
// connection, and answers its id.
func (c *cluster) seedUser(t *testing.T, name string) int64 {
	t.Helper()
	id, err := c.newUser(name)
	if err != nil {
		t.Fatalf("seed user %s: %v", name, err)
	}
	return id
}

func (c *cluster) newUser(name string) (int64, error) {
	done, err := c.st.FinishLogin(context.Background(), store.User{SourceID: c.source.ID, Subject: name, Username: name, Name: name,
		Email: name + "@example.test", Groups: []string{"plex-friend"}}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		return 0, err
	}
	return done.UserID, nil
}

// seedForwardSessions makes n users of the source (prefix0, prefix1, …), each with a
// forward-auth session, through the test's own store connection.
func (c *cluster) seedForwardSessions(t *testing.T, prefix string, n int) []session {
	t.Helper()
	out := make([]session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s%d", prefix, i)
			id, err := c.newUser(name)
			var sess *store.Session
			if err == nil {
				_, sess, err = c.st.CreateSession(context.Background(), id, false, 24*time.Hour)
			}
			if err == nil {
				out[i].token, _, err = forwardauth.StartSession(context.Background(), c.st, sess.ID, 24*time.Hour)
			}
			out[i].user, errs[i] = name, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("seed forward-auth sessions: %v", err)
		}
	}
	return out
}
