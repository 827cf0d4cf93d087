package web

import (
	"html/template"
	"sync/atomic"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// view is what every page group shares: the templates and their settings, the request's
// session and client, and the wait for the plugins. It holds no service that decides.
type view struct {
	cfg  Config
	tmpl *template.Template
	// csp is the Content-Security-Policy of every page.
	csp string
	// plugins are waited for by the pages that need them (started).
	plugins *host.Registry
	// sessions are the host's browser sessions.
	sessions *host.Sessions
	// keys sign what a page hands a browser to give back.
	keys Signer
	// doors name the door of a path (Config.Limited).
	doors *doorSet
	// forwardedWarned is set once the untrusted X-Forwarded-For warning was logged.
	forwardedWarned atomic.Bool
}
