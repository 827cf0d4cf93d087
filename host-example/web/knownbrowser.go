package web

import (
	"crypto/hmac"
	"net/http"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A browser that has signed someone in here carries a signed known-browser cookie
// (__Host-hx_known behind https; HttpOnly, SameSite=Lax, a year), kept after signing out.
// Its login starts count against that browser's own share of the host's budget of starts
// (host.Begin's Browser), not its network's: a flood from its network does not keep it out,
// and a copy of the cookie spread over many addresses is still one browser's share.

const (
	knownBrowserLabel = "known-browser"
	knownBrowserLife  = 365 * 24 * time.Hour
)

// knownBrowserCookie is the cookie's name: "__Host-" behind https, as the session's.
func (s *Server) knownBrowserCookie() string {
	if s.cfg.PublicURL.Scheme == "https" {
		return "__Host-hx_known"
	}
	return "hx_known"
}

// knownBrowser is the id in the request's known-browser cookie when its MAC holds, else "".
func (s *Server) knownBrowser(r *http.Request) string {
	c, err := r.Cookie(s.knownBrowserCookie())
	if err != nil || len(c.Value) > 200 {
		return ""
	}
	id, mac, ok := strings.Cut(c.Value, ".")
	if !ok || len(id) != 32 || !hmac.Equal([]byte(mac), []byte(s.store.MAC(knownBrowserLabel, id))) {
		return ""
	}
	return id
}

// rememberBrowser gives a browser that just signed someone in a known-browser cookie, or
// renews the one it has.
func (s *Server) rememberBrowser(w http.ResponseWriter, r *http.Request) {
	id := s.knownBrowser(r)
	if id == "" {
		id = store.RandomID(16)
	}
	http.SetCookie(w, &http.Cookie{Name: s.knownBrowserCookie(), Value: id + "." + s.store.MAC(knownBrowserLabel, id), Path: "/",
		MaxAge: int(knownBrowserLife / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.PublicURL.Scheme == "https"})
}
