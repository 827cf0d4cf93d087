package web

import (
	"errors"
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Head is what every page's layout shows: its title, the site, the login stage and the
// signed-in session for the header. Each page's data type embeds it.
type Head struct {
	Title, Site, Stage string
	// Nonce lets the page's own scripts run (the answer's CSP names it).
	Nonce string
	// Session is the request's session (nil for none): the header's links and the CSRF token.
	Session *store.Session
}

// head is Head itself: render fills it through any page type that embeds Head.
func (h *Head) head() *Head { return h }

// page is a page's typed data: a struct that embeds Head.
type page interface{ head() *Head }

// handle adapts a handler that returns an error, the one place errors become answers: the
// thing a path names not found is 404; any other error (the store unreachable, a plugin
// gone) is the outage answer, 503 with Retry-After, logged.
func (s *view) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		switch {
		case err == nil:
		case errors.Is(err, store.ErrNotFound):
			http.NotFound(w, r)
		default:
			s.cfg.Logger.Warn("page answered unavailable", "path", r.URL.Path, "error", err)
			dbunavailable.Answer(w)
		}
	}
}
