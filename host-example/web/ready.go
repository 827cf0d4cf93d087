package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The host answers at once while its plugin processes start. Pages that need a plugin wait
// a little for them (StartWait), then ask the person to try again; /healthz says "not
// ready" until they are up.

// started runs h once the plugins are ready, or answers 503 with a page to retry.
func (s *view) started(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StartWait)
		err := s.plugins.Wait(ctx)
		cancel()
		if err == nil {
			h(w, r)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(5))
		if s.plugins.Err() != nil {
			s.message(w, r, http.StatusServiceUnavailable, "Sign-in is unavailable",
				"The login methods of this site could not start. The administrator can see why in the server's log.", "")
			return
		}
		again := "/login"
		switch {
		case strings.HasPrefix(r.URL.Path, "/admin"):
			again = "/admin"
		case r.Method == http.MethodGet:
			again = (&url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}).String() // never the request's own host
		}
		s.message(w, r, http.StatusServiceUnavailable, "Starting up", "This site is starting. Please try again in a few seconds.", again)
	}
}

// healthz is 200 "ok" once the plugins are up, 503 "not ready" before (or if they failed).
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.plugins.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready"))
		return
	}
	_, _ = w.Write([]byte("ok"))
}
