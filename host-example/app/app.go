// Package app is host-example's composition root: it builds the store, the plugin registry,
// the application layer, the pages and the doors (OpenID Connect, forward-auth) from one
// Config, and mounts them once.
package app

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/auditlog"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/metrics"
	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/host-example/web"
	"github.com/plexlogin/plexlogin/shared/loader"
)

// Config is everything the host is built from.
type Config struct {
	// PublicURL is what every callback is built from.
	PublicURL *url.URL
	// PublicURLDefault is set when PublicURL was not given but taken from the listen address
	// (the first-run guide says to set it).
	PublicURLDefault bool
	// DataDir holds the key file and, unless Database is set, the SQLite database; Store,
	// when set, is used instead.
	DataDir string
	// Database is a postgres:// URL of a database shared by replicas, or empty (SQLite).
	Database string
	Store    *store.Store
	// PluginsDir holds the plugin manifests (plugin.json or */plugin.json); "": no plugins
	// (a host that only answers its doors, in tests).
	PluginsDir string
	// PluginEnv is added to every plugin's environment as KEY=VALUE (tests, the demo).
	PluginEnv []string
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// SessionLifetime is how long a login lasts (default 12 h).
	SessionLifetime time.Duration
	// RememberLifetime is how long a session kept on its device lasts unused (default 30 days;
	// host.LoginConfig); IdleTimeout ends an ordinary one unused that long (0: off).
	RememberLifetime, IdleTimeout time.Duration
	// LoginRate is login attempts per minute per client (default 30).
	LoginRate int
	// LoginStarts tune the budget of login starts that call a source (zero: the defaults).
	LoginStarts host.StartLimits
	// SiteName is what the sign-in pages call this site ("": PublicURL's host name).
	SiteName string
	// SigningAlg is the OpenID Connect default signing algorithm (openid.Algorithms; a client may have its own).
	SigningAlg string
	// FileClients are the OpenID Connect clients of a clients file (read-only in the UI).
	FileClients []*store.OIDCClient
	// MaxOpenAuthRequests bounds the authorization requests nobody completed (0: the default).
	MaxOpenAuthRequests int
	// CookieDomain is the forward-auth cookie's parent domain ("": host-only).
	CookieDomain string
	// ForwardCache bounds how long a forward-auth session answer is reused (0: the default).
	ForwardCache time.Duration
	// AdminPassword, when set, becomes the admin password at start.
	AdminPassword string
	// Bootstrap is the sources to create when they do not exist yet (applied once the
	// plugins are up).
	Bootstrap []BootstrapSource
	// Clock is the doors' clock (default time.Now; tests move it).
	Clock func() time.Time
	// StartWait is how long a page waits for the plugins while they start (0: the default).
	StartWait time.Duration
	// ImageSources are origins beyond https: that pictures may load from (tests: a simulated upstream on http).
	ImageSources []string
	// DocsURL is where help text links the docs (web.Config.DocsURL).
	DocsURL string
	// ProxyURL is where reverse proxies reach the proxy-only paths: the forward-auth listener,
	// else host-example's own (shown on the admin's Protected apps page; nil: not known).
	ProxyURL *url.URL
	// ProxyListener is set when ProxyHandler is served on a listener of its own
	// (-forward-auth-listen): Handler then answers 404 for the proxy-only paths.
	ProxyListener bool
	Logger        hclog.Logger
}

// App is a built host: its parts, and the handler that serves them.
type App struct {
	Store   *store.Store
	Plugins *host.Registry
	Sources *host.Sources
	Logins  *host.Logins
	Jobs    *host.Jobs
	// Renewer keeps sources' expiring credentials renewed (it runs from New to Close).
	Renewer *host.Renewer
	People  *host.People
	Actions *host.Actions
	// Admin is the admin's ways in (password, TOTP, grants, known browsers).
	Admin   *host.Admin
	Web     *web.Server
	OIDC    *openid.Provider
	Forward *forwardauth.Service
	// Sessions are the host's browser sessions, which the pages and the doors share.
	Sessions *host.Sessions
	// Notify queues the admin's notifications of recorded events and delivers them (Run).
	Notify *notify.Notifier
	// Metrics are always counted; main serves them only on -metrics-listen.
	Metrics *metrics.Metrics
	// SetupToken is the first-start setup link's token ("" when an admin password exists).
	SetupToken string

	audit    *auditlog.Log
	ownStore bool
	cancel   context.CancelFunc
	loaded   chan struct{}
	// followed is closed when the store's change feed stopped (Follow).
	followed chan struct{}
	// renewed is closed when the renewal job stopped.
	renewed chan struct{}
}

// New builds the host and starts its plugins in the background: the handler answers at once,
// pages that need a plugin wait for them (Plugins.Ready, /healthz).
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.PublicURL == nil || cfg.PublicURL.Host == "" {
		return nil, fmt.Errorf("the public URL must be absolute")
	}
	if cfg.AdminPassword != "" {
		if err := host.CheckAdminPasswordRules(cfg.AdminPassword); err != nil {
			return nil, fmt.Errorf("HOST_ADMIN_PASSWORD: %w", err)
		}
	}
	a := &App{Store: cfg.Store, loaded: make(chan struct{})}
	if a.Store == nil {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
		st, err := store.OpenWith(ctx, store.Options{Database: cfg.Database, Dir: cfg.DataDir})
		if err != nil {
			return nil, fmt.Errorf("open the database: %w", err)
		}
		a.Store, a.ownStore = st, true
	}
	if err := a.build(ctx, cfg); err != nil {
		a.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.followed = make(chan struct{})
	go func() {
		defer close(a.followed)
		poll := cfg.ForwardCache
		if poll <= 0 {
			poll = forwardauth.DefaultCacheTTL
		}
		a.Store.Follow(lctx, poll, cfg.Logger.Named("store").Warn)
	}()
	a.renewed = make(chan struct{})
	go func() {
		defer close(a.renewed)
		a.Renewer.Run(lctx)
	}()
	go func() {
		defer close(a.loaded)
		err := a.Plugins.Start(lctx, cfg.PluginsDir, loader.Options{Logger: cfg.Logger.Named("plugin"), ExtraEnv: cfg.PluginEnv},
			func(ctx context.Context) error { return a.prepare(ctx, cfg) })
		if err != nil {
			cfg.Logger.Error("plugins did not start", "error", err)
		}
	}()
	return a, nil
}

// build makes the parts and mounts the doors.
func (a *App) build(ctx context.Context, cfg Config) error {
	st := a.Store
	a.Plugins = host.NewRegistry()
	a.observe(cfg)
	a.Notify = notify.New(st, notify.Config{PublicURL: cfg.PublicURL, Logger: cfg.Logger.Named("notify"),
		Dropped: a.Metrics.NotificationsDropped, Delivered: a.Metrics.NotificationDelivered})
	a.Sources = host.NewSources(st, a.Plugins)
	a.Admin = host.NewAdmin(st, a.Sources)
	if err := a.Admin.UpgradeGroup(ctx); err != nil {
		return err
	}
	a.Logins = host.NewLogins(st, a.Sources, host.LoginConfig{SessionLifetime: cfg.SessionLifetime, RememberLifetime: cfg.RememberLifetime,
		IdleTimeout: cfg.IdleTimeout, Rate: cfg.LoginRate,
		Starts: cfg.LoginStarts, Logger: cfg.Logger.Named("login"), SignedIn: a.signedIn})
	a.People = host.NewPeople(st, a.Sources, cfg.Logger.Named("people"))
	a.Actions = host.NewActions(st, a.Sources)
	a.Jobs = host.NewJobs(st, a.Sources, a.People)
	a.Renewer = host.NewRenewer(st, a.Sources, cfg.Logger.Named("renew"))
	clients, rules := openid.NewClients(st), forwardauth.NewRuleAdmin(st, a.Sources, cfg.PublicURL.Host)
	a.Sessions = host.NewSessions(st, cfg.PublicURL)
	var err error
	a.Web, err = web.New(web.Config{PublicURL: cfg.PublicURL, TrustedProxies: cfg.TrustedProxies, SessionLifetime: cfg.SessionLifetime,
		SiteName: cfg.SiteName, StartWait: cfg.StartWait, Logger: cfg.Logger, Clock: cfg.Clock, AdminPasswordFixed: cfg.AdminPassword != "",
		ImageSources: cfg.ImageSources, DocsURL: cfg.DocsURL, ProxyURL: cfg.ProxyURL, ProxyListener: cfg.ProxyListener, Limited: a.Metrics.Limited,
		PublicURLDefault: cfg.PublicURLDefault, CookieDomain: cfg.CookieDomain},
		web.Deps{Keys: st, Plugins: a.Plugins, Sources: a.Sources, Logins: a.Logins, People: a.People, Portal: host.NewPortal(st),
			Clients: clients, Rules: rules, Sessions: a.Sessions, Events: host.NewEvents(st), Actions: a.Actions, Admin: a.Admin,
			FirstRun: host.NewFirstRun(st, a.Sources), Notify: a.Notify})
	if err != nil {
		return err
	}
	a.OIDC, err = openid.New(ctx, openid.Options{Issuer: cfg.PublicURL, Store: st, SigningAlg: cfg.SigningAlg, Sessions: a.Sessions, Pages: a.Web,
		Logger: cfg.Logger.Named("oidc"), FileClients: cfg.FileClients, MaxOpenAuthRequests: cfg.MaxOpenAuthRequests,
		Granted: a.Metrics.Grant, Audit: a.audit, Clients: clients})
	if err != nil {
		return fmt.Errorf("OpenID Connect provider: %w", err)
	}
	a.Web.Attach(web.Door{Name: "oidc", Handler: a.Metrics.TimeToken(a.OIDC, openid.TokenPath), Paths: openid.Paths, Returns: []string{openid.LoginPath}, AppName: a.OIDC.AppName})
	if cfg.CookieDomain != "" {
		if cfg.CookieDomain, err = forwardauth.CheckCookieDomain(cfg.PublicURL.Hostname(), cfg.CookieDomain); err != nil {
			return fmt.Errorf("cookie domain: %w", err)
		}
	}
	a.Forward, err = forwardauth.New(forwardauth.Options{PublicURL: cfg.PublicURL, CookieDomain: cfg.CookieDomain, Store: st, Sessions: a.Sessions, Pages: a.Web,
		SessionLife: cfg.SessionLifetime, CacheTTL: cfg.ForwardCache, Now: cfg.Clock, Logger: cfg.Logger.Named("forward-auth"),
		Kinds: a.Sources, Decided: a.Metrics.Forward, HandedOver: a.Metrics.HandedOver, Audit: a.audit, SiteName: a.Web.SiteName})
	if err != nil {
		return fmt.Errorf("forward-auth: %w", err)
	}
	a.Web.Attach(web.Door{Name: "forward_auth", Handler: a.Metrics.TimeForwardAuth(a.Forward, forwardDecisions), Paths: forwardauth.Paths, Bare: forwardauth.DecisionPaths,
		ProxyOnly: forwardauth.ProxyOnlyPaths, ProxyHandler: a.Metrics.TimeForwardAuth(a.Forward.ProxyHandler(), forwardDecisions), Returns: []string{forwardauth.StartPath, forwardauth.HandoverCodePath}, OnLogout: a.Forward.EndSession,
		AppName: a.Forward.AppName,
		AlsoSignOut: func(ctx context.Context) []web.Link {
			var out []web.Link
			for _, l := range a.Forward.SignOutLinks(ctx) {
				out = append(out, web.Link(l))
			}
			return out
		}})
	if cfg.AdminPassword == "" {
		if a.SetupToken, err = a.Admin.SetupToken(ctx); err != nil {
			return err
		}
	}
	return nil
}

// forwardDecisions are forward-auth's decision paths by proxy flavour, timed by the metrics.
var forwardDecisions = map[string]string{forwardauth.NginxPath: "nginx", forwardauth.TraefikPath: "traefik", forwardauth.CaddyPath: "caddy"}

// prepare runs once the plugins are up, before the host says it is ready: the admin
// password (a bcrypt hash, ~50 ms, kept off the first answer) and the bootstrap sources.
func (a *App) prepare(ctx context.Context, cfg Config) error {
	if cfg.AdminPassword != "" {
		if err := a.Admin.SetPassword(ctx, cfg.AdminPassword); err != nil {
			return err
		}
	}
	return a.applyBootstrap(ctx, cfg.Bootstrap)
}

// Handler serves the pages and the doors (the public listener).
func (a *App) Handler() http.Handler { return a.Web }

// ProxyHandler serves only the paths a reverse proxy asks (the forward-auth listener).
func (a *App) ProxyHandler() http.Handler { return a.Web.ProxyHandler() }

// WaitPlugins blocks until the plugins are up (nil), failed (the error) or ctx ended.
func (a *App) WaitPlugins(ctx context.Context) error { return a.Plugins.Wait(ctx) }

// Close stops the plugins and closes the store the app opened.
func (a *App) Close() {
	if a.cancel != nil {
		a.cancel()
		<-a.loaded
		<-a.followed
		<-a.renewed
	}
	if a.Plugins != nil {
		a.Plugins.Close()
	}
	if a.Sessions != nil { // when sessions were last seen, noted but not yet written
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.Sessions.FlushLastSeen(ctx)
		cancel()
	}
	if a.ownStore {
		a.Store.Close()
	}
}

// The doors ask the host's sessions who a browser is signed in as, and show their pages
// through the host's web pages.
var (
	_ openid.Sessions      = (*host.Sessions)(nil)
	_ forwardauth.Sessions = (*host.Sessions)(nil)
	_ openid.Pages         = (*web.Server)(nil)
	_ forwardauth.Pages    = (*web.Server)(nil)
)
