// Command host-example is a small identity server that hosts federated-source plugins:
// it loads them from their manifests, renders their settings as an admin page, runs
// their logins and stores users in SQLite.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/buildinfo"
	"github.com/plexlogin/plexlogin/host-example/connlimit"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/host-example/web"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// defaultListen is serve's -listen, and the address healthcheck asks by default.
const defaultListen = "127.0.0.1:8080"

// serveFlags are the server's settings as the command line and environment give them.
type serveFlags struct {
	listen, public, dataDir, database, plugins, proxies, bootstrap, signingAlg, clientsFile, cookieDomain, siteName, logLevel string
	logFormat, metricsListen, docsURL, forwardAuthListen                                                                      string

	lifetime, revalidate, forwardCache time.Duration
	rememberLifetime, idleTimeout      time.Duration
	maxConns, maxConnsPerClient        int
	rotateKeys                         bool
}

// parseServe reads the serve command's flags, each also set by its HOST_* variable.
func parseServe(args []string) (*serveFlags, error) { return parseServeTo(args, os.Stderr) }

// parseServeTo is parseServe writing help and errors to out.
func parseServeTo(args []string, out io.Writer) (*serveFlags, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(out)
	ef := newEnvFlags(fs, usage)
	f := &serveFlags{}
	str := func(p *string, name, variable, def, help string) {
		fs.StringVar(p, name, def, help)
		ef.bind(name, variable)
	}
	dur := func(p *time.Duration, name, variable string, def time.Duration, help string) {
		fs.DurationVar(p, name, def, help)
		ef.bind(name, variable)
	}
	num := func(p *int, name, variable string, def int, help string) {
		fs.IntVar(p, name, def, help)
		ef.bind(name, variable)
	}
	str(&f.listen, "listen", "HOST_LISTEN", defaultListen, "address to listen on")
	str(&f.public, "public-url", "HOST_PUBLIC_URL", "", "public URL callbacks are built from (default http://<listen>)")
	str(&f.dataDir, "data", "HOST_DATA_DIR", "data", "data directory (the key file, and the SQLite database unless -database is set)")
	str(&f.database, "database", "HOST_DATABASE", "", "postgres://user@host/dbname of a PostgreSQL database shared by replicas (empty: SQLite in -data); a password is best kept in ~/.pgpass or PGPASSFILE")
	str(&f.plugins, "plugins", "HOST_PLUGINS_DIR", "", "folder with plugin manifests (plugin.json or */plugin.json); relative: beside this executable, else in -data; empty: this executable's folder")
	str(&f.proxies, "trusted-proxies", "HOST_TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For is honoured")
	dur(&f.lifetime, "session-lifetime", "HOST_SESSION_LIFETIME", 12*time.Hour, "how long a login lasts")
	dur(&f.rememberLifetime, "remember-lifetime", "HOST_REMEMBER_LIFETIME", host.DefaultRememberLifetime, "how long a sign-in kept on its device (\"keep me signed in\") lasts unused; it slides, and ends a year after the sign-in at the latest")
	dur(&f.idleTimeout, "idle-timeout", "HOST_IDLE_TIMEOUT", 0, "end a sign-in not kept on its device after this long unused, within -session-lifetime (0: off; at least 5m)")
	dur(&f.revalidate, "revalidate-interval", "HOST_REVALIDATE_INTERVAL", time.Hour, "how often users are re-validated with their source")
	str(&f.bootstrap, "bootstrap", "HOST_BOOTSTRAP", "", "JSON file of sources to create when the database is new")
	num(&f.maxConns, "max-conns", "HOST_MAX_CONNS", 4096, "open connections at most, in total")
	str(&f.signingAlg, "oidc-signing-alg", "HOST_OIDC_SIGNING_ALG", openid.RS256, "OpenID Connect default signing algorithm: RS256, ES256 or EdDSA (an application registered with its own uses that)")
	str(&f.clientsFile, "oidc-clients", "HOST_OIDC_CLIENTS", "", "JSON file of OpenID Connect clients (config as code; read-only in the admin UI)")
	fs.BoolVar(&f.rotateKeys, "rotate-keys", false, "make a new OpenID Connect signing key for each algorithm in use, published at once and signing 15 minutes later, when the old one retires (still published while its tokens live), and exit")
	ef.bind("rotate-keys", "HOST_ROTATE_KEYS")
	num(&f.maxConnsPerClient, "max-conns-per-client", "HOST_MAX_CONNS_PER_CLIENT", 64, "open connections at most per client address (IPv6: per /64); trusted proxies count only towards -max-conns")
	str(&f.cookieDomain, "cookie-domain", "HOST_COOKIE_DOMAIN", "", "parent domain of -public-url's host for the forward-auth cookie (apps on its subdomains); empty: host-only")
	dur(&f.forwardCache, "forward-auth-cache", "HOST_FORWARD_AUTH_CACHE", forwardauth.DefaultCacheTTL, "revocation bound of forward-auth: how long a session answer is reused")
	str(&f.siteName, "site-name", "HOST_SITE_NAME", "", "what the sign-in pages call this site (empty: the host name of -public-url)")
	str(&f.docsURL, "docs-url", "HOST_DOCS_URL", web.DefaultDocsURL, "where the admin pages' help links the docs (a doc file's name is appended)")
	str(&f.logLevel, "log-level", "HOST_LOG_LEVEL", "info", "log level: trace, debug, info, warn or error")
	str(&f.logFormat, "log-format", "HOST_LOG_FORMAT", "text", "log format: text, or json (one object a line, for log shippers)")
	str(&f.metricsListen, "metrics-listen", "HOST_METRICS_LISTEN", "", "address to serve Prometheus /metrics on, apart from -listen (empty: off)")
	str(&f.forwardAuthListen, "forward-auth-listen", "HOST_FORWARD_AUTH_LISTEN", "", "address to serve the paths only a reverse proxy asks on (forward-auth's decisions and 403 page, the sign-in hand-over bridge), apart from -listen, which then answers 404 for them (empty: on -listen)")
	if err := ef.parse(args); err != nil {
		return nil, err
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, fmt.Errorf("-log-format %q: use text or json", f.logFormat)
	}
	if f.metricsListen != "" && f.metricsListen == f.listen {
		return nil, errors.New("-metrics-listen must differ from -listen: the metrics are never served on the public port")
	}
	if f.forwardAuthListen != "" && (f.forwardAuthListen == f.listen || f.forwardAuthListen == f.metricsListen) {
		return nil, errors.New("-forward-auth-listen must differ from -listen and -metrics-listen: it keeps the proxy's paths off the public port")
	}
	return f, nil
}

// config turns the flags into the app's Config.
func (f *serveFlags) config(logger hclog.Logger) (app.Config, error) {
	guessed := f.public == ""
	if guessed {
		f.public = "http://" + f.listen
	}
	pub, err := url.Parse(f.public)
	if err != nil || pub.Host == "" {
		return app.Config{}, fmt.Errorf("-public-url %q is not an absolute URL", f.public)
	}
	var trusted []netip.Prefix
	for _, c := range strings.Split(f.proxies, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return app.Config{}, fmt.Errorf("-trusted-proxies: %w", err)
		}
		trusted = append(trusted, p)
	}
	if f.rememberLifetime < time.Hour {
		return app.Config{}, fmt.Errorf("-remember-lifetime %s: must be at least 1h", f.rememberLifetime)
	}
	if f.idleTimeout != 0 && f.idleTimeout < 5*time.Minute {
		return app.Config{}, fmt.Errorf("-idle-timeout %s: must be 0 (off) or at least 5m", f.idleTimeout)
	}
	if f.forwardCache < time.Second || f.forwardCache > 10*time.Minute {
		return app.Config{}, fmt.Errorf("-forward-auth-cache %s: must be between 1s and 10m", f.forwardCache)
	}
	cfg := app.Config{PublicURL: pub, PublicURLDefault: guessed, DataDir: f.dataDir, Database: f.database, TrustedProxies: trusted, SessionLifetime: f.lifetime,
		RememberLifetime: f.rememberLifetime, IdleTimeout: f.idleTimeout, SiteName: f.siteName, DocsURL: f.docsURL,
		SigningAlg: f.signingAlg, CookieDomain: f.cookieDomain, ForwardCache: f.forwardCache, Logger: logger}
	if f.clientsFile != "" {
		var secretErr error // a secret file that cannot be read says why, not just "empty"
		lookup := func(variable string) string {
			v, err := secret(variable)
			if err != nil && secretErr == nil {
				secretErr = err
			}
			return v
		}
		cfg.FileClients, err = openid.ReadClientsFile(f.clientsFile, lookup)
		if err = errors.Join(secretErr, err); err != nil {
			return app.Config{}, fmt.Errorf("-oidc-clients: %w", err)
		}
	}
	if f.bootstrap != "" {
		if cfg.Bootstrap, err = app.ReadBootstrap(f.bootstrap); err != nil {
			return app.Config{}, fmt.Errorf("bootstrap: %w", err)
		}
	}
	if cfg.AdminPassword, err = secret("HOST_ADMIN_PASSWORD"); err != nil {
		return app.Config{}, err
	}
	exe, _ := os.Executable()
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return app.Config{}, fmt.Errorf("find this executable: %w", err)
	}
	if cfg.PluginsDir, err = pluginsDir(f.plugins, filepath.Dir(exe), f.dataDir); err != nil {
		return app.Config{}, err
	}
	return cfg, nil
}

// serveCommand runs the server until SIGINT or SIGTERM.
func serveCommand(args []string, _ io.Reader, stdout io.Writer) error {
	f, err := parseServe(args)
	if err != nil {
		return err
	}
	logger := newLogger(f.logLevel, f.logFormat, os.Stderr)
	say := announcer(stdout, logger, f.logFormat == "json")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.rotateKeys {
		return rotateKeys(ctx, f, stdout)
	}
	if err := serve(ctx, stop, f, logger, say); err != nil {
		if f.logFormat == "json" { // every line JSON: the reason it stopped too
			logger.Error("stopped", "error", err)
			return &reportedError{err}
		}
		return err
	}
	logger.Info("stopped")
	return nil
}

// serve runs the server of f until ctx ends (stop ends it from within).
func serve(ctx context.Context, stop context.CancelFunc, f *serveFlags, logger hclog.Logger, say func(text, msg string, kv ...any)) error {
	cfg, err := f.config(logger)
	if err != nil {
		return err
	}
	if err := ensureTempDir(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	cfg.ProxyURL = proxyURL(ln.Addr().String())
	var pln net.Listener
	if f.forwardAuthListen != "" {
		if pln, err = net.Listen("tcp", f.forwardAuthListen); err != nil {
			ln.Close()
			return fmt.Errorf("-forward-auth-listen: %w", err)
		}
		cfg.ProxyURL, cfg.ProxyListener = proxyURL(pln.Addr().String()), true
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		ln.Close()
		if pln != nil {
			pln.Close()
		}
		return err
	}
	defer a.Close()
	exposed := []string{f.dataDir}
	if f.bootstrap != "" {
		exposed = append(exposed, f.bootstrap)
	}
	for _, p := range store.ExposedPaths(exposed...) {
		logger.Warn("readable by other local users: make folders 0700 and files 0600", "path", p)
	}
	if a.SetupToken != "" {
		link := strings.TrimRight(cfg.PublicURL.String(), "/") + "/setup?token=" + a.SetupToken
		say("First start: set the admin password at "+link, "first start: set the admin password", "url", link)
	}
	trusted := func(addr netip.Addr) bool {
		for _, p := range cfg.TrustedProxies {
			if p.Contains(addr) {
				return true
			}
		}
		return false
	}
	ln = connlimit.New(ln, f.maxConns, f.maxConnsPerClient, trusted)
	errLog := logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})
	hs := newServer(a.Handler(), errLog)
	if pln != nil {
		ps := newServer(a.ProxyHandler(), errLog)
		go func() { _ = ps.Serve(connlimit.New(pln, f.maxConns, f.maxConnsPerClient, trusted)) }()
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = ps.Shutdown(sctx)
		}()
		say("proxy-only paths (forward-auth) at "+cfg.ProxyURL.String(), "proxy-only paths (forward-auth)", "url", cfg.ProxyURL.String())
	}
	failed := make(chan error, 1)
	go a.Notify.Run(ctx, notify.Every)
	go func() {
		<-a.Plugins.Done()
		if err := a.Plugins.Err(); err != nil {
			failed <- fmt.Errorf("load plugins: %w (run scripts/build first)", err)
			stop()
			return
		}
		go a.Jobs.Run(ctx, f.revalidate)
	}()
	if f.metricsListen != "" {
		ms, err := serveMetrics(ctx, f.metricsListen, a, errLog)
		if err != nil {
			return err
		}
		say("metrics at http://"+ms+"/metrics", "metrics", "url", "http://"+ms+"/metrics")
	}
	login := strings.TrimRight(cfg.PublicURL.String(), "/") + "/login"
	bi := buildinfo.Get()
	say(fmt.Sprintf("host-example serving %s (login page %s)", cfg.PublicURL, login), "serving",
		"public_url", cfg.PublicURL.String(), "login_page", login, "version", bi.Version, "revision", bi.Revision)
	go func() {
		<-ctx.Done()
		logger.Info("stopping: finishing the requests under way (at most 5s)")
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	select {
	case err := <-failed:
		return err
	default:
		return nil
	}
}

// newServer is the HTTP server of a listener for a reverse proxy's clients (or the proxy);
// its own errors (a client's TLS or header trouble) go to errLog.
func newServer(h http.Handler, errLog *log.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10, ErrorLog: errLog}
}

// newLogger is the server's logger: text or one JSON object a line (-log-format) on out.
// The standard library's log package writes through it too, so no line escapes the format.
func newLogger(level, format string, out io.Writer) hclog.Logger {
	logger := hclog.New(&hclog.LoggerOptions{Name: "host", Level: hclog.LevelFromString(level), JSONFormat: format == "json", Output: out})
	log.SetFlags(0)
	log.SetOutput(logger.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}))
	return logger
}

// announcer is how the server says where it serves: a plain line on stdout (text), or an
// info line of the log (json: every line a JSON object, the first-start setup link too).
func announcer(stdout io.Writer, logger hclog.Logger, json bool) func(text, msg string, kv ...any) {
	return func(text, msg string, kv ...any) {
		if json {
			logger.Info(msg, kv...)
			return
		}
		fmt.Fprintln(stdout, text)
	}
}

// proxyURL is the address a reverse proxy asks the proxy-only paths on, for the admin's
// Protected apps page: the listener's, with loopback for a listener on every interface.
func proxyURL(addr string) *url.URL {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
}

// rotateKeys makes a new OpenID Connect signing key for each algorithm in use and exits.
func rotateKeys(ctx context.Context, f *serveFlags, stdout io.Writer) error {
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return err
	}
	st, err := store.OpenWith(ctx, store.Options{Database: f.database, Dir: f.dataDir})
	if err != nil {
		return err
	}
	defer st.Close()
	rotated, err := openid.RotateKeys(ctx, st, f.signingAlg, openid.KeyLead)
	for _, k := range rotated {
		fmt.Fprintf(stdout, "new %s signing key %s: published now, signs from %s (every server and relying party has seen it by then); the old key retires then and stays published while its tokens live\n",
			k.Alg, k.ID, k.At.Format(time.RFC3339))
	}
	if err != nil {
		return fmt.Errorf("rotate keys: %w", err)
	}
	return nil
}

// serveMetrics serves /metrics (and /healthz) on addr until ctx ends and answers the address
// it listens on.
func serveMetrics(ctx context.Context, addr string, a *app.App, errLog *log.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("-metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mux.Handle("GET /healthz", a.Handler())
	ms := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 30 * time.Second, ErrorLog: errLog}
	go func() { _ = ms.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ms.Shutdown(sctx)
	}()
	return ln.Addr().String(), nil
}
