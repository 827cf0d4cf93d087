package forwardauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// flavour is how a proxy wants "log in first" said.
type flavour int

const (
	// flavourNginx: 401 with the login URL in Location (nginx's error_page 401 redirects);
	// auth_request accepts only 2xx, 401 and 403.
	flavourNginx flavour = iota
	// flavourRedirect: a 302 to the login URL (Traefik forwardAuth, Caddy forward_auth).
	flavourRedirect
)

// Verdict is the decision for one proxied request.
type Verdict int

// The decisions.
const (
	Allow  Verdict = iota // pass, with the user's identity (none on a bypass)
	Login                 // no live session: log in first
	Forbid                // not allowed: unknown host, unreadable path, or not in the rule's groups
	Bridge                // allowed, but the browser goes through the app's hand-over bridge first
)

// String is the verdict as metrics and logs name it.
func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Login:
		return "login"
	case Bridge:
		return "handover"
	default:
		return "forbid"
	}
}

// Remote-* headers sent on every 2xx, empty when unknown, so a value a client put in the
// request can never pass a proxy that copies them.
const (
	HeaderUser   = "Remote-User"
	HeaderName   = "Remote-Name"
	HeaderEmail  = "Remote-Email"
	HeaderGroups = "Remote-Groups"
	// HeaderID is the user's stable id (the OpenID Connect sub): never reassigned, unlike a username.
	HeaderID = "Remote-Id"
)

// noStore is the Cache-Control value of every decision, shared by all answers (read only).
var noStore = []string{"no-store"}

// errNoOriginalHost is an nginx configuration from before X-Original-Host was required.
var errNoOriginalHost = errors.New("no X-Original-Host: add proxy_set_header X-Original-Host $host to the nginx configuration")

// target is the request the proxy asks about.
type target struct {
	method, scheme, host, uri string
}

// nginxTarget reads what the documented nginx configuration sets and nothing else:
// X-Original-URL ($scheme://$http_host$request_uri), X-Original-Method, and
// X-Original-Host ($host: the host nginx chose the server by), which must name the same
// host (a request line naming one app with a Host naming another is refused, not judged by
// the other app's rules). X-Forwarded-* are never read: nginx passes the client's own to
// the subrequest.
func nginxTarget(h http.Header) (target, error) {
	raw, err := single(h, "X-Original-URL")
	if err != nil {
		return target{}, err
	}
	if raw == "" {
		return target{}, errors.New("no X-Original-URL: set it in the nginx configuration")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return target{}, fmt.Errorf("X-Original-URL %q is not an absolute URL", raw)
	}
	t := target{scheme: strings.ToLower(scheme), host: rest, uri: "/"}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		t.host, t.uri = rest[:i], rest[i:]
	}
	if t.method, err = single(h, "X-Original-Method"); err != nil {
		return target{}, err
	}
	if err := t.check(); err != nil {
		return target{}, fmt.Errorf("X-Original-URL %q: %w", raw, err)
	}
	chosen, err := single(h, "X-Original-Host")
	if err != nil {
		return target{}, err
	}
	if chosen == "" {
		return target{}, errNoOriginalHost
	}
	if !strings.EqualFold(strings.TrimSuffix(chosen, "."), strings.TrimSuffix(hostName(t.host), ".")) {
		return target{}, fmt.Errorf("X-Original-URL names host %q but nginx chose the server by %q", t.host, chosen)
	}
	return t, nil
}

// forwardedTarget reads what Traefik's forwardAuth and Caddy's forward_auth set themselves
// (replacing the client's): X-Forwarded-Method, -Proto, -Host and -Uri, and nothing else.
func forwardedTarget(h http.Header) (target, error) {
	var t target
	for _, f := range []struct {
		name string
		v    *string
	}{{"X-Forwarded-Method", &t.method}, {"X-Forwarded-Proto", &t.scheme}, {"X-Forwarded-Host", &t.host}, {"X-Forwarded-Uri", &t.uri}} {
		v, err := single(h, f.name)
		if err != nil {
			return target{}, err
		}
		if v == "" {
			return target{}, fmt.Errorf("no %s: the proxy sets it (is this endpoint called by the proxy?)", f.name)
		}
		*f.v = v
	}
	t.scheme = strings.ToLower(t.scheme)
	if !strings.HasPrefix(t.uri, "/") {
		return target{}, fmt.Errorf("X-Forwarded-Uri %q does not start with /", t.uri)
	}
	return t, t.check()
}

// single is a header that must be sent at most once ("" when absent).
func single(h http.Header, name string) (string, error) {
	switch v := h.Values(name); len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", fmt.Errorf("%s sent %d times", name, len(v))
	}
}

// check validates and normalises the scheme, host and method of a target.
func (t *target) check() error {
	if t.scheme != "http" && t.scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", t.scheme)
	}
	if !validHostPort(t.host) {
		return fmt.Errorf("host %q is not a host name or address with an optional port", t.host)
	}
	t.method = strings.ToUpper(t.method)
	if t.method == "" {
		t.method = http.MethodGet
	}
	for _, c := range t.method {
		if c < 'A' || c > 'Z' {
			return fmt.Errorf("method %q is not a method", t.method)
		}
	}
	return nil
}

// validHostPort reports whether s is a host and an optional port, strictly: a DNS name
// (ASCII letters, digits, hyphens, dots; an IDN in its xn-- form; one trailing dot allowed),
// an IPv4 address, or an IPv6 address in brackets; the port 1 to 65535. Anything else
// ("#", "?", "@", "_", a second colon) is refused, never guessed.
func validHostPort(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		rest := s[end+1:]
		return rest == "" || rest[0] == ':' && validPort(rest[1:])
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if !validPort(port) {
			return false
		}
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// hostName is the host of a valid host[:port], without the port.
func hostName(hostport string) string {
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		return hostport[:end+1]
	}
	h, _, _ := strings.Cut(hostport, ":")
	return h
}

// URL is the proxied request's full URL (the return target after a login).
func (t target) URL() string { return t.scheme + "://" + t.host + t.uri }

// token is the request's forward-auth cookie; ambiguous when the browser sent more than one
// (under either name): an app under the cookie domain can set a second one, and the proxy's
// stripping removes only one, so the app would receive the other; such a request is refused.
func (s *Service) token(r *http.Request) (token string, ambiguous bool) {
	n := 0
	for _, c := range r.Cookies() {
		if c.Name == cookieName || c.Name == secureCookieName {
			n++
			if c.Name == s.CookieName() {
				token = c.Value
			}
		}
	}
	if n > 1 {
		return "", true
	}
	return token, false
}

// decide is the one decision behind every flavour.
func (s *Service) decide(r *http.Request, t target) (Verdict, *identity, error) {
	rs, err := s.currentRules(r.Context())
	if err != nil {
		return Forbid, nil, err
	}
	p, err := ParsePath(t.uri)
	if err != nil {
		return Forbid, nil, nil
	}
	need, ok := rs.Judge(t.host, t.method, p)
	if !ok {
		return Forbid, nil, nil
	}
	if len(need) == 0 {
		return Allow, nil, nil
	}
	token, ambiguous := s.token(r)
	if ambiguous {
		return Forbid, nil, nil
	}
	var ident *identity
	if token != "" {
		if ident, err = s.cache.lookup(r.Context(), token); err != nil {
			return Forbid, nil, err
		}
	}
	if ident == nil {
		return Login, nil, nil
	}
	for _, rule := range need {
		if !host.AppAdmits(rule.Groups, ident.groups) {
			return Forbid, ident, nil
		}
	}
	if hr := rs.handoverRule(t.host); hr != nil && s.needsBridge(r, t, ident.userID, hr.Handover) {
		return Bridge, ident, nil
	}
	return Allow, ident, nil
}

// verify is one proxy flavour's endpoint.
func (s *Service) verify(f flavour, proxy string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = noStore
		read, refuse := forwardedTarget, http.StatusBadRequest
		if f == flavourNginx {
			// auth_request turns anything but 2xx, 401 and 403 into a 500.
			read, refuse = nginxTarget, http.StatusForbidden
		}
		t, err := read(r.Header)
		if errors.Is(err, errNoOriginalHost) {
			s.noOriginalHost.Do(func() {
				s.o.Logger.Error("forward-auth: nginx does not send X-Original-Host, so every request is refused: add " +
					"proxy_set_header X-Original-Host $host; to the auth location (docs/forward-auth.md)")
			})
		}
		if err != nil {
			s.o.Logger.Debug("forward-auth: unreadable proxy request", "error", err)
			s.o.Decided(proxy, "bad_request")
			s.o.Audit.Info("forward_auth_refused", "forward-auth: unreadable proxy request", "proxy", proxy, "error", err.Error())
			plainError(w, "forward-auth: "+err.Error(), refuse)
			return
		}
		v, ident, err := s.decide(r, t)
		if err != nil {
			// The store is unreachable (a database restart): nothing is decided, so nothing
			// passes, and the proxy is told it is an outage, not a refusal. nginx's
			// auth_request shows its 500 page for it; Caddy and Traefik pass the 503 on.
			s.o.Logger.Error("forward-auth decision", "host", t.host, "error", err)
			s.o.Decided(proxy, "unavailable")
			w.Header().Set("Retry-After", "5")
			plainError(w, "forward-auth: the sign-in service cannot reach its database; try again in a moment", http.StatusServiceUnavailable)
			return
		}
		s.o.Decided(proxy, v.String())
		if v == Forbid {
			who := ""
			if ident != nil {
				who = ident.id
			}
			path, _, _ := strings.Cut(t.uri, "?")
			if len(path) > 200 {
				path = path[:200] + "…"
			}
			s.o.Audit.Info("forward_auth_denied", "forward-auth: denied", "proxy", proxy, "host", t.host, "method", t.method,
				"path", path, "user", who)
		}
		switch v {
		case Allow:
			if ident != nil {
				ident.headers.set(w.Header())
			} else {
				anonymousHeaders.set(w.Header())
			}
			w.WriteHeader(http.StatusOK)
		case Login, Bridge:
			if v == Login {
				w.Header().Set("Location", s.startURL(t.URL()))
			} else {
				w.Header().Set("Location", bridgeURL(t))
			}
			if f == flavourNginx {
				w.WriteHeader(http.StatusUnauthorized)
			} else {
				w.WriteHeader(http.StatusFound)
			}
		default:
			if f == flavourNginx {
				// nginx shows its error_page 403 (the denied page, asked on its own).
				w.WriteHeader(http.StatusForbidden)
				return
			}
			// Caddy's forward_auth and Traefik's forwardAuth pass a refusal on as it is.
			s.writeDenied(w, r, &t)
		}
	}
}

// plainError is http.Error with the security headers of a page: the decision paths get none
// from the host (DecisionPaths), and this answer has a body.
func plainError(w http.ResponseWriter, msg string, code int) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	http.Error(w, msg, code) // and X-Content-Type-Options: nosniff
}
