package host

import (
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Sessions is what the host's doors (OpenID Connect, forward-auth) ask of its sign-in side.
type Sessions interface {
	// SignedIn is the request's signed-in user and when that login happened.
	SignedIn(r *http.Request) (*store.User, time.Time, bool)
	// SessionID is the id of the request's signed-in host session ("" when none), to bind
	// what is given on the strength of that session to it.
	SessionID(r *http.Request) string
	// LoginURL is the host's login page that returns to returnTo afterwards.
	LoginURL(returnTo string) string
	// EndUserSession ends the request's session when it is userID's.
	EndUserSession(r *http.Request, userID int64)
	// Message shows the person a page.
	Message(w http.ResponseWriter, r *http.Request, status int, title, text string)
	// Confirm shows a page with one button that POSTs (with CSRF) to action.
	Confirm(w http.ResponseWriter, r *http.Request, title, text, action, button string, fields map[string]string)
	// CheckCSRF reports whether a POST carries the session's CSRF token.
	CheckCSRF(r *http.Request) bool
	// ClientKey is the rate-limit key of the request's client (its address, or its IPv6 /64).
	ClientKey(r *http.Request) string
	// Offer shows a page with a few ways on, each a button that POSTs (with CSRF) to its action.
	Offer(w http.ResponseWriter, r *http.Request, status int, title, text string, ways []Way)
}

// Way is one button of an Offer page.
type Way struct {
	// ID names the button; Label is its text.
	ID, Label string
	// Action is the local path the button POSTs to, with Fields.
	Action string
	Fields map[string]string
	// Secondary shows it as the lesser way.
	Secondary bool
}
