package forwardauth

import (
	"net/http"
	"slices"
)

// Who asks each path of the service. This is the one classification: the web package routes
// ProxyOnlyPaths to the forward-auth listener (and answers 404 for them on the public one
// when that listener is set), the documented closing block of docs/forward-auth.md lets only
// PublicPaths through host-example's public server block, and the paths that release a
// credential answer 404 on the public listener for a request whose Host is the public host,
// with or without a forward-auth listener.

// PublicPaths are the paths a browser is sent to on the public URL: the login for an app
// (StartPath), the sign-out link apps show (LogoutPath) and the hand-over's code
// (HandoverCodePath, which releases a code only to an app origin's bridge).
var PublicPaths = []string{StartPath, LogoutPath, HandoverCodePath}

// ProxyOnlyPaths are the paths only a reverse proxy asks, on host-example's internal address:
// the decisions (nginx, Traefik, Caddy), the 403 page nginx fetches for an app's origin, and
// the hand-over bridge the proxy serves on an app's origin. They read headers that only the
// proxy may set, so the public host must never answer them.
var ProxyOnlyPaths = []string{NginxPath, TraefikPath, CaddyPath, DeniedPath, HandoverNginxPath, HandoverProxyPath}

// DecisionPaths are the proxies' decision endpoints. Their answers are no page: a bodiless 200,
// 401, 302 or 403 but for the errors and the denied page, which set their own security headers
// (the host adds no page headers to these paths: a smaller header map to copy per answer).
var DecisionPaths = []string{NginxPath, TraefikPath, CaddyPath}

// releasing are the proxy-only paths that release a credential: refused on the public host
// even when no listener of their own keeps them off it.
var releasing = []string{HandoverNginxPath, HandoverProxyPath}

// onPublicHost reports whether a request came through host-example's public site: its Host
// names the public URL's host (by name: a client writes the port in Host, and nginx and Caddy
// choose the site by name). A proxy asks the proxy-only paths with another Host: nginx's
// proxy_pass with its upstream's address, Caddy and Traefik with the app's host.
func (s *Service) onPublicHost(r *http.Request) bool {
	return hostName(NormalizeHost(r.Host)) == hostName(NormalizeHost(s.o.PublicURL.Host))
}

// ProxyHandler serves the service's paths on a listener only the proxy reaches
// (-forward-auth-listen): no request there comes through the public site, so none is refused
// for its Host (an internal name may be the public one, split-horizon DNS). The web package
// routes only ProxyOnlyPaths to it.
func (s *Service) ProxyHandler() http.Handler { return s.mux }

// refusedOnPublicHost reports whether r asks a path that releases a credential on the public
// host, and answers 404 then, as if the path did not exist: a client there writes every header
// the path reads (X-Original-*, X-Forwarded-Host), so only the proxy may ask it.
func (s *Service) refusedOnPublicHost(w http.ResponseWriter, r *http.Request) bool {
	if !slices.Contains(releasing, r.URL.Path) || !s.onPublicHost(r) {
		return false
	}
	s.o.Audit.Info("forward_auth_public_host", "forward-auth: a credential path asked on the public host refused (only the proxy may ask it)",
		"path", r.URL.Path, "client", s.o.Pages.ClientKey(r))
	http.NotFound(w, r)
	return true
}
