package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// securityPages is the admin's security page: the admin grants of the source admins, the
// local password's TOTP, and turning the local password off or on again.
type securityPages struct{ *adminPages }

// routes mounts the security page behind the admin guard.
func (s *securityPages) routes(m *http.ServeMux) {
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /admin/security":               s.securityPage,
		"POST /admin/security/grants":       s.setGrants,
		"POST /admin/security/totp/begin":   s.beginTOTP,
		"POST /admin/security/totp/confirm": s.confirmTOTP,
		"POST /admin/security/totp/off":     s.totpOff,
		"POST /admin/security/password/off": s.passwordOff,
		"POST /admin/security/password/on":  s.passwordOn,
	} {
		m.HandleFunc(pattern, s.admin(h))
	}
}

const securityPath = "/admin/security"

func (s *securityPages) securityPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	totpOn, err := host.AdminTOTPOn(ctx, s.store)
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	flash, level := s.takeFlash(w, r)
	data := map[string]any{"Session": sessionOf(r), "Title": "Security", "Flash": flash, "FlashLevel": level,
		"PasswordOn": host.AdminPasswordOn(ctx, s.store), "Fixed": s.cfg.AdminPasswordFixed, "TOTPOn": totpOn,
		"LastSourceAdmin": host.LastSourceAdminSignIn(ctx, s.store), "MinPassword": host.MinAdminPassword}
	if err := s.grantsData(r, data, host.AdminGrants(ctx, s.store)); err != nil {
		dbunavailable.Answer(w)
		return
	}
	if key, err := host.PendingAdminTOTP(ctx, s.store); err == nil && key != nil && !totpOn {
		data["Pending"] = map[string]string{"Secret": key.Secret(), "URI": key.String(), "QR": qrDataURL(key.Image)}
	}
	s.render(w, http.StatusOK, "security.html", data)
}

// qrDataURL is a PNG data: URL of the QR code that image draws, or "" when it fails.
func qrDataURL(image func(w, h int) (image.Image, error)) string {
	img, err := image(200, 200)
	if err != nil {
		return ""
	}
	var b bytes.Buffer
	if png.Encode(&b, img) != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// changed records a change of the admin's security and goes back to the page with text.
func (s *securityPages) changed(w http.ResponseWriter, r *http.Request, detail, text string) {
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminSecurityChanged, Detail: detail + "; client " + s.clientIP(r)})
	s.redirectFlash(w, r, securityPath, text, "info")
}

func (s *securityPages) beginTOTP(w http.ResponseWriter, r *http.Request) {
	if !host.AdminPasswordOn(r.Context(), s.store) {
		s.redirectFlash(w, r, securityPath, "The local password is off: a code is only asked after it.", "error")
		return
	}
	if _, err := host.BeginAdminTOTP(r.Context(), s.store, s.cfg.SiteName); err != nil {
		dbunavailable.Answer(w)
		return
	}
	http.Redirect(w, r, securityPath+"#totp", http.StatusSeeOther)
}

func (s *securityPages) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	ok, err := host.ConfirmAdminTOTP(r.Context(), s.store, r.FormValue("code"), s.now())
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	if !ok {
		s.redirectFlash(w, r, securityPath, "That code is not right: the code is not on yet. Check the time of your phone and enter the current code.", "error")
		return
	}
	s.changed(w, r, "TOTP code turned on", "The code is on: the admin login asks for it after the password.")
}

func (s *securityPages) totpOff(w http.ResponseWriter, r *http.Request) {
	ok, err := host.CheckAdminTOTP(r.Context(), s.store, r.FormValue("code"), s.now())
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	if !ok {
		s.redirectFlash(w, r, securityPath, "That code is not right (or was used already): the code stays on.", "error")
		return
	}
	if err := host.TurnOffAdminTOTP(r.Context(), s.store); err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.changed(w, r, "TOTP code turned off", "The code is off: the password alone signs in.")
}

func (s *securityPages) passwordOff(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AdminPasswordFixed {
		s.redirectFlash(w, r, securityPath, "Not turned off: HOST_ADMIN_PASSWORD sets the password at every start. Remove it from the server's settings first.", "error")
		return
	}
	err := host.TurnOffAdminPassword(r.Context(), s.store, func(in host.SourceAdminSignIn) bool {
		u, err := s.store.User(r.Context(), in.UserID)
		if err != nil {
			return false
		}
		src, err := s.store.Source(r.Context(), u.SourceID)
		return err == nil && s.sources.Usable(src) != nil && host.IsSourceAdmin(u, []host.Grant{in.Grant()})
	})
	if errors.Is(err, host.ErrNoSourceAdminYet) || errors.Is(err, host.ErrAdminGroupUnset) || errors.Is(err, host.ErrSourceAdminGone) {
		s.redirectFlash(w, r, securityPath, "Not turned off: "+err.Error()+".", "error")
		return
	}
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.changed(w, r, "local admin password turned off", "The local password is off: the admin login offers only the sign-in through a source. "+
		"host-example reset-admin-password on the server sets a new one.")
}

func (s *securityPages) passwordOn(w http.ResponseWriter, r *http.Request) {
	if host.AdminPasswordOn(r.Context(), s.store) {
		s.redirectFlash(w, r, securityPath, "The local password is on already.", "info")
		return
	}
	pw := r.FormValue("password")
	if err := host.CheckAdminPasswordRules(pw); err != nil {
		s.redirectFlash(w, r, securityPath, "Not turned on: "+err.Error()+".", "error")
		return
	}
	if err := host.SetAdminPassword(r.Context(), s.store, pw); err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.changed(w, r, "local admin password turned on", "The local password is on again.")
}
