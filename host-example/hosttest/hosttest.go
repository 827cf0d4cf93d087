// Package hosttest starts a whole host-example for tests: a store in a temporary folder,
// the real plugin processes, the pages, OpenID Connect and forward-auth, on a loopback
// address, built by the same composition root (app.New) as the server; and the tests' one
// browser without JavaScript (Browser) that drives it.
package hosttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
)

// AdminPassword is the admin password of every test host.
const AdminPassword = "test-admin-password"

// Option adjusts a test host before it starts.
type Option func(*Host)

// Plugins loads the plugins of dir with env added to their environment.
func Plugins(dir string, env ...string) Option {
	return func(h *Host) { h.cfg.PluginsDir, h.cfg.PluginEnv = dir, env }
}

// Config edits the host's Config (rates, lifetimes, trusted proxies, …).
func Config(f func(*app.Config)) Option { return func(h *Host) { f(&h.cfg) } }

// Public sets the host's public URL (a reverse proxy in front of it); by default it is
// the host's own loopback address.
func Public(u *url.URL) Option { return func(h *Host) { h.public = u } }

// Data uses an existing data folder instead of a new temporary one.
func Data(dir string) Option { return func(h *Host) { h.DataDir = dir } }

// ProxyListener serves the proxy-only paths on a listener of their own (-forward-auth-listen):
// Host.Proxy, which Config.ProxyURL names; the public listener answers 404 for them.
func ProxyListener() Option { return func(h *Host) { h.cfg.ProxyListener = true } }

// BeforeStart runs f on the store before the host is built (import a key, seed rows).
func BeforeStart(f func(*store.Store)) Option {
	return func(h *Host) { h.before = append(h.before, f) }
}

// Host is a running test host.
type Host struct {
	*app.App
	// URL is the host's public URL (http://127.0.0.1:port unless Public set another).
	URL string
	// Server serves the host.
	Server *httptest.Server
	// DataDir holds the store's database and key file.
	DataDir string
	// Proxy serves the proxy-only paths when ProxyListener is set (nil otherwise).
	Proxy *httptest.Server

	t         testing.TB
	cfg       app.Config
	before    []func(*store.Store)
	addr      string
	proxyAddr string
	public    *url.URL
}

// New starts a host with the given options; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Host {
	t.Helper()
	h := &Host{t: t, DataDir: t.TempDir(), cfg: app.Config{LoginRate: 1000, AdminPassword: AdminPassword}}
	for _, o := range opts {
		o(h)
	}
	if h.cfg.Logger == nil {
		h.cfg.Logger = pageErrors(t)
	}
	st, err := store.Open(h.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, f := range h.before {
		f(st)
	}
	h.cfg.Store = st
	h.start()
	return h
}

// pageErrors is a quiet logger that fails the test, when it ends, if a page could not be
// rendered (a template that names a field its page's data lacks logs "render" and answers a
// truncated page, which a test may not notice).
func pageErrors(t testing.TB) hclog.Logger {
	w := &renderErrors{}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, line := range w.lines {
			t.Errorf("a page failed to render: %s", line)
		}
	})
	return hclog.New(&hclog.LoggerOptions{Output: w, Level: hclog.Error})
}

// renderErrors keeps the log lines of pages that failed to render.
type renderErrors struct {
	mu    sync.Mutex
	lines []string
}

func (w *renderErrors) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("[ERROR] render:")) {
		w.mu.Lock()
		w.lines = append(w.lines, strings.TrimSpace(string(p)))
		w.mu.Unlock()
	}
	return len(p), nil
}

// start builds the app and serves it, on the address of the previous start if any.
func (h *Host) start() {
	h.t.Helper()
	srv := h.listen(&h.addr)
	pub := h.public
	if pub == nil {
		pub, _ = url.Parse("http://" + h.addr)
	}
	h.cfg.PublicURL = pub
	h.cfg.ProxyURL, _ = url.Parse("http://" + h.addr)
	var proxy *httptest.Server
	if h.cfg.ProxyListener {
		proxy = h.listen(&h.proxyAddr)
		h.cfg.ProxyURL, _ = url.Parse("http://" + h.proxyAddr)
	}
	a, err := app.New(context.Background(), h.cfg)
	if err != nil {
		srv.Listener.Close()
		if proxy != nil {
			proxy.Listener.Close()
		}
		h.t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	srv.Start()
	if proxy != nil {
		proxy.Config.Handler = a.ProxyHandler()
		proxy.Start()
	}
	h.App, h.Server, h.Proxy, h.URL = a, srv, proxy, pub.String()
	h.t.Cleanup(h.stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.WaitPlugins(ctx); err != nil {
		h.t.Fatalf("plugins: %v", err)
	}
}

// listen is an unstarted server on *addr, or on a new loopback address it records there.
func (h *Host) listen(addr *string) *httptest.Server {
	h.t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	if *addr != "" {
		srv.Listener.Close()
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			h.t.Fatal(err)
		}
		srv.Listener = ln
	}
	*addr = srv.Listener.Addr().String()
	return srv
}

// stop stops serving and the plugins; the store stays.
func (h *Host) stop() {
	if h.Server != nil {
		if h.Proxy != nil {
			h.Proxy.Close()
		}
		h.Server.Close()
		h.App.Close()
		h.Server = nil
	}
}

// Restart stops the host and starts it again on the same address and store, after f
// edits the Config.
func (h *Host) Restart(f func(*app.Config)) {
	h.t.Helper()
	h.stop()
	if f != nil {
		f(&h.cfg)
	}
	h.start()
}

// AddSource creates, configures and turns on a source of plugin pluginID; each "OWNER" in
// cfg is replaced by owner (a credential the test's upstream knows).
func (h *Host) AddSource(pluginID, slug, name, cfg, owner string) *store.Source {
	h.t.Helper()
	src, err := h.Sources.Configure(context.Background(), host.Setup{Plugin: pluginID, Slug: slug, Name: name,
		Config: json.RawMessage(strings.ReplaceAll(cfg, "OWNER", owner)), Enabled: true})
	if err != nil {
		h.t.Fatal(err)
	}
	return src
}

// Plugin is a loaded plugin by id.
func (h *Host) Plugin(id string) *host.Plugin { return h.Plugins.Get(id) }

// pluginDir is the folder of the plugin Main built.
var pluginDir string

// Main runs a package's tests after building the module's plugin (package plugin, with the
// tracked plugin.json) into a temporary folder; PluginDir names it.
func Main(m *testing.M) {
	root, err := moduleRoot()
	if err != nil {
		panic(err)
	}
	loadertest.MainBuilding(m, &pluginDir, modulePath+"/plugin", filepath.Join(root, "plugin.json"))
}

// PluginDir is the folder of the plugin Main built.
func PluginDir() string { return pluginDir }

// modulePath is this module's path.
const modulePath = "github.com/plexlogin/plexlogin"

// moduleRoot is the folder of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
