package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/localpath"
)

// defaultReturn is where a login ends when nothing asked for another page: the person's
// apps (the portal).
const defaultReturn = "/"

// Door is a protocol the host serves beside its pages (OpenID Connect, forward-auth).
type Door struct {
	// Name names the door in the metrics (Config.Limited), such as "oidc".
	Name    string
	Handler http.Handler
	// Paths are the http.ServeMux patterns routed to Handler.
	Paths []string
	// ProxyOnly are those of Paths that only a reverse proxy asks: served by ProxyHandler
	// (the server's) with the door's ProxyHandler, and not by the public handler when
	// Config.ProxyListener is set.
	ProxyOnly []string
	// ProxyHandler serves ProxyOnly on the forward-auth listener (nil: Handler).
	ProxyHandler http.Handler
	// Bare are those of Paths whose answers are no page: the server adds no page security
	// headers to them, and their handler sets its own on any answer with a body.
	Bare []string
	// Returns are local paths a login may return to (with any query), such as the door's
	// own authorization step.
	Returns []string
	// OnLogout, when set, runs when a person logs out (after the host's session ended), so
	// the door can end its own session too.
	OnLogout func(http.ResponseWriter, *http.Request)
	// AlsoSignOut, when set, lists pages the signed-out page links, where a person signs out
	// of an app the host cannot reach (a browser app's own storage).
	AlsoSignOut func(ctx context.Context) []Link
	// AppName, when set, names the app a login's return address belongs to ("" when it is
	// not the door's), so the sign-in page can say "Sign in to <app>".
	AppName func(ctx context.Context, returnPath string) string
}

// Link is a labelled address.
type Link struct {
	Label, URL string
}

// doorSet is what the attached doors add to the pages: where a login may return, what to
// do at logout, and how to name the app a login is for.
type doorSet struct {
	// returns are the local paths a login may return to.
	returns map[string]bool
	// onLogout run when a person logs out (Door.OnLogout).
	onLogout []func(http.ResponseWriter, *http.Request)
	// alsoSignOut list the pages a signed-out person may visit to sign out of apps too.
	alsoSignOut []func(ctx context.Context) []Link
	// appNames name the app of a login's return address (Door.AppName).
	appNames []func(ctx context.Context, returnPath string) string
	// names are the attached doors' names by path (Door.Name).
	names map[string]string
}

// Attach routes a door's paths to it and lets logins return to it. Call before serving.
func (s *Server) Attach(d Door) {
	for _, p := range d.Paths {
		s.doors.names[p] = d.Name
		if !s.cfg.ProxyListener || !slices.Contains(d.ProxyOnly, p) {
			s.mux.Handle(p, d.Handler)
			if slices.Contains(d.Bare, p) {
				s.bare[p] = true
			}
		}
	}
	proxy := d.ProxyHandler
	if proxy == nil {
		proxy = d.Handler
	}
	for _, p := range d.ProxyOnly {
		s.proxyMux.Handle(p, proxy)
		if slices.Contains(d.Bare, p) {
			s.proxyBare[p] = true
		}
	}
	ds := s.doors
	for _, p := range d.Returns {
		ds.returns[p] = true
	}
	if d.OnLogout != nil {
		ds.onLogout = append(ds.onLogout, d.OnLogout)
	}
	if d.AlsoSignOut != nil {
		ds.alsoSignOut = append(ds.alsoSignOut, d.AlsoSignOut)
	}
	if d.AppName != nil {
		ds.appNames = append(ds.appNames, d.AppName)
	}
}

// appName is the name of the app a login returns to, as its door tells it ("" for none).
func (s *doorSet) appName(ctx context.Context, ret string) string {
	if ret == "" {
		return ""
	}
	for _, f := range s.appNames {
		if name := f(ctx, ret); name != "" {
			return name
		}
	}
	return ""
}

// safeReturn is raw when it is a registered local path (the one way back after a login),
// else "": no scheme, no host, no "//" or "\", no control characters.
func (s *doorSet) safeReturn(raw string) string {
	u, ok := localpath.Parse(raw, 2048)
	if !ok || u.Fragment != "" {
		return ""
	}
	if u.Path == defaultReturn || u.Path == "/profile" || s.returns[u.Path] {
		return u.RequestURI()
	}
	return ""
}

// The doors' pages (openid.Pages, forwardauth.Pages): what a door shows a person.

// LoginURL is the login page that returns to returnTo after the login.
func (s *Server) LoginURL(returnTo string) string { return loginURL(returnTo) }

// loginURL is the login page that returns to returnTo after the login.
func loginURL(returnTo string) string { return "/login?return=" + url.QueryEscape(returnTo) }

// Message shows the person a page.
func (s *Server) Message(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	s.message(w, r, status, title, text, "")
}

// Confirm shows a page with one button that POSTs, with the CSRF token, to action.
func (s *Server) Confirm(w http.ResponseWriter, r *http.Request, title, text, action, button string, fields map[string]string) {
	sess, r, err := s.session(w, r, true)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "confirm.html", &confirmPage{Head: Head{Title: title, Session: sess}, Text: text, Action: action, Button: button,
		Fields: fields})
}

// confirmPage is confirm.html's data: one button that POSTs, with the CSRF token, to Action.
type confirmPage struct {
	Head
	Text, Action, Button string
	// Fields are the hidden fields the button sends.
	Fields map[string]string
}

// Offer shows a page with a few ways on, each a button that POSTs, with the CSRF token, to its action.
func (s *Server) Offer(w http.ResponseWriter, r *http.Request, status int, title, text string, ways []host.Way) {
	sess, r, err := s.session(w, r, true)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.render(w, status, "message.html", &messagePage{Head: Head{Title: title, Session: sess}, Text: text, Ways: ways})
}

// CheckCSRF reports whether a POST carries the session's CSRF token.
func (s *Server) CheckCSRF(r *http.Request) bool {
	sess, r, err := s.session(nil, r, false)
	return err == nil && checkCSRF(r, sess)
}
