// Package web is host-example's pages: the sign-in pages and the callback, the pages the
// doors show (their Pages), and the admin UI rendered from each plugin's settings schema. It
// translates HTTP to the application layer (package host) and back.
package web

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/docs"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/ratelimit"
	"github.com/plexlogin/plexlogin/host-example/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// Config configures the server.
type Config struct {
	// PublicURL is what every callback is built from.
	PublicURL *url.URL
	// TrustedProxies may set X-Forwarded-For / X-Forwarded-Proto.
	TrustedProxies []netip.Prefix
	// SessionLifetime is how long an admin login lasts (a person's comes from the login engine).
	SessionLifetime time.Duration
	// SiteName is what the pages call this site (default: the public URL's host name).
	SiteName string
	// StartWait is how long a page that needs the plugins waits for them while they start
	// (default 10s); then it asks the person to try again.
	StartWait time.Duration
	// Clock is the admin TOTP's clock (default time.Now; tests move it).
	Clock func() time.Time
	// AdminPasswordFixed is set when HOST_ADMIN_PASSWORD sets the admin password at every
	// start: then it cannot be turned off here.
	AdminPasswordFixed bool
	Logger             hclog.Logger
	// ImageSources are origins beyond https: that pictures may load from (a test's simulated
	// upstream on http); avatars of real accounts come from their upstream over https.
	ImageSources []string
	// DocsURL is where help text links a doc file (DocsURL + "mappings.md"); default DefaultDocsURL.
	DocsURL string
	// ProxyURL is where reverse proxies reach the doors' proxy-only paths (the forward-auth
	// listener when there is one, else host-example's own listener), which the Protected apps
	// page shows; nil: not known here (the page says so).
	ProxyURL *url.URL
	// PublicURLDefault is set when PublicURL was not given but taken from the listen address.
	PublicURLDefault bool
	// CookieDomain is the forward-auth cookie's parent domain ("": host-only), which the
	// first-run guide checks.
	CookieDomain string
	// ProxyListener is set when the proxy-only paths have a listener of their own
	// (ProxyHandler): the public handler then answers 404 for them.
	ProxyListener bool
	// Limited, when set, counts each 429 a page answers (a limit on sign-ins), by door:
	// "login" (a person's sign-in pages), "admin" (the admin's sign-in) or an attached Door's Name.
	Limited func(door string)
}

// DefaultDocsURL is the docs this host serves itself (package docs, under /docs/): the
// docs of this version, offline.
const DefaultDocsURL = docs.Prefix

// Deps are the application parts the pages translate to HTTP.
type Deps struct {
	Plugins *host.Registry
	Sources *host.Sources
	Logins  *host.Logins
	People  *host.People
	// Sessions are the host's browser sessions (the cookie, minting, loading, ending).
	Sessions *host.Sessions
	// Events is the audit trail the admin's pages read.
	Events  *host.Events
	Actions *host.Actions
	// Admin is the admin's ways in: its sign-in, proofs and security page.
	Admin *host.Admin
	// Keys sign what the pages hand a browser to give back (a flash notice, a known browser).
	Keys Signer
	// Clients are the OpenID Connect applications the admin registers.
	Clients *openid.Clients
	// Rules are the apps forward-auth protects, as the admin sets them.
	Rules *forwardauth.RuleAdmin
	// Portal is the friends' portal: a person's apps as tiles, and the apps' icons.
	Portal *host.Portal
	// FirstRun is the first-run guide: where the admin is of the first steps.
	FirstRun *host.FirstRun
	// Notify is the admin's notifications: their targets, a test, the delivery state.
	Notify *notify.Notifier
}

// Signer makes keyed MACs of the host's key; *store.Store is one.
type Signer interface {
	// MAC is the keyed MAC of value for label (a purpose), hex.
	MAC(label, value string) string
}

// Server is host-example's handler: the pages, and the doors attached beside them.
type Server struct {
	*view
	mux *http.ServeMux
	// proxyMux serves the doors' proxy-only paths on the forward-auth listener (ProxyHandler).
	proxyMux *http.ServeMux
	// bare and proxyBare are the paths mux and proxyMux route to a door's handler without page
	// headers (Door.Bare).
	bare, proxyBare map[string]bool
	// doors are what the attached doors add to the pages (Attach).
	doors *doorSet
}

// New returns the server.
func New(cfg Config, d Deps) (*Server, error) {
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.StartWait == 0 {
		cfg.StartWait = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.DocsURL == "" {
		cfg.DocsURL = DefaultDocsURL
	}
	if !strings.HasSuffix(cfg.DocsURL, "/") {
		cfg.DocsURL += "/"
	}
	if cfg.SiteName = strings.TrimSpace(cfg.SiteName); cfg.SiteName == "" && cfg.PublicURL != nil {
		cfg.SiteName = cfg.PublicURL.Hostname()
	}
	t, err := template.New("").Funcs(template.FuncMap{
		"join": strings.Join,
		"json": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
		"rawjson": func(b json.RawMessage) string {
			var v any
			if json.Unmarshal(b, &v) != nil {
				return string(b)
			}
			out, _ := json.MarshalIndent(v, "", "  ")
			return string(out)
		},
		"add":       func(a, b int) int { return a + b },
		"attrs":     attributeRows,
		"attrLabel": d.Sources.AttributeTitle,
		"errPart":   errorPart,
		"initial":   initial,
		"safeURL":   func(s string) template.URL { return template.URL(s) },
		"docLinks":  func(text string) template.HTML { return docLinks(cfg.DocsURL, text) },
		"iconURL":   iconURL,
		"syncModes": host.SyncedAttributes,
		"adminSet":  func() string { return host.AdminSetOrigin },
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("page templates: %w", err)
	}
	v := &view{cfg: cfg, tmpl: t, plugins: d.Plugins, sessions: d.Sessions, keys: d.Keys,
		csp: "default-src 'self'; img-src 'self' data: https:" + strings.Join(append([]string{""}, cfg.ImageSources...), " ") +
			"; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; script-src 'self'"}
	s := &Server{view: v, mux: http.NewServeMux(), proxyMux: http.NewServeMux(), bare: map[string]bool{}, proxyBare: map[string]bool{}, doors: &doorSet{returns: map[string]bool{}, names: map[string]string{}}}
	v.doors = s.doors
	s.routes(d)
	return s, nil
}

// routes mounts the pages, each group with the services it uses.
func (s *Server) routes(d Deps) {
	(&signIn{view: s.view, doors: s.doors, logins: d.Logins, sources: d.Sources, people: d.People}).routes(s.mux)
	kit := &adminKit{view: s.view, adm: d.Admin, doors: s.doors}
	(&adminPages{adminKit: kit, sources: d.Sources, events: d.Events, people: d.People, firstRun: d.FirstRun}).routes(s.mux, adminGroups{
		sources:  &sourcePages{adminKit: kit, sources: d.Sources, actions: d.Actions, people: d.People},
		clients:  &clientPages{adminKit: kit, clients: d.Clients, portal: d.Portal},
		rules:    &rulePages{adminKit: kit, rules: d.Rules, sources: d.Sources, portal: d.Portal},
		people:   &peoplePages{adminKit: kit, people: d.People, events: d.Events, sources: d.Sources},
		security: &securityPages{adminKit: kit},
	})
	(&portalPages{adminKit: kit, people: d.People, portal: d.Portal}).routes(s.mux)
	if d.Notify != nil {
		(&notifyPages{adminKit: kit, notify: d.Notify}).routes(s.mux)
	}
	(&helpPages{view: s.view}).routes(s.mux)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.proxyMux.HandleFunc("GET /healthz", s.healthz)
}

// Request body limits: the admin UI's forms (mappings included) and everything else.
const (
	maxAdminBody = 1 << 20
	maxBody      = 64 << 10
)

// ServeHTTP serves the public listener: the pages and the doors' paths (not their proxy-only
// ones when those have a listener of their own).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(s.mux, s.bare, w, r) }

// ProxyHandler serves the forward-auth listener: only the doors' proxy-only paths (and
// /healthz), which a reverse proxy asks on host-example's internal address.
func (s *Server) ProxyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(s.proxyMux, s.proxyBare, w, r) })
}

// serve adds security headers (but on the bare paths mux routes: Door.Bare), caps the body,
// refuses multipart but on an icon upload (takesUpload: the one form with a file, read only
// behind the admin guard) and parses a form once, on the request the server owns, then serves mux.
func (s *Server) serve(mux *http.ServeMux, bare map[string]bool, w http.ResponseWriter, r *http.Request) {
	if !bare[r.URL.Path] || (r.Body != nil && r.Body != http.NoBody) { // a proxy's question has no body
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", s.csp)
	}
	s.warnUntrustedForwarding(r)
	if r.Body != nil && r.Body != http.NoBody {
		limit := int64(maxBody)
		upload := takesUpload(r)
		switch {
		case upload:
			limit = maxIconBody
		case strings.HasPrefix(r.URL.Path, "/admin/"):
			limit = maxAdminBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "multipart/form-data":
			if !upload {
				w.Header().Set("Connection", "close")
				http.Error(w, "multipart bodies are not accepted here", http.StatusUnsupportedMediaType)
				return
			} // read by the admin guard once it has seen an admin session (readUpload)
		case "multipart/mixed":
			w.Header().Set("Connection", "close")
			http.Error(w, "multipart bodies are not accepted here", http.StatusUnsupportedMediaType)
			return
		case "application/x-www-form-urlencoded":
			if err := r.ParseForm(); err != nil {
				w.Header().Set("Connection", "close")
				http.Error(w, "the form could not be read (too large?)", http.StatusRequestEntityTooLarge)
				return
			}
		}
	}
	mux.ServeHTTP(w, r)
}

// SiteName is what the pages call this site.
func (s *Server) SiteName() string { return s.cfg.SiteName }

// callbackURL is the public URL of a path.
func (s *view) callbackURL(path string) string {
	u := *s.cfg.PublicURL
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = ""
	return u.String()
}

// peer is the TCP peer's address as text, and whether it is a trusted proxy.
func (s *view) peer(r *http.Request) (string, bool) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(ip)
	return ip, err == nil && s.trusted(addr)
}

// clientIP is the remote address, or the first untrusted hop of X-Forwarded-For when
// the request comes from a trusted proxy.
func (s *view) clientIP(r *http.Request) string {
	peer, trusted := s.peer(r)
	if !trusted {
		return peer
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return peer
}

// warnUntrustedForwarding logs once that a peer outside the trusted proxies sent
// X-Forwarded-For: when that peer is the host's reverse proxy, every client looks like the
// proxy and the per-address limits put them all in one bucket.
func (s *view) warnUntrustedForwarding(r *http.Request) {
	if s.forwardedWarned.Load() || r.Header.Get("X-Forwarded-For") == "" {
		return
	}
	peer, trusted := s.peer(r)
	if trusted {
		return
	}
	if s.forwardedWarned.CompareAndSwap(false, true) {
		s.cfg.Logger.Warn("X-Forwarded-For sent by a peer outside -trusted-proxies is ignored: if this peer is your reverse proxy, "+
			"every client looks like it and the per-address limits treat all clients as one; add its address to -trusted-proxies "+
			"(if clients reach the host directly, someone sent the header by hand: nothing to do). Logged once.", "peer", peer)
	}
}

func (s *view) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// parseHop reads an X-Forwarded-For entry: an address, or an address with a port
// ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// ClientKey is the rate-limit key of the request's client: its address (X-Forwarded-For
// only from a trusted proxy), an IPv6 address by its /64.
func (s *Server) ClientKey(r *http.Request) string { return s.clientKey(r) }

// clientKey is the rate-limit key of the request's client.
func (s *view) clientKey(r *http.Request) string {
	a, err := netip.ParseAddr(s.clientIP(r))
	if err != nil {
		return s.clientIP(r)
	}
	return ratelimit.ClientKey(a)
}

var pageTitles = map[string]string{"login.html": "Sign in", "profile.html": "Profile", "admin.html": "Admin", "source.html": "Source",
	"users.html": "Users", "events.html": "Events", "setup.html": "Setup", "adminlogin.html": "Admin sign-in", "newsource.html": "New source",
	"choices.html": "Choose", "step.html": "Sign in", "pending.html": "Waiting", "confirm.html": "Confirm", "clients.html": "Applications", "client.html": "Application",
	"rules.html": "Protected apps", "rule.html": "Protected app", "resume.html": "Send your changes again?", "portal.html": "Your apps"}

// loginStages are the pages of a login in progress, for the header: the login page itself
// offers no sign-in link, and a page in the middle of a login says so.
var loginStages = map[string]string{"login.html": "login", "step.html": "step", "otp.html": "step", "pending.html": "step"}

// render answers a page: data is the page's typed data, a struct that embeds Head.
func (s *view) render(w http.ResponseWriter, status int, name string, data page) {
	nonce := newNonce()
	h := data.head()
	if h.Title == "" {
		h.Title = pageTitles[name]
	}
	h.Site = s.cfg.SiteName
	if h.Stage == "" {
		h.Stage = loginStages[name]
	}
	h.Nonce = nonce
	// The page's own scripts run by a nonce of this answer; no other inline script does.
	w.Header().Set("Content-Security-Policy", s.csp+" 'nonce-"+nonce+"'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.tmpl.ExecuteTemplate(w, name, data); err != nil {
		s.cfg.Logger.Error("render", "template", name, "error", err)
	}
}

// newNonce is a CSP nonce: 18 random bytes, base64url.
func newNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// messagePage is message.html's data.
type messagePage struct {
	Head
	Text, Again string
	// Ways are buttons that POST onward (Offer); Back and BackLabel a link back.
	Ways            []host.Way
	Back, BackLabel string
	// Retry is a page to try again from (a source unreachable).
	Retry string
}

// message renders a page that tells the person what happened, in their words.
func (s *view) message(w http.ResponseWriter, r *http.Request, status int, title, text string, again string) {
	if status == http.StatusTooManyRequests {
		s.limited(r)
	}
	s.render(w, status, "message.html", &messagePage{Head: Head{Title: title, Session: s.sessionFor(r)}, Text: text, Again: again})
}

// sessionFor is the request's session for the header: the one loaded for it, else the
// cookie's (a door's page did not load one), nil for none.
func (s *view) sessionFor(r *http.Request) *store.Session {
	if sess := sessionOf(r); sess != nil {
		return sess
	}
	sess, _, err := s.session(nil, r, false)
	if err != nil {
		return nil
	}
	return sess
}
