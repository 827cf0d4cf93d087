package forwardauth

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// ReturnTarget checks rd, the URL a browser returns to after logging in for a protected app:
// an absolute http(s) URL without user info whose host is a protected app's host or under the
// cookie domain (on a label boundary), with the public URL's scheme or an upgrade to https.
// It answers the URL to redirect to, or false.
func ReturnTarget(rd string, publicScheme, cookieDomain string, isApp func(host string) bool) (string, bool) {
	if rd == "" || len(rd) > 4096 || strings.ContainsAny(rd, "\\\t\r\n") {
		return "", false
	}
	for _, c := range rd {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(rd)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https":
	case scheme == "http" && publicScheme == "http":
	default:
		return "", false // not http(s), or a downgrade from https
	}
	host, err := idna.Lookup.ToASCII(strings.TrimSuffix(strings.ToLower(u.Hostname()), "."))
	if err != nil || host == "" {
		return "", false
	}
	domain := strings.TrimPrefix(strings.ToLower(cookieDomain), ".")
	under := domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
	if !under && !isApp(NormalizeHost(u.Host)) {
		return "", false
	}
	u.Scheme = scheme
	if p := u.Port(); p != "" {
		u.Host = host + ":" + p
	} else {
		u.Host = host
	}
	return u.String(), true
}
