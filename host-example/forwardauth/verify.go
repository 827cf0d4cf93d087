package forwardauth

import (
	"net/http"
	"strings"
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
)

// Remote-* headers sent on every 2xx, empty when unknown, so a value a client put in the
// request can never pass a proxy that copies them.
const (
	HeaderUser   = "Remote-User"
	HeaderName   = "Remote-Name"
	HeaderEmail  = "Remote-Email"
	HeaderGroups = "Remote-Groups"
)

// target is the request the proxy asks about.
type target struct {
	method, scheme, host, uri string
}

// targetOf reads the proxied request: X-Original-URL and X-Original-Method (nginx, as
// docs/forward-auth.md configures it), else X-Forwarded-Method/Proto/Host/Uri.
func targetOf(r *http.Request) (target, bool) {
	h := r.Header
	t := target{method: strings.ToUpper(h.Get("X-Original-Method"))}
	if raw := h.Get("X-Original-URL"); raw != "" {
		scheme, rest, ok := strings.Cut(raw, "://")
		if !ok {
			return t, false
		}
		// The path is taken as the client sent it (NormalizePath decodes it once, as the app will).
		t.scheme, t.host, t.uri = strings.ToLower(scheme), rest, "/"
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			t.host, t.uri = rest[:i], rest[i:]
		}
	} else {
		t.scheme, t.host, t.uri = strings.ToLower(h.Get("X-Forwarded-Proto")), h.Get("X-Forwarded-Host"), h.Get("X-Forwarded-Uri")
		if t.uri == "" {
			t.uri = "/"
		}
	}
	if m := h.Get("X-Forwarded-Method"); t.method == "" {
		t.method = strings.ToUpper(m)
	}
	if t.method == "" {
		t.method = http.MethodGet
	}
	if t.scheme != "http" && t.scheme != "https" || t.host == "" || strings.ContainsAny(t.host, "/@\\ \t") {
		return t, false
	}
	return t, true
}

// URL is the proxied request's full URL (the return target after a login).
func (t target) URL() string { return t.scheme + "://" + t.host + t.uri }

// decide is the one decision behind every flavour.
func (s *Service) decide(r *http.Request, t target) (Verdict, *identity, error) {
	rs, err := s.currentRules(r.Context())
	if err != nil {
		return Forbid, nil, err
	}
	p, err := NormalizePath(t.uri)
	if err != nil {
		return Forbid, nil, nil
	}
	rule := rs.Match(t.host, p)
	if rule == nil {
		return Forbid, nil, nil
	}
	if rule.Bypassed(t.method, p) {
		return Allow, nil, nil
	}
	var ident *identity
	if c, err := r.Cookie(s.CookieName()); err == nil && c.Value != "" {
		if ident, err = s.cache.lookup(r.Context(), c.Value); err != nil {
			return Forbid, nil, err
		}
	}
	if ident == nil {
		return Login, nil, nil
	}
	if !rule.Allows(ident.groups) {
		return Forbid, ident, nil
	}
	return Allow, ident, nil
}

// verify is one proxy flavour's endpoint.
func (s *Service) verify(f flavour) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		t, ok := targetOf(r)
		if !ok {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		v, ident, err := s.decide(r, t)
		if err != nil {
			s.o.Logger.Error("forward-auth decision", "host", t.host, "error", err)
		}
		switch v {
		case Allow:
			h := w.Header()
			h.Set(HeaderUser, "")
			h.Set(HeaderName, "")
			h.Set(HeaderEmail, "")
			h.Set(HeaderGroups, "")
			if ident != nil {
				h.Set(HeaderUser, ident.user)
				h.Set(HeaderName, ident.name)
				h.Set(HeaderEmail, ident.email)
				h.Set(HeaderGroups, ident.groupsHeader)
			}
			w.WriteHeader(http.StatusOK)
		case Login:
			w.Header().Set("Location", s.startURL(t.URL()))
			if f == flavourNginx {
				w.WriteHeader(http.StatusUnauthorized)
			} else {
				w.WriteHeader(http.StatusFound)
			}
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}
}
