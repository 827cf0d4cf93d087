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

	"golang.org/x/net/idna"

	"github.com/plexlogin/plexlogin/host-example/store"
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
// encoded escape, or an encoded "?" or "#" (%3F, %23: read differently by different servers)
// is refused rather than guessed.
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
	if err != nil || strings.ContainsAny(dec, "\x00\\%?#") {
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

// CheckRule normalises a rule from the admin UI (host lowercased and in ASCII, default port
// dropped, paths without a trailing slash) and lists what is wrong with it, in words.
func CheckRule(r *store.ForwardRule) []string {
	var errs []string
	r.Name = strings.TrimSpace(r.Name)
	host, port, err := net.SplitHostPort(strings.TrimSpace(r.Host))
	if err != nil {
		host, port = strings.TrimSpace(r.Host), ""
	}
	ascii, err := idna.Lookup.ToASCII(strings.TrimSuffix(strings.ToLower(host), "."))
	switch {
	case host == "":
		errs = append(errs, "Host: enter the app's host name, for example sonarr.example.com.")
	case err != nil || strings.ContainsAny(ascii, "/@\\:?# ") || strings.Contains(ascii, ".."):
		errs = append(errs, "Host: "+host+" is not a host name (no scheme or path: just sonarr.example.com, optionally with :port).")
	case port != "" && !validPort(port):
		errs = append(errs, "Host: the port must be a number from 1 to 65535.")
	default:
		if port != "" {
			ascii = net.JoinHostPort(ascii, port)
		}
		r.Host = NormalizeHost(ascii)
	}
	var msg string
	if r.PathPrefix, msg = checkPrefix("Path", r.PathPrefix); msg != "" {
		errs = append(errs, msg)
	}
	groups := r.Groups[:0:0]
	for _, g := range r.Groups {
		g = strings.TrimSpace(g)
		switch {
		case g == "":
		case strings.ContainsAny(g, ",\r\n\t"):
			errs = append(errs, "Groups: "+g+" holds a comma; group names are sent comma-separated, so it cannot be used.")
		default:
			groups = append(groups, g)
		}
	}
	r.Groups = groups
	bypass := r.Bypass[:0:0]
	for _, b := range r.Bypass {
		if strings.TrimSpace(b) == "" {
			continue
		}
		p, msg := checkPrefix("Bypass", b)
		switch {
		case msg != "":
			errs = append(errs, msg)
		case p == "" || p == r.PathPrefix:
			errs = append(errs, "Bypass: "+b+" would let the whole rule through without a login; turn the rule off instead.")
		case !underPrefix(p, r.PathPrefix):
			errs = append(errs, "Bypass: "+b+" is not under this rule's path "+r.PathPrefix+", so it would never apply.")
		default:
			bypass = append(bypass, p)
		}
	}
	r.Bypass = bypass
	return errs
}

// checkPrefix normalises a path prefix typed by the admin: it must be the path as the app
// serves it (NormalizePath leaves it as it is), without query, and is kept without a trailing slash.
func checkPrefix(field, p string) (string, string) {
	p = strings.TrimSpace(p)
	if p == "" || p == "/" {
		return "", ""
	}
	n, err := NormalizePath(p)
	if err != nil || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#%;") || strings.TrimRight(n, "/") != strings.TrimRight(p, "/") {
		return "", field + ": " + p + " is not a plain path; write it as the app serves it, for example /admin."
	}
	return strings.TrimRight(n, "/"), ""
}

func validPort(p string) bool {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' || n > 65535 {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}
