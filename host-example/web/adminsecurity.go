package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"time"

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
	flash, level := s.takeFlash(w, r)
	s.renderSecurity(w, r, http.StatusOK, flash, level)
}

// renderSecurity shows the security page with a flash; a form refused keeps what was typed
// (but passwords).
func (s *securityPages) renderSecurity(w http.ResponseWriter, r *http.Request, status int, flash, level string) {
	s.renderSecurityWith(w, r, status, flash, level, false)
}

// renderSecurityWith is renderSecurity that shows the secret of this session's TOTP enrolment
// when showSecret: only in the answer to a request that carried the proof (beginning it, or a
// wrong code at its confirmation), never on a later load of the page, which a copy of the
// session could make to read it.
func (s *securityPages) renderSecurityWith(w http.ResponseWriter, r *http.Request, status int, flash, level string, showSecret bool) {
	ctx := r.Context()
	totpOn, err := host.AdminTOTPOn(ctx, s.store)
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	data := map[string]any{"Session": sessionOf(r), "Title": "Security", "Flash": flash, "FlashLevel": level,
		"PasswordOn": host.AdminPasswordOn(ctx, s.store), "Fixed": s.cfg.AdminPasswordFixed, "TOTPOn": totpOn,
		"LastSourceAdmin": host.LastSourceAdminSignIn(ctx, s.store), "MinPassword": host.MinAdminPassword, "Proof": s.proofForm(r)}
	if err := s.grantsData(r, data, host.AdminGrants(ctx, s.store)); err != nil {
		dbunavailable.Answer(w)
		return
	}
	if e, err := host.PendingAdminTOTP(ctx, s.store, s.now()); err == nil && e != nil && !totpOn {
		switch {
		case e.Session == sessionOf(r).ID && showSecret:
			data["Pending"] = map[string]string{"Secret": e.Key.Secret(), "URI": e.Key.String(), "QR": qrDataURL(e.Key.Image)}
		case e.Session == sessionOf(r).ID:
			data["Pending"] = map[string]string{"Here": "1"} // the secret is not shown again
		default:
			data["PendingElsewhere"] = e.Began
		}
	}
	s.render(w, status, "security.html", data)
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

// proven checks the proof a change of the admin's ways in asks for (freshProof) and the
// state before it; false when it answered (the page again, with why).
func (s *securityPages) proven(w http.ResponseWriter, r *http.Request) (how string, before host.AdminWaysIn, ok bool) {
	before, err := host.AdminWaysInNow(r.Context(), s.store)
	if err == nil {
		how, err = s.freshProof(w, r)
	}
	if text, refused := isProofRefusal(err); refused {
		s.renderSecurity(w, r, http.StatusForbidden, text, "error")
		return "", before, false
	}
	if err != nil {
		dbunavailable.Answer(w)
		return "", before, false
	}
	return how, before, true
}

// changed records a change of the admin's ways in (what, the state before and after, the
// proof, who and from where) and goes back to the page with text.
func (s *securityPages) changed(w http.ResponseWriter, r *http.Request, before host.AdminWaysIn, how, what, text string) {
	s.recordChange(r, before, how, what)
	s.redirectFlash(w, r, securityPath, text, "info")
}

// recordChange records a change of the admin's ways in: what, the state before and after,
// the proof, who and from where (the admin home shows it for a day).
func (s *securityPages) recordChange(r *http.Request, before host.AdminWaysIn, how, what string) {
	after, err := host.AdminWaysInNow(r.Context(), s.store)
	state := "after: unknown (" + fmt.Sprint(err) + ")"
	if err == nil {
		state = "after: " + after.String()
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminSecurityChanged, Detail: fmt.Sprintf("%s; before: %s; %s; proof: %s; %s; client %s",
		what, before, state, how, s.actor(r), s.clientIP(r))})
}

func (s *securityPages) beginTOTP(w http.ResponseWriter, r *http.Request) {
	if !host.AdminPasswordOn(r.Context(), s.store) {
		s.redirectFlash(w, r, securityPath, "The local password is off: a code is only asked after it.", "error")
		return
	}
	if on, err := host.AdminTOTPOn(r.Context(), s.store); err != nil {
		dbunavailable.Answer(w)
		return
	} else if on {
		s.redirectFlash(w, r, securityPath, "Not begun: "+host.ErrAdminTOTPOn.Error()+".", "error")
		return
	}
	if e, err := host.PendingAdminTOTP(r.Context(), s.store, s.now()); err == nil && e != nil && e.Session != sessionOf(r).ID && r.FormValue("replace") != "1" {
		s.redirectFlash(w, r, securityPath, "Not begun: "+host.ErrTOTPEnrolmentUnderWay.Error()+" (since "+e.Began.UTC().Format("15:04 UTC")+
			"). Replace it only if that was you, or let it expire.", "error")
		return
	}
	how, before, ok := s.proven(w, r)
	if !ok {
		return
	}
	_, replaced, err := host.BeginAdminTOTP(r.Context(), s.store, s.cfg.SiteName, sessionOf(r).ID, s.now(), r.FormValue("replace") == "1")
	switch {
	case errors.Is(err, host.ErrTOTPEnrolmentUnderWay), errors.Is(err, host.ErrAdminTOTPOn):
		s.redirectFlash(w, r, securityPath, "Not begun: "+err.Error()+".", "error")
		return
	case err != nil:
		dbunavailable.Answer(w)
		return
	}
	what := "TOTP enrolment begun"
	if replaced != nil {
		what += ", replacing the enrolment another admin session began at " + replaced.Began.UTC().Format(time.RFC3339)
	}
	s.recordChange(r, before, how, what)
	s.renderSecurityWith(w, r, http.StatusOK, "", "", true)
}

// confirmTOTP turns on the enrolment this session began, with a code of its secret and the
// proof again (the password, as the code is not on yet): the proof given at the beginning
// does not cover whoever holds the session later, and the code would prove every change after.
func (s *securityPages) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	how, before, ok := s.proven(w, r)
	if !ok {
		return
	}
	ok, err := host.ConfirmAdminTOTP(r.Context(), s.store, sessionOf(r).ID, r.FormValue("code"), s.now())
	if errors.Is(err, host.ErrTOTPEnrolmentElsewhere) {
		s.redirectFlash(w, r, securityPath, "Not turned on: "+err.Error()+".", "error")
		return
	}
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	if !ok {
		s.renderSecurityWith(w, r, http.StatusUnprocessableEntity, "That code is not right: the code is not on yet. Check the time of your phone and enter the current code.", "error", true)
		return
	}
	s.changed(w, r, before, how+", with a code of the new secret of the enrolment begun in this session", "TOTP code turned on",
		"The code is on: the admin login asks for it after the password.")
}

func (s *securityPages) totpOff(w http.ResponseWriter, r *http.Request) {
	how, before, ok := s.proven(w, r)
	if !ok {
		return
	}
	if err := host.TurnOffAdminTOTP(r.Context(), s.store); err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.changed(w, r, before, how, "TOTP code turned off", "The code is off: the password alone signs in.")
}

func (s *securityPages) passwordOff(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AdminPasswordFixed {
		s.redirectFlash(w, r, securityPath, "Not turned off: HOST_ADMIN_PASSWORD sets the password at every start. Remove it from the server's settings first.", "error")
		return
	}
	how, before, ok := s.proven(w, r)
	if !ok {
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
	s.changed(w, r, before, how, "local admin password turned off", "The local password is off: the admin login offers only the sign-in through a source. "+
		"Its TOTP code is kept: turning the password on again asks for it. host-example reset-admin-password on the server sets a new password.")
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
	how, before, ok := s.proven(w, r)
	if !ok {
		return
	}
	if err := host.SetAdminPassword(r.Context(), s.store, pw); err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.changed(w, r, before, how, "local admin password turned on", "The local password is on again.")
}
