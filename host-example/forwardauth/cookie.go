package forwardauth

import (
	"fmt"
	"net"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// CheckCookieDomain checks -cookie-domain against the public URL's host: a DNS name (not an
// address), the host itself or a parent of it on a label boundary, and not a public suffix
// (a cookie for "co.uk" would be every site's). It answers the domain normalised.
func CheckCookieDomain(publicHost, domain string) (string, error) {
	d := strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(domain)), "."), ".")
	h := strings.TrimSuffix(strings.ToLower(publicHost), ".")
	if d == "" {
		return "", fmt.Errorf("cookie domain: empty")
	}
	if net.ParseIP(d) != nil || strings.ContainsAny(d, ":/@ ") {
		return "", fmt.Errorf("cookie domain %q: must be a domain name, not an address", domain)
	}
	if h != d && !strings.HasSuffix(h, "."+d) {
		return "", fmt.Errorf("cookie domain %q: must be the public URL's host %q or a parent of it", domain, publicHost)
	}
	if _, err := publicsuffix.EffectiveTLDPlusOne(d); err != nil {
		return "", fmt.Errorf("cookie domain %q: is a public suffix; browsers share no cookie across it", domain)
	}
	return d, nil
}
