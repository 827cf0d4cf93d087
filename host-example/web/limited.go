package web

import (
	"net/http"
	"strings"
)

// limited counts a 429 answered to r (Config.Limited) by the door whose path r asked.
func (s *view) limited(r *http.Request) {
	if s.cfg.Limited != nil {
		s.cfg.Limited(s.doors.nameOf(r.URL.Path))
	}
}

// nameOf is the door that serves path: an attached door's Name, else "admin" for the
// admin's pages and "login" for the rest (a person's sign-in pages).
func (ds *doorSet) nameOf(path string) string {
	if n := ds.names[path]; n != "" {
		return n
	}
	if path == "/admin" || strings.HasPrefix(path, "/admin/") {
		return "admin"
	}
	return "login"
}
