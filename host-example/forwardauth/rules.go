// Package forwardauth answers reverse proxies (nginx auth_request, Traefik forwardAuth,
// Caddy forward_auth) whether a request to a protected app may pass: per-app rules by host
// and path prefix, matched on the path as the app will see it.
package forwardauth

import (
	"net"
	"slices"
	"strings"

	"golang.org/x/net/idna"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// NormalizeHost lowercases a host, drops a trailing dot and a default port.
func NormalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	host, port := h, ""
	// Only a name with a colon can have a port (SplitHostPort's error would allocate on every
	// request: rules' hosts are normalised per request and reading).
	if strings.IndexByte(h, ':') >= 0 {
		if hp, pp, err := net.SplitHostPort(h); err == nil {
			host, port = hp, pp
		}
	}
	host = strings.TrimSuffix(host, ".")
	if port == "" || port == "80" || port == "443" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// Rules is the rule set (the stored rules: store.ForwardRule, each protecting one app, a
// host, or a part of it, a path prefix); Judge says what it makes of a request.
type Rules []store.ForwardRule

// match is the rule a reading selects on host: the longest path prefix among the host's
// rules; nil (deny) when none.
func (rs Rules) match(host string, rd reading) *store.ForwardRule {
	var best *store.ForwardRule
	for i := range rs {
		r := &rs[i]
		if NormalizeHost(r.Host) != host || !under(rd.segs, r.PathPrefix, rd.fold) {
			continue
		}
		if best == nil || len(strings.TrimRight(r.PathPrefix, "/")) > len(strings.TrimRight(best.PathPrefix, "/")) {
			best = r
		}
	}
	return best
}

// hostsNamed are the distinct rule hosts (with their ports) whose name is that of host.
func (rs Rules) hostsNamed(host string) []string {
	name := hostName(NormalizeHost(host))
	var out []string
	for _, r := range rs {
		if h := NormalizeHost(r.Host); hostName(h) == name && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// Judge is what the rules say of a request to host with method and path, before its session
// is read: ok is false when it is refused (a reading selects no rule, or a rule that does
// not allow an encoded slash the path holds); need are the rules whose groups the user must
// pass (one per reading that is not bypassed), none when it passes without a login.
//
// The port is one of the readings: the client writes it in its Host header, and nginx and
// Caddy choose the server by name, so a request to a host name is judged under the rules of
// every port that name has rules on.
func (rs Rules) Judge(host, method string, p *Path) (need []*store.ForwardRule, ok bool) {
	hosts := rs.hostsNamed(host)
	if len(hosts) == 0 {
		return nil, false
	}
	for _, h := range hosts {
		for _, rd := range p.readings {
			r := rs.match(h, rd)
			if r == nil || (p.EncodedSlash && !r.AllowEncodedSlash) {
				return nil, false
			}
			if !bypassed(r, method, rd) && !slices.Contains(need, r) {
				need = append(need, r)
			}
		}
	}
	return need, true
}

// bypassed reports whether a reading passes r without a login: a preflight, or under a
// bypass path, compared exactly (a bypass never matches case-folded).
func bypassed(r *store.ForwardRule, method string, rd reading) bool {
	if r.BypassOptions && method == "OPTIONS" {
		return true
	}
	for _, b := range r.Bypass {
		if under(rd.segs, b, false) {
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
		case !strings.HasPrefix(p+"/", r.PathPrefix+"/"):
			errs = append(errs, "Bypass: "+b+" is not under this rule's path "+r.PathPrefix+", so it would never apply.")
		default:
			bypass = append(bypass, p)
		}
	}
	r.Bypass = bypass
	return errs
}

// checkPrefix normalises a path prefix typed by the admin: a plain path as the app serves it
// (no query, escape, parameter, dot segment or repeated slash), kept without a trailing slash.
func checkPrefix(field, p string) (string, string) {
	p = strings.TrimSpace(p)
	if p == "" || p == "/" {
		return "", ""
	}
	p = strings.TrimRight(p, "/")
	parsed, err := ParsePath(p)
	if err != nil || strings.ContainsAny(p, "?#%;") || "/"+strings.Join(parsed.readings[0].segs, "/") != p {
		return "", field + ": " + p + " is not a plain path; write it as the app serves it, for example /admin."
	}
	return p, ""
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

// CheckHandover lists what forbids rule r to hand a credential over: the browser app that
// receives it must have an origin of its own (localStorage is per origin, so any other app
// or script on the origin could read it), so the rule covers a whole host that no other rule
// shares and that is not this site's own host. It also refuses a rule on a host that hands
// over. rules are the stored ones (r's own among them when it is being changed).
func CheckHandover(r *store.ForwardRule, rules []store.ForwardRule, siteHost string) []string {
	var errs []string
	name := hostName(NormalizeHost(r.Host))
	for _, o := range rules {
		if o.ID == r.ID || hostName(NormalizeHost(o.Host)) != name {
			continue
		}
		if r.Handover != "" {
			errs = append(errs, "Sign-in hand-over: "+r.Host+" has another rule ("+o.Host+o.PathPrefix+"); the app that receives a sign-in must "+
				"have its host to itself, since every page on that host could read it.")
		} else if o.Handover != "" {
			errs = append(errs, "Host: "+r.Host+" hands a sign-in over to its app ("+o.Name+"), so it cannot hold another app: every page "+
				"on that host could read the sign-in.")
		}
	}
	if r.Handover == "" {
		return errs
	}
	if r.PathPrefix != "" {
		errs = append(errs, "Sign-in hand-over: only for a whole host, never a path such as "+r.PathPrefix+": the browser keeps the sign-in "+
			"for the whole origin, so every other app and any injected script on "+r.Host+" could read it. Give the app a host of its own, "+
			"for example webapp.example.com.")
	}
	if name == hostName(NormalizeHost(siteHost)) {
		errs = append(errs, "Sign-in hand-over: "+r.Host+" is this sign-in site's own host; the app needs a host of its own.")
	}
	return errs
}
