// Command host-example is a small identity server that hosts federated-source plugins:
// it loads them from their manifests, renders their settings as an admin page, runs
// their logins and stores users in SQLite.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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

	"github.com/plexlogin/plexlogin/host-example/connlimit"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/host-example/web"
	"github.com/plexlogin/plexlogin/shared/loader"
)

func main() {
	if len(os.Args) > 1 {
		if cmd, ok := commands[os.Args[1]]; ok {
			if err := cmd(os.Args[2:], os.Stdin, os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, "host-example:", err)
				os.Exit(1)
			}
			return
		}
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "host-example:", err)
		os.Exit(1)
	}
}

// bootstrapSource is one source a bootstrap file creates at first start.
type bootstrapSource struct {
	Plugin  string          `json:"plugin"`
	Slug    string          `json:"slug"`
	Name    string          `json:"name"`
	Enabled bool            `json:"enabled"`
	Config  json.RawMessage `json:"config"`
}

func run() error {
	listen := flag.String("listen", envOr("HOST_LISTEN", "127.0.0.1:8080"), "address to listen on")
	public := flag.String("public-url", os.Getenv("HOST_PUBLIC_URL"), "public URL callbacks are built from (default http://<listen>)")
	dataDir := flag.String("data", envOr("HOST_DATA_DIR", "data"), "data directory (SQLite database and key file)")
	pluginsFlag := flag.String("plugins", os.Getenv("HOST_PLUGINS_DIR"), "folder with plugin manifests (plugin.json or */plugin.json); relative: beside this executable, else in -data; empty: this executable's folder")
	proxies := flag.String("trusted-proxies", os.Getenv("HOST_TRUSTED_PROXIES"), "comma-separated CIDRs whose X-Forwarded-For is honoured")
	lifetime := flag.Duration("session-lifetime", 12*time.Hour, "how long a login lasts")
	revalidate := flag.Duration("revalidate-interval", time.Hour, "how often users are re-validated with their source")
	bootstrap := flag.String("bootstrap", "", "JSON file of sources to create when the database is new")
	maxConns := flag.Int("max-conns", 4096, "open connections at most, in total")
	signingAlg := flag.String("oidc-signing-alg", envOr("HOST_OIDC_SIGNING_ALG", openid.RS256), "OpenID Connect signing algorithm: RS256 or ES256")
	clientsFile := flag.String("oidc-clients", os.Getenv("HOST_OIDC_CLIENTS"), "JSON file of OpenID Connect clients (config as code; read-only in the admin UI)")
	rotateKeys := flag.Bool("rotate-keys", false, "make a new OpenID Connect signing key, retire the old one (still published while its tokens live) and exit")
	maxConnsPerClient := flag.Int("max-conns-per-client", 64, "open connections at most per client address (IPv6: per /64); trusted proxies count only towards -max-conns")
	cookieDomain := flag.String("cookie-domain", os.Getenv("HOST_COOKIE_DOMAIN"), "parent domain of -public-url's host for the forward-auth cookie (apps on its subdomains); empty: host-only")
	forwardCache := flag.Duration("forward-auth-cache", forwardauth.DefaultCacheTTL, "revocation bound of forward-auth: how long a session answer is reused")
	siteName := flag.String("site-name", envOr("HOST_SITE_NAME", "host-example"), "what the sign-in pages call this site")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "%s\nFlags of the server:\n", usage)
		flag.PrintDefaults()
	}
	flag.Parse()

	logger := hclog.New(&hclog.LoggerOptions{Name: "host", Level: hclog.LevelFromString(envOr("HOST_LOG_LEVEL", "info"))})
	if *public == "" {
		*public = "http://" + *listen
	}
	pub, err := url.Parse(*public)
	if err != nil || pub.Host == "" {
		return fmt.Errorf("-public-url %q is not an absolute URL", *public)
	}
	var trusted []netip.Prefix
	for _, c := range strings.Split(*proxies, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return fmt.Errorf("-trusted-proxies: %w", err)
		}
		trusted = append(trusted, p)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	st, err := store.Open(*dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	exposed := []string{*dataDir}
	if *bootstrap != "" {
		exposed = append(exposed, *bootstrap)
	}
	for _, p := range store.ExposedPaths(exposed...) {
		logger.Warn("readable by other local users: make folders 0700 and files 0600", "path", p)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *rotateKeys {
		id, err := openid.RotateKey(ctx, st, *signingAlg)
		if err != nil {
			return fmt.Errorf("rotate keys: %w", err)
		}
		fmt.Printf("new %s signing key %s; running servers use it within a minute\n", *signingAlg, id)
		return nil
	}
	var fileClients []*store.OIDCClient
	if *clientsFile != "" {
		if fileClients, err = openid.ReadClientsFile(*clientsFile, os.Getenv); err != nil {
			return fmt.Errorf("-oidc-clients: %w", err)
		}
	}

	exe, _ := os.Executable()
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("find this executable: %w", err)
	}
	pluginsDir, err := pluginsDir(*pluginsFlag, filepath.Dir(exe), *dataDir)
	if err != nil {
		return err
	}
	plugins, err := web.LoadPlugins(ctx, pluginsDir, loader.Options{Logger: logger.Named("plugin")})
	if err != nil {
		return fmt.Errorf("load plugins: %w (run scripts/build first)", err)
	}
	srv, err := web.New(web.Config{PublicURL: pub, TrustedProxies: trusted, SessionLifetime: *lifetime, SiteName: *siteName, Logger: logger},
		st, plugins)
	if err != nil {
		return err
	}
	defer srv.Close()
	prov, err := openid.New(ctx, openid.Options{Issuer: pub, Store: st, SigningAlg: *signingAlg, Sessions: srv, Logger: logger.Named("oidc"),
		FileClients: fileClients})
	if err != nil {
		return fmt.Errorf("OpenID Connect provider: %w", err)
	}
	srv.Mount(prov, openid.Paths...)
	srv.AllowReturn(openid.LoginPath)
	if *cookieDomain != "" {
		if *cookieDomain, err = forwardauth.CheckCookieDomain(pub.Hostname(), *cookieDomain); err != nil {
			return fmt.Errorf("-cookie-domain: %w", err)
		}
	}
	if *forwardCache < time.Second || *forwardCache > 10*time.Minute {
		return fmt.Errorf("-forward-auth-cache %s: must be between 1s and 10m", *forwardCache)
	}
	fa, err := forwardauth.New(forwardauth.Options{PublicURL: pub, CookieDomain: *cookieDomain, Store: st, Sessions: srv,
		SessionLife: *lifetime, CacheTTL: *forwardCache, Logger: logger.Named("forward-auth")})
	if err != nil {
		return err
	}
	srv.Mount(fa, forwardauth.Paths...)
	srv.AllowReturn(forwardauth.StartPath)
	srv.OnLogout(fa.EndSession)

	if pw := os.Getenv("HOST_ADMIN_PASSWORD"); pw != "" {
		if err := web.SetAdminPassword(ctx, st, pw); err != nil {
			return err
		}
	} else if tok, err := web.SetupToken(ctx, st); err != nil {
		return err
	} else if tok != "" {
		fmt.Printf("First start: set the admin password at %s/setup?token=%s\n", strings.TrimRight(pub.String(), "/"), tok)
	}
	if *bootstrap != "" {
		if err := applyBootstrap(ctx, st, srv, *bootstrap); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ln = connlimit.New(ln, *maxConns, *maxConnsPerClient, func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	})
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10}
	go srv.RunJobs(ctx, *revalidate)
	fmt.Printf("host-example serving %s (login page %s/login)\n", pub, strings.TrimRight(pub.String(), "/"))
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// applyBootstrap creates the file's sources unless a source with the slug exists.
func applyBootstrap(ctx context.Context, st *store.Store, srv *web.Server, path string) error {
	list, err := readBootstrap(path)
	if err != nil {
		return err
	}
	for _, bs := range list {
		if _, err := st.SourceBySlug(ctx, bs.Slug); err == nil {
			continue
		}
		p := srv.Plugin(bs.Plugin)
		if p == nil {
			return fmt.Errorf("no plugin %q", bs.Plugin)
		}
		src, err := st.CreateSource(ctx, bs.Plugin, bs.Slug, bs.Name)
		if err != nil {
			return err
		}
		norm, err := p.P.ValidateConfig(ctx, web.Instance(src, bs.Config))
		if err != nil {
			return fmt.Errorf("source %s: %w", bs.Slug, err)
		}
		if _, err := st.SaveConfig(ctx, src.ID, norm); err != nil {
			return err
		}
		if err := st.SetEnabled(ctx, src.ID, bs.Enabled); err != nil {
			return err
		}
	}
	return nil
}

// readBootstrap reads a bootstrap file strictly: an unknown key is an error that names it.
func readBootstrap(path string) ([]bootstrapSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var list []bootstrapSource
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, bs := range list {
		if bs.Plugin == "" || bs.Slug == "" || bs.Name == "" {
			return nil, fmt.Errorf("%s: source %d needs plugin, slug and name", path, i+1)
		}
	}
	return list, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
