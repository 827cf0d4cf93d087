package web

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A browser that has signed someone in here carries a signed known-browser cookie
// (__Host-hx_known behind https; HttpOnly, SameSite=Lax, a year), kept after signing out.
// Its id is the person's, not the browser's: an opaque MAC of the user id (naming no one), the
// same in every browser that person signed in from. Login starts count against that person's
// one share of the host's budget of starts (host.Begin's Browser), not the network's: a flood
// from its network does not keep it out, and neither a copy of the cookie spread over many
// addresses nor a new cookie jar for each sign-in gives one person more than one share.

const (
	// knownBrowserLabel signs the cookie; knownPersonLabel derives its id from the user id.
	// (Cookies of the earlier random ids, signed under "known-browser", no longer count.)
	knownBrowserLabel = "known-browser-person"
	knownPersonLabel  = "known-person"
	knownBrowserLife  = 365 * 24 * time.Hour
)

// knownBrowserCookie is the cookie's name: "__Host-" behind https, as the session's.
func (s *view) knownBrowserCookie() string {
	if s.cfg.PublicURL.Scheme == "https" {
		return "__Host-hx_known"
	}
	return "hx_known"
}

// knownID is the known-browser id of the person userID: opaque, the same in all their browsers.
func (s *view) knownID(userID int64) string {
	return s.keys.MAC(knownPersonLabel, strconv.FormatInt(userID, 10))[:32]
}

// knownBrowser is the id in the request's known-browser cookie when its MAC holds, else "".
func (s *view) knownBrowser(r *http.Request) string {
	c, err := r.Cookie(s.knownBrowserCookie())
	if err != nil || len(c.Value) > 200 {
		return ""
	}
	id, mac, ok := strings.Cut(c.Value, ".")
	if !ok || len(id) != 32 || !hmac.Equal([]byte(mac), []byte(s.keys.MAC(knownBrowserLabel, id))) {
		return ""
	}
	return id
}

// startShare is whose quiet share of the budget of login starts a request's start counts
// against: the person signed in in this browser, else the person who signed in here before
// (the known-browser cookie), as one opaque id ("" for neither: the network's share).
func (s *view) startShare(r *http.Request) string {
	if person := personOf(r); person != 0 {
		return s.knownID(person)
	}
	return s.knownBrowser(r)
}

// rememberBrowser gives a browser in which userID just signed in the known-browser cookie of
// that person (replacing another person's).
func (s *view) rememberBrowser(w http.ResponseWriter, userID int64) {
	id := s.knownID(userID)
	http.SetCookie(w, &http.Cookie{Name: s.knownBrowserCookie(), Value: id + "." + s.keys.MAC(knownBrowserLabel, id), Path: "/",
		MaxAge: int(knownBrowserLife / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.PublicURL.Scheme == "https"})
}
