// Package forwardauth answers reverse proxies (nginx auth_request, Traefik forwardAuth,
// Caddy forward_auth) whether a request to a protected app may pass: per-app rules by host
// and path prefix, matched on the path as the app will see it.
package forwardauth

import (
	"errors"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Rule protects one app (a host) or a part of it (a path prefix).
type Rule struct {
	ID   string
	Host string // e.g. sonarr.example.com, or sonarr.example.com:8443
	// PathPrefix, when set, limits the rule to a path and what is below it (segment boundaries).
	PathPrefix string
	// Groups, when not empty, are the groups of which a user must be in one; empty: any signed-in user.
	Groups []string
	// Bypass are path prefixes the app protects itself (API keys): they pass without a login.
	Bypass []string
	// BypassOptions lets CORS preflight (OPTIONS) requests pass without a login.
	BypassOptions bool
}

// ErrBadPath is a request path that cannot be normalised safely (it is denied).
var ErrBadPath = errors.New("request path cannot be normalised")

// NormalizePath is the path an upstream will serve for raw (the path and query of the
// request as the proxy forwarded it): percent-decoded once (%2e%2e and %2f included), path
// parameters (";jsessionid=…", which some servers drop) removed from each segment, dot
// segments resolved, repeated slashes collapsed. A path with a NUL, a backslash or an
// encoded escape is refused rather than guessed.
func NormalizePath(raw string) (string, error) {
	p, _, _ := strings.Cut(raw, "?")
	p, _, _ = strings.Cut(p, "#")
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") {
		return "", ErrBadPath
	}
	dec, err := url.PathUnescape(p)
	if err != nil || strings.ContainsAny(dec, "\x00\\") || strings.Contains(dec, "%") {
		return "", ErrBadPath
	}
	segs := strings.Split(dec, "/")
	for i, s := range segs {
		segs[i], _, _ = strings.Cut(s, ";")
	}
	dec = strings.Join(segs, "/")
	clean := path.Clean(dec)
	if strings.HasSuffix(dec, "/") && clean != "/" {
		clean += "/"
	}
	return clean, nil
}

// underPrefix reports whether p is prefix or below it, on a segment boundary: /admin
// covers /admin and /admin/x, never /adminx.
func underPrefix(p, prefix string) bool {
	prefix = strings.TrimRight(prefix, "/")
	if prefix == "" {
		return true
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// NormalizeHost lowercases a host, drops a trailing dot and a default port.
func NormalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = h, ""
	}
	host = strings.TrimSuffix(host, ".")
	if port == "" || port == "80" || port == "443" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// Rules is the rule set; Match picks the rule of a request.
type Rules []Rule

// Match is the rule for host and the normalised path p: the longest path prefix among the
// host's rules; nil (deny) for an unknown host.
func (rs Rules) Match(host, p string) *Rule {
	host = NormalizeHost(host)
	var best *Rule
	for i := range rs {
		r := &rs[i]
		if NormalizeHost(r.Host) != host || !underPrefix(p, r.PathPrefix) {
			continue
		}
		if best == nil || len(strings.TrimRight(r.PathPrefix, "/")) > len(strings.TrimRight(best.PathPrefix, "/")) {
			best = r
		}
	}
	return best
}

// Bypassed reports whether the request passes without a login: a bypass path, or a preflight.
func (r *Rule) Bypassed(method, p string) bool {
	if r.BypassOptions && method == "OPTIONS" {
		return true
	}
	for _, b := range r.Bypass {
		if underPrefix(p, b) {
			return true
		}
	}
	return false
}

// Allows reports whether a user with groups may pass.
func (r *Rule) Allows(groups []string) bool {
	if len(r.Groups) == 0 {
		return true
	}
	for _, g := range groups {
		if slices.Contains(r.Groups, g) {
			return true
		}
	}
	return false
}
