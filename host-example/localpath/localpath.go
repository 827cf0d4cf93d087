// Package localpath checks an address a page was told to go on to, which must stay on the
// origin that serves the page (an open redirect otherwise).
package localpath

import (
	"net/url"
	"strings"
)

// Parse is raw as a path on this origin, or false: it starts with one "/", holds no "\",
// control character, scheme, host or user info, and is at most max bytes.
func Parse(raw string, max int) (*url.URL, bool) {
	if raw == "" || len(raw) > max || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || strings.Contains(raw, "\\") {
		return nil, false
	}
	for _, c := range raw {
		if c < 0x20 || c == 0x7f {
			return nil, false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return nil, false
	}
	return u, true
}
