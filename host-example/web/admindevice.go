package web

import (
	"context"
	"crypto/hmac"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Known admin devices (OWASP "device cookies"). Wrong admin passwords from unknown browsers
// share one global bucket, so bcrypt work stays bounded however many addresses guess — and a
// handful of addresses can empty it. A browser that signed in as admin before holds a signed,
// long-lived cookie that exempts it from that bucket: the admin still gets in during such an
// attack. Its per-address limit still applies, and adminDeviceMaxFailures wrong passwords in a
// row sent with one device's cookie lock that device out (a stolen cookie buys few guesses).
// ResetAdminPassword forgets every device.

const (
	adminDeviceLife        = 365 * 24 * time.Hour
	adminDeviceMaxFailures = 10
	maxAdminDeviceCookie   = 200
)

// adminDeviceCookie is the known-device cookie's name: "__Host-" behind https, as the session's.
func (s *adminPages) adminDeviceCookie() string {
	if s.cfg.PublicURL.Scheme == "https" {
		return "__Host-hx_admin_device"
	}
	return "hx_admin_device"
}

// adminDeviceMAC signs a device id and its issue time under the store's MAC key and the
// current device key (replaced by a reset).
func (s *adminPages) adminDeviceMAC(ctx context.Context, payload string) (string, error) {
	key, err := s.store.AdminDeviceKey(ctx)
	if err != nil {
		return "", err
	}
	return s.store.MAC("admin-device|"+key, payload), nil
}

// knownDevice is the id of the request's known admin device: a cookie signed under the
// current key, issued within adminDeviceLife, of a device not locked out; "" otherwise.
func (s *adminPages) knownDevice(r *http.Request) string {
	c, err := r.Cookie(s.adminDeviceCookie())
	if err != nil || len(c.Value) > maxAdminDeviceCookie {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || len(parts[0]) != 32 {
		return ""
	}
	issued, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return ""
	}
	if at := time.Unix(issued, 0); time.Since(at) > adminDeviceLife || time.Until(at) > time.Minute {
		return ""
	}
	mac, err := s.adminDeviceMAC(r.Context(), parts[0]+"."+parts[1])
	if err != nil || !hmac.Equal([]byte(mac), []byte(parts[2])) {
		return ""
	}
	if locked, err := s.store.AdminDeviceLocked(r.Context(), parts[0]); err != nil || locked {
		return ""
	}
	return parts[0]
}

// rememberAdminDevice gives the browser (again) a known-device cookie after an admin sign-in:
// the same device id when it had one, with a new issue time.
func (s *adminPages) rememberAdminDevice(w http.ResponseWriter, r *http.Request, id string) {
	if id == "" {
		id = store.RandomID(16)
	} else {
		_ = s.store.AdminDeviceSucceeded(r.Context(), id)
	}
	payload := id + "." + strconv.FormatInt(time.Now().Unix(), 10)
	mac, err := s.adminDeviceMAC(r.Context(), payload)
	if err != nil {
		s.cfg.Logger.Error("admin device key", "error", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.adminDeviceCookie(), Value: payload + "." + mac, Path: "/", MaxAge: int(adminDeviceLife / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.PublicURL.Scheme == "https"})
}

// adminDeviceFailed counts a wrong password sent with a known device's cookie; the device
// that reaches adminDeviceMaxFailures is locked out and its cookie cleared.
func (s *adminPages) adminDeviceFailed(w http.ResponseWriter, r *http.Request, id string) {
	locked, err := s.store.AdminDeviceFailed(r.Context(), id, adminDeviceMaxFailures, adminDeviceLife)
	if err != nil {
		s.cfg.Logger.Error("count an admin device's failure", "error", err)
		return
	}
	if locked {
		http.SetCookie(w, &http.Cookie{Name: s.adminDeviceCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: s.cfg.PublicURL.Scheme == "https"})
		_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminDeviceLocked,
			Detail: fmt.Sprintf("%d wrong passwords in a row from a browser known from an earlier admin login (client %s)", adminDeviceMaxFailures, s.clientIP(r))})
	}
}

// adminLockedOut answers an admin login refused by the rate limits, naming the recovery.
func (s *adminPages) adminLockedOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "60")
	s.message(w, r, http.StatusTooManyRequests, "Too many failed attempts",
		"Too many wrong admin passwords were tried. Please wait a minute and try again. A browser you signed in to the admin with "+
			"before is not held up by guesses from elsewhere. If you stay locked out, reset the password on the server with "+
			"host-example reset-admin-password: it also ends admin sessions and forgets those browsers, and prints a recovery link "+
			"that gets you in with the new password even while the guessing goes on.", "/admin/login")
}
