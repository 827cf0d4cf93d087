package forwardauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/auditlog"
	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/ratelimit"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Paths the service answers (http.ServeMux patterns); the web package routes them here.
const (
	NginxPath   = "/forward-auth/nginx"
	TraefikPath = "/forward-auth/traefik"
	CaddyPath   = "/forward-auth/caddy"
	StartPath   = "/forward-auth/start"
	DeniedPath  = "/forward-auth/denied"
	LogoutPath  = "/forward-auth/logout"
)

// Paths lists every path of the service.
var Paths = []string{NginxPath, TraefikPath, CaddyPath, StartPath, DeniedPath, LogoutPath, HandoverNginxPath, HandoverProxyPath, HandoverCodePath}

// DefaultStartRate is how many start requests a client may make a minute (a burst of a
// third of it): a person opens a few apps at once; a loop or a script is refused.
const DefaultStartRate = 30

// DefaultCacheTTL is the default revocation bound: how long a session answer is reused.
const DefaultCacheTTL = 30 * time.Second

// Options configure forward-auth.
type Options struct {
	// PublicURL is the host's public URL (where the login and these endpoints live).
	PublicURL *url.URL
	// CookieDomain is the parent domain the forward-auth cookie is scoped to ("": host-only).
	CookieDomain string
	Store        Store
	// Sessions tell who the browser is signed in as (host.Sessions).
	Sessions Sessions
	// Pages show a person the door's pages (the host's web pages).
	Pages Pages
	// SessionLife is how long a forward-auth session lasts (default 12 h).
	SessionLife time.Duration
	// CacheTTL bounds how long a session answer is reused (default DefaultCacheTTL).
	CacheTTL time.Duration
	// StartRate is start requests allowed per minute per client (default DefaultStartRate).
	StartRate int
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger hclog.Logger
	// Kinds tells the declared credential kinds, for apps that receive one (nil: none).
	Kinds Kinds
	// Decided, when set, is told each answer's proxy (nginx, traefik, caddy) and outcome.
	Decided func(proxy, outcome string)
	// HandedOver, when set, is told each credential handed to a browser: its kind, and
	// whether it was a navigation (yes, unknown).
	HandedOver func(kind, navigation string)
	// Audit writes the denials to the log (rate-limited; nil: not written).
	Audit *auditlog.Log
	// SiteName is what the pages call this site (nil: the public URL's host).
	SiteName func() string
}

// Sessions are the host's sessions as forward-auth asks them; *host.Sessions is one.
type Sessions interface {
	// SignedIn is the request's signed-in user and when that login happened.
	SignedIn(r *http.Request) (*store.User, time.Time, bool)
	// SessionID is the stored id of the request's signed-in session ("" when none): what a
	// forward-auth session is bound to, so that it dies with the sign-in.
	SessionID(r *http.Request) string
	// Kept reports whether the request's sign-in is kept on its device ("keep me signed in"):
	// only then does the forward-auth cookie outlive the browser.
	Kept(r *http.Request) bool
}

// Pages are what forward-auth shows a person, in the host's pages; *web.Server is one.
type Pages interface {
	// Message shows the person a page.
	Message(w http.ResponseWriter, r *http.Request, status int, title, text string)
	// Confirm shows a page with one button that POSTs (with CSRF) to action.
	Confirm(w http.ResponseWriter, r *http.Request, title, text, action, button string, fields map[string]string)
	// LoginURL is the host's login page that returns to returnTo afterwards.
	LoginURL(returnTo string) string
	// ClientKey is the rate-limit key of the request's client (its address, or its IPv6 /64).
	ClientKey(r *http.Request) string
}

// Service answers reverse proxies and issues the forward-auth cookie.
type Service struct {
	o      Options
	cache  *sessionCache
	mux    *http.ServeMux
	starts *ratelimit.Buckets // per client, for the start page
	codes  *ratelimit.Buckets // per client, for the hand-over code page (its own: neither starves the other)
	// noOriginalHost logs once that nginx's configuration does not send X-Original-Host.
	noOriginalHost sync.Once

	rulesMu sync.Mutex
	rules   atomic.Pointer[ruleSet]
}

// ruleSet is the loaded rules and the store's ForwardRules version they were loaded at.
type ruleSet struct {
	rules   Rules
	version uint64
	loaded  time.Time // when they were read
}

// New sets the service up; CookieDomain must already be checked (CheckCookieDomain).
func New(o Options) (*Service, error) {
	if o.PublicURL == nil || o.Store == nil || o.Sessions == nil || o.Pages == nil {
		return nil, errors.New("forward-auth: public URL, store, sessions and pages are required")
	}
	if o.SessionLife <= 0 {
		o.SessionLife = 12 * time.Hour
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.StartRate <= 0 {
		o.StartRate = DefaultStartRate
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Kinds == nil {
		o.Kinds = noKinds{}
	}
	if o.Decided == nil {
		o.Decided = func(string, string) {}
	}
	if o.HandedOver == nil {
		o.HandedOver = func(string, string) {}
	}
	if o.SiteName == nil {
		o.SiteName = o.PublicURL.Hostname
	}
	s := &Service{o: o, cache: &sessionCache{store: o.Store, ttl: o.CacheTTL, now: o.Now, max: 100000}, mux: http.NewServeMux(),
		starts: ratelimit.New(float64(o.StartRate), o.StartRate/3+1, 100000), codes: ratelimit.New(float64(o.StartRate), o.StartRate/3+1, 100000)}
	s.mux.HandleFunc(NginxPath, s.verify(flavourNginx, "nginx"))
	s.mux.HandleFunc(TraefikPath, s.verify(flavourRedirect, "traefik"))
	s.mux.HandleFunc(CaddyPath, s.verify(flavourRedirect, "caddy"))
	s.mux.HandleFunc("GET "+StartPath, s.start)
	s.mux.HandleFunc(DeniedPath, s.denied)
	s.mux.HandleFunc("GET "+LogoutPath, s.logoutPage)
	s.mux.HandleFunc("GET "+HandoverNginxPath, s.bridge(true))
	s.mux.HandleFunc("GET "+HandoverProxyPath, s.bridge(false))
	s.mux.HandleFunc("GET "+HandoverCodePath, s.handoverCode)
	return s, nil
}

// noKinds declares no credential kind.
type noKinds struct{}

func (noKinds) CredentialKind(string) (source.CredentialKind, bool) {
	return source.CredentialKind{}, false
}

// ServeHTTP serves the service's paths (those that release a credential not on the public host).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.refusedOnPublicHost(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// The forward-auth cookie's names: plain http, and behind https.
const (
	cookieName       = "hx_forward"
	secureCookieName = "__Secure-" + cookieName
)

// CookieName is the forward-auth cookie's name ("__Secure-" prefixed behind https).
func (s *Service) CookieName() string {
	if s.o.PublicURL.Scheme == "https" {
		return secureCookieName
	}
	return cookieName
}

// currentRules is the rule set, reloaded from the store after a change, and at least every
// CacheTTL: a change whose announcement this replica missed (the database out of its reach
// while another replica still writes) is then read, or, unreadable, answered as an outage.
func (s *Service) currentRules(ctx context.Context) (Rules, error) {
	v := s.o.Store.Changes().Version(store.ForwardRules)
	fresh := func(rs *ruleSet) bool {
		return rs != nil && rs.version == v && s.o.Now().Sub(rs.loaded) < s.o.CacheTTL
	}
	if rs := s.rules.Load(); fresh(rs) {
		return rs.rules, nil
	}
	s.rulesMu.Lock()
	defer s.rulesMu.Unlock()
	if rs := s.rules.Load(); fresh(rs) {
		return rs.rules, nil
	}
	now := s.o.Now()
	stored, err := s.o.Store.ForwardRules(ctx)
	if err != nil {
		return nil, err
	}
	rs := Rules(stored)
	s.rules.Store(&ruleSet{rules: rs, version: v, loaded: now})
	return rs, nil
}

// isApp reports whether host is a protected app's host.
func (rs Rules) isApp(host string) bool {
	host = NormalizeHost(host)
	for _, r := range rs {
		if NormalizeHost(r.Host) == host {
			return true
		}
	}
	return false
}

// startURL is the login entry that returns to rd.
func (s *Service) startURL(rd string) string {
	if len(rd) > maxReturn {
		if ru, err := url.Parse(rd); err == nil {
			rd = ru.Scheme + "://" + ru.Host + "/"
		}
	}
	u := *s.o.PublicURL
	u.Path = strings.TrimRight(u.Path, "/") + StartPath
	u.RawQuery = url.Values{"rd": {rd}}.Encode()
	return u.String()
}

// maxReturn bounds the return address carried through a login: a longer one would overflow
// the proxy's buffer for the answer's headers (nginx's is 4 KiB, and the 401's Location holds
// it encoded), so it returns to the app's front page instead.
const maxReturn = 1500

// start follows a login for a protected app: a signed-in person gets the forward-auth cookie
// and goes back to rd; anyone else logs in first and comes back here.
func (s *Service) start(w http.ResponseWriter, r *http.Request) {
	if !s.starts.Take(s.o.Pages.ClientKey(r)) {
		w.Header().Set("Retry-After", "60")
		s.o.Pages.Message(w, r, http.StatusTooManyRequests, "Too many sign-ins",
			"This address asked to sign in to apps too often. Wait a minute and open the app again.")
		return
	}
	rs, err := s.currentRules(r.Context())
	if err != nil {
		s.o.Logger.Error("forward-auth rules", "error", err)
		dbunavailable.Answer(w)
		return
	}
	rd, ok := ReturnTarget(r.URL.Query().Get("rd"), s.o.PublicURL.Scheme, s.o.CookieDomain, rs.isApp)
	if !ok {
		s.o.Pages.Message(w, r, http.StatusBadRequest, "Unknown app",
			"The link asked to return to a page that is not one of this site's protected apps.")
		return
	}
	u, _, ok := s.o.Sessions.SignedIn(r)
	if !ok {
		http.Redirect(w, r, s.o.Pages.LoginURL(StartPath+"?"+url.Values{"rd": {rd}}.Encode()), http.StatusSeeOther)
		return
	}
	if c, err := r.Cookie(s.CookieName()); err == nil {
		// Already this person's: back to the app without a new session (a proxy whose cookie
		// domain does not cover the app loops here, and must not write a row per loop).
		if ident, _ := s.cache.lookup(r.Context(), c.Value); ident != nil && ident.userID == u.ID {
			http.Redirect(w, r, rd, http.StatusSeeOther)
			return
		}
	}
	token, exp, err := StartSession(r.Context(), s.o.Store, s.o.Sessions.SessionID(r), s.o.SessionLife)
	if errors.Is(err, store.ErrAccessEnded) {
		// The sign-in ended meanwhile (signed out everywhere, disabled): sign in again.
		http.Redirect(w, r, s.o.Pages.LoginURL(StartPath+"?"+url.Values{"rd": {rd}}.Encode()), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.o.Logger.Error("forward-auth session", "error", err)
		dbunavailable.Answer(w)
		return
	}
	if !s.o.Sessions.Kept(r) {
		exp = time.Time{} // a browser-session cookie, as the sign-in's
	}
	http.SetCookie(w, s.cookie(token, exp))
	http.Redirect(w, r, rd, http.StatusSeeOther)
}

// cookie is the forward-auth cookie: the parent domain, HttpOnly, SameSite=Lax, Secure
// behind https, kept until exp (zero: a browser-session cookie); an empty token clears it.
func (s *Service) cookie(token string, exp time.Time) *http.Cookie {
	c := &http.Cookie{Name: s.CookieName(), Value: token, Path: "/", Domain: s.o.CookieDomain, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.o.PublicURL.Scheme == "https", Expires: exp}
	if token == "" {
		c.MaxAge, c.Expires = -1, time.Time{}
	}
	return c
}

// EndSession ends the request's forward-auth session and clears its cookie (the host's
// log-out calls it, so one log-out ends both).
func (s *Service) EndSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(s.CookieName())
	if err != nil {
		return
	}
	if id := SessionID(s.o.Store, c.Value); id != "" {
		if err := s.o.Store.DeleteForwardSession(r.Context(), id); err != nil {
			s.o.Logger.Error("forward-auth log-out", "error", err)
		}
	}
	s.cache.forget(c.Value)
	http.SetCookie(w, s.cookie("", time.Time{}))
}

// logoutPage asks the person to confirm signing out of this site and its apps.
func (s *Service) logoutPage(w http.ResponseWriter, r *http.Request) {
	s.o.Pages.Confirm(w, r, "Sign out", "Sign out of this site and every app behind it?", "/logout", "Sign out", nil)
}
