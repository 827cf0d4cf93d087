package plexsim

import (
	"net/http"
	"strings"
)

// corsHeaders is what a browser app may send to plex.tv and to a PMS: Accept, Content-Type
// and the X-Plex-* identification headers (plex-api.md §1.2).
var corsHeaders = []string{"Accept", "Accept-Language", "Content-Type", "X-Plex-Token", "X-Plex-Client-Identifier",
	"X-Plex-Product", "X-Plex-Version", "X-Plex-Platform", "X-Plex-Platform-Version", "X-Plex-Device",
	"X-Plex-Device-Name", "X-Plex-Device-Vendor", "X-Plex-Device-Screen-Resolution", "X-Plex-Model",
	"X-Plex-Marketplace", "X-Plex-Language", "X-Plex-Provides", "X-Plex-Features", "X-Plex-Sync-Version"}

// corsPaths are the paths answered to browsers of any origin: plex.tv's API and the PMSs.
var corsPaths = []string{"/api/", "/users/", PMSPrefix}

// withCORS lets browser apps of any origin (app.plex.tv, a Plex Web behind a proxy) call
// the API and the simulated servers: no cookies are involved, the token travels in
// X-Plex-Token, so "*" is enough; a preflight is answered here with 204.
func withCORS(next http.Handler) http.Handler {
	allowed := strings.Join(corsHeaders, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isCORSPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", allowed+extraPlexHeaders(r.Header.Get("Access-Control-Request-Headers")))
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isCORSPath(p string) bool {
	for _, prefix := range corsPaths {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// extraPlexHeaders is ", "-prefixed X-Plex-* headers a preflight asks for beyond corsHeaders.
func extraPlexHeaders(requested string) string {
	var out strings.Builder
	for _, h := range strings.Split(requested, ",") {
		h = strings.TrimSpace(h)
		if !strings.HasPrefix(strings.ToLower(h), "x-plex-") || strings.Trim(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			continue
		}
		known := false
		for _, k := range corsHeaders {
			known = known || strings.EqualFold(k, h)
		}
		if !known {
			out.WriteString(", " + h)
		}
	}
	return out.String()
}
