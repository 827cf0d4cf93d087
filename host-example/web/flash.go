package web

import (
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"strings"
)

// A flash is a one-time notice shown by the page a POST redirects to ("Saved."). It travels
// in a short-lived cookie, not in the URL: a URL is bookmarked, shared and logged, and a
// notice in it shows again, or can be forged by a link.

const flashCookie = "hx_flash"

// redirectFlash redirects to target after a change, with a notice of level (info, warning, error).
func (s *adminKit) redirectFlash(w http.ResponseWriter, r *http.Request, target, text, level string) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(level + "|" + text))
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: payload + "." + s.keys.MAC("flash", payload)[:32],
		Path: "/admin", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.PublicURL.Scheme == "https"})
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// takeFlash reads and clears the notice, if any.
func (s *adminKit) takeFlash(w http.ResponseWriter, r *http.Request) (text, level string) {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.PublicURL.Scheme == "https"})
	// Signed: a sibling site under a shared cookie domain could set a cookie of this name.
	payload, mac, _ := strings.Cut(c.Value, ".")
	if len(mac) != 32 || !hmac.Equal([]byte(mac), []byte(s.keys.MAC("flash", payload)[:32])) {
		return "", ""
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || len(b) > 2048 {
		return "", ""
	}
	level, text, _ = strings.Cut(string(b), "|")
	switch level {
	case "info", "warning", "error":
	default:
		level = "info"
	}
	return text, level
}
