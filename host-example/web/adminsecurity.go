package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// securityPages is the admin's security page: the admin grants of the source admins, the
// local password's TOTP, and turning the local password off or on again. Each change is a
// host.Admin method that asks for the proof of the current admin and records the change.
type securityPages struct{ *adminKit }

// routes mounts the security page behind the admin guard.
func (s *securityPages) routes(m *http.ServeMux) {
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request) error{
		"GET /admin/security":               s.securityPage,
		"POST /admin/security/grants":       s.setGrants,
		"POST /admin/security/totp/begin":   s.beginTOTP,
		"POST /admin/security/totp/confirm": s.confirmTOTP,
		"POST /admin/security/totp/off":     s.totpOff,
		"POST /admin/security/password/off": s.passwordOff,
		"POST /admin/security/password/on":  s.passwordOn,
	} {
		m.HandleFunc(pattern, s.admin(s.handle(h)))
	}
}

const securityPath = "/admin/security"

// securityPage is security.html's data.
type securityPage struct {
	Head
	grantsForm
	Flash, FlashLevel         string
	PasswordOn, Fixed, TOTPOn bool
	MinPassword               int
	LastSourceAdmin           *host.SourceAdminSignIn
	Proof                     *proofForm
	// Pending is this session's TOTP enrolment under way (its secret only when shown);
	// PendingElsewhere when another session's began then.
	Pending          *pendingTOTP
	PendingElsewhere *time.Time
}

// pendingTOTP is an enrolment under way as the page shows it: its secret only in the answer
// that began it (Secret "" otherwise).
type pendingTOTP struct{ Secret, URI, QR string }

func (s *securityPages) securityPage(w http.ResponseWriter, r *http.Request) error {
	flash, level := s.takeFlash(w, r)
	return s.renderSecurity(w, r, http.StatusOK, flash, level)
}

// renderSecurity shows the security page with a flash; a form refused keeps what was typed
// (but passwords).
func (s *securityPages) renderSecurity(w http.ResponseWriter, r *http.Request, status int, flash, level string) error {
	return s.renderSecurityWith(w, r, status, flash, level, false)
}

// renderSecurityWith is renderSecurity that shows the secret of this session's TOTP enrolment
// when showSecret: only in the answer to a request that carried the proof (beginning it, or a
// wrong code at its confirmation), never on a later load of the page, which a copy of the
// session could make to read it.
func (s *securityPages) renderSecurityWith(w http.ResponseWriter, r *http.Request, status int, flash, level string, showSecret bool) error {
	st, err := s.adm.Security(r.Context(), s.now())
	if err != nil {
		return err
	}
	data := &securityPage{Head: Head{Session: sessionOf(r), Title: "Security"}, grantsForm: grantsFormOf(st.Grants), Flash: flash, FlashLevel: level,
		PasswordOn: st.PasswordOn, Fixed: s.cfg.AdminPasswordFixed, TOTPOn: st.TOTPOn, LastSourceAdmin: st.LastSourceAdmin,
		MinPassword: host.MinAdminPassword, Proof: s.proofForm(r)}
	if e := st.Pending; e != nil {
		switch {
		case e.Session == sessionOf(r).ID && showSecret:
			data.Pending = &pendingTOTP{Secret: e.Key.Secret(), URI: e.Key.String(), QR: qrDataURL(e.Key.Image)}
		case e.Session == sessionOf(r).ID:
			data.Pending = &pendingTOTP{} // the secret is not shown again
		default:
			data.PendingElsewhere = &e.Began
		}
	}
	s.render(w, status, "security.html", data)
	return nil
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

// failedChange answers the error of a change: refused for its proof, the page again with
// why (403); any other, the outage (returned). done is false when err is nil.
func (s *securityPages) failedChange(w http.ResponseWriter, r *http.Request, err error) (done bool, answer error) {
	if err == nil {
		return false, nil
	}
	if text, ok := s.proofRefused(w, err); ok {
		return true, s.renderSecurity(w, r, http.StatusForbidden, text, "error")
	}
	return true, err
}

// notDone goes back to the page with why a change was not made.
func (s *securityPages) notDone(w http.ResponseWriter, r *http.Request, text string) error {
	s.redirectFlash(w, r, securityPath, text, "error")
	return nil
}

func (s *securityPages) beginTOTP(w http.ResponseWriter, r *http.Request) error {
	err := s.adm.BeginTOTPProven(r.Context(), s.proofOf(r), s.cfg.SiteName, r.FormValue("replace") == "1")
	var elsewhere *host.EnrolmentElsewhere
	switch {
	case errors.Is(err, host.ErrTOTPNeedsPassword):
		return s.notDone(w, r, "The local password is off: a code is only asked after it.")
	case errors.As(err, &elsewhere):
		return s.notDone(w, r, "Not begun: "+host.ErrTOTPEnrolmentUnderWay.Error()+" (since "+elsewhere.Began.UTC().Format("15:04 UTC")+
			"). Replace it only if that was you, or let it expire.")
	case errors.Is(err, host.ErrTOTPEnrolmentUnderWay), errors.Is(err, host.ErrAdminTOTPOn):
		return s.notDone(w, r, "Not begun: "+err.Error()+".")
	}
	if done, err := s.failedChange(w, r, err); done {
		return err
	}
	return s.renderSecurityWith(w, r, http.StatusOK, "", "", true)
}

// confirmTOTP turns on the enrolment this session began, with a code of its secret and the
// proof again (host.Admin.ConfirmTOTPProven).
func (s *securityPages) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	err := s.adm.ConfirmTOTPProven(r.Context(), s.proofOf(r), r.FormValue("code"))
	switch {
	case errors.Is(err, host.ErrTOTPEnrolmentElsewhere):
		return s.notDone(w, r, "Not turned on: "+err.Error()+".")
	case errors.Is(err, host.ErrEnrolmentCodeWrong):
		return s.renderSecurityWith(w, r, http.StatusUnprocessableEntity,
			"That code is not right: the code is not on yet. Check the time of your phone and enter the current code.", "error", true)
	}
	return s.changed(w, r, err, "The code is on: the admin login asks for it after the password.")
}

// changed answers a change of the admin's ways in made (err nil: back to the page with
// text), refused for its proof, or failed.
func (s *securityPages) changed(w http.ResponseWriter, r *http.Request, err error, text string) error {
	if done, err := s.failedChange(w, r, err); done {
		return err
	}
	s.redirectFlash(w, r, securityPath, text, "info")
	return nil
}

func (s *securityPages) totpOff(w http.ResponseWriter, r *http.Request) error {
	return s.changed(w, r, s.adm.TurnOffTOTPProven(r.Context(), s.proofOf(r)), "The code is off: the password alone signs in.")
}

func (s *securityPages) passwordOff(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.AdminPasswordFixed {
		return s.notDone(w, r, "Not turned off: HOST_ADMIN_PASSWORD sets the password at every start. Remove it from the server's settings first.")
	}
	err := s.adm.TurnOffPasswordProven(r.Context(), s.proofOf(r))
	if errors.Is(err, host.ErrNoSourceAdminYet) || errors.Is(err, host.ErrAdminGroupUnset) || errors.Is(err, host.ErrSourceAdminGone) {
		return s.notDone(w, r, "Not turned off: "+err.Error()+".")
	}
	return s.changed(w, r, err, "The local password is off: the admin login offers only the sign-in through a source. "+
		"Its TOTP code is kept: turning the password on again asks for it. host-example reset-admin-password on the server sets a new password.")
}

func (s *securityPages) passwordOn(w http.ResponseWriter, r *http.Request) error {
	err := s.adm.TurnOnPasswordProven(r.Context(), s.proofOf(r), r.FormValue("password"))
	var rule *host.PasswordRuleError
	switch {
	case errors.Is(err, host.ErrPasswordIsOn):
		s.redirectFlash(w, r, securityPath, "The local password is on already.", "info")
		return nil
	case errors.As(err, &rule):
		return s.notDone(w, r, "Not turned on: "+rule.Error()+".")
	}
	return s.changed(w, r, err, "The local password is on again.")
}
