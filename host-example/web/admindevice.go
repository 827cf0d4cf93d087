package web

import (
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// Known admin devices (host/adminattempt.go): a browser that signed in as admin before holds
// a signed, long-lived cookie that exempts it from the bucket of wrong admin passwords shared
// by unknown browsers; host.Admin signs and checks it, and counts its failures.

// adminDeviceCookie is the known-device cookie's name: "__Host-" behind https, as the session's.
func (s *adminKit) adminDeviceCookie() string {
	if s.cfg.PublicURL.Scheme == "https" {
		return "__Host-hx_admin_device"
	}
	return "hx_admin_device"
}

// knownDevice is the id of the request's known admin device ("": none, or not valid).
func (s *adminKit) knownDevice(r *http.Request) string {
	c, err := r.Cookie(s.adminDeviceCookie())
	if err != nil {
		return ""
	}
	return s.adm.KnownDevice(r.Context(), c.Value)
}

// rememberAdminDevice gives the browser (again) a known-device cookie after an admin sign-in:
// the same device id when it had one, with a new issue time.
func (s *adminKit) rememberAdminDevice(w http.ResponseWriter, r *http.Request, id string) {
	v, err := s.adm.RememberDevice(r.Context(), id)
	if err != nil {
		s.cfg.Logger.Error("admin device key", "error", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.adminDeviceCookie(), Value: v, Path: "/", MaxAge: int(host.AdminDeviceLife / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.PublicURL.Scheme == "https"})
}

// deviceLocked clears the known-device cookie of a browser whose wrong guess locked its
// device out.
func (s *adminKit) deviceLocked(w http.ResponseWriter, f host.Failed) {
	if !f.DeviceLocked {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.adminDeviceCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.PublicURL.Scheme == "https"})
}

// adminLockedOut answers an admin login refused by the rate limits, naming the recovery.
func (s *adminKit) adminLockedOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "60")
	s.message(w, r, http.StatusTooManyRequests, "Too many failed attempts",
		"Too many wrong admin passwords were tried. Please wait a minute and try again. A browser you signed in to the admin with "+
			"before is not held up by guesses from elsewhere. If you stay locked out, reset the password on the server with "+
			"host-example reset-admin-password: it also ends admin sessions and forgets those browsers, and prints a recovery link "+
			"that gets you in with the new password even while the guessing goes on.", "/admin/login")
}
