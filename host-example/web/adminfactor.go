package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's other ways in: the TOTP code after the local password, and the sign-in through
// a source of a person whom an admin grant admits (host/sourceadmin.go).

// sourceAdminPath is where a source login returns to become an admin session.
const sourceAdminPath = "/admin/login/source"

// sourceAdminFreshness is how recent a source login must be to become an admin session.
const sourceAdminFreshness = host.SourceAdminFreshness

// sourceAdminConfirm is confirm.html's data when a sign-in through a source may open the admin.
type sourceAdminConfirm struct {
	Head
	Text, Action, Button string
	Fields               map[string]string
}

// signInRoutes mounts the admin's second step and the sign-in through a source.
func (s *adminPages) signInRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /admin/login/code", s.handle(s.adminCode))
	m.HandleFunc("GET "+sourceAdminPath, s.sourceAdminLogin)
	m.HandleFunc("POST "+sourceAdminPath, s.sourceAdminLogin)
	s.doors.returns[sourceAdminPath] = true
}

// now is the pages' clock (Config.Clock).
func (s *view) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock()
	}
	return time.Now()
}

// askAdminCode asks for the TOTP code of a sign-in whose step the session keeps.
func (s *adminPages) askAdminCode(w http.ResponseWriter, r *http.Request, sess *store.Session, errText string, status int) {
	s.render(w, status, "adminlogin.html", &adminLoginPage{Head: Head{Session: sess, Title: "Admin code"}, Code: true, Error: errText,
		Resume: resumeTarget(r.FormValue("resume")), Fields: keptFields(r)})
}

// adminCode checks the TOTP code of a login whose password was right
// (host.Admin.CheckCodeSignIn: bound to the browser's session, counted like wrong passwords,
// a used code refused).
func (s *adminPages) adminCode(w http.ResponseWriter, r *http.Request) error {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.sessionEnded(w, r)
		return nil
	}
	device := s.knownDevice(r)
	in, err := s.adm.CheckCodeSignIn(r.Context(), host.CodeSignIn{Attempt: s.attempt(r, device), SessionID: sess.ID, Code: r.FormValue("code"), Now: s.now()})
	s.deviceLocked(w, in.Failed)
	again := func(status int, text string) error {
		data := s.adminLoginData(r, sess)
		data.Error = text
		s.render(w, status, "adminlogin.html", data)
		return nil
	}
	switch {
	case errors.Is(err, host.ErrAdminLockedOut):
		s.adminLockedOut(w, r)
		return nil
	case errors.Is(err, host.ErrCodeStepGone):
		return again(http.StatusBadRequest, "This sign-in took too long or was already used. Enter the password again.")
	case errors.Is(err, host.ErrAdminReset):
		return again(http.StatusUnauthorized, "The admin password was reset meanwhile: enter the new password.")
	case errors.Is(err, host.ErrWrongCode):
		s.askAdminCode(w, r, sess, "Wrong or already used code. Codes change every 30 seconds: enter the current one.", http.StatusUnauthorized)
		return nil
	case errors.Is(err, host.ErrTooManyCodes):
		return again(http.StatusUnauthorized, fmt.Sprintf("%d wrong codes: enter the password again.", host.AdminCodeAttempts))
	case err != nil:
		return err
	}
	return s.adminSignedIn(w, r, device, in.Epoch, "/admin")
}

// sourceAdminLogin makes the session of a person who just signed in through a source an
// admin session, when an admin grant names that source and a group its mapping gave them;
// the admin session keeps the sign-in's time and ends a fixed time after it.
func (s *adminPages) sourceAdminLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, false)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	if sess == nil || sess.UserID == 0 || len(s.adm.Grants(r.Context())) == 0 {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return
	}
	if sess.Admin {
		// An admin session is no sign-in: turning it into a new one would renew it forever.
		s.render(w, http.StatusForbidden, "message.html", &messagePage{Head: Head{Title: "Already in the admin", Session: sess},
			Text: "This browser is signed in to the admin already. To sign in through your source again, sign out of the admin first.",
			Back: "/admin", BackLabel: "Go to the admin"})
		return
	}
	again := "/login?return=" + sourceAdminPath
	if s.now().Sub(sess.AuthTime) > sourceAdminFreshness {
		s.message(w, r, http.StatusUnauthorized, "Sign in again", "To open the admin, sign in through your source again (an older sign-in is not enough).", again)
		return
	}
	in, err := s.adm.SourceAdmin(r.Context(), sess.UserID, sess.AuthTime, s.clientIP(r))
	if errors.Is(err, host.ErrNotSourceAdmin) {
		s.render(w, http.StatusForbidden, "message.html", &messagePage{Head: Head{Title: "Not an admin", Session: sess},
			Text: fmt.Sprintf("You are signed in as %s, but your sign-in did not give you a group that lets you open the admin.", in.Name),
			Back: "/profile", BackLabel: "Go to your profile"})
		return
	}
	if err != nil {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return
	}
	// The way back from the source is a GET another site can send a person to: it only asks;
	// the person's own POST, with the session's CSRF token, opens the admin.
	if r.Method != http.MethodPost {
		s.render(w, http.StatusOK, "confirm.html", &sourceAdminConfirm{Head: Head{Title: "Open the admin", Session: sess},
			Text:   fmt.Sprintf("You signed in as %s through %s. Open the admin as %s?", in.Name, in.Source.Name, in.Name),
			Action: sourceAdminPath, Button: "Open the admin"})
		return
	}
	if !checkCSRF(r, sess) {
		s.sessionEnded(w, r)
		return
	}
	// The admin session stands on the source sign-in: it ends SessionLifetime after it. It
	// replaces the person's session only while that lives, in one transaction (review D: one
	// made beside a "Sign out everywhere" outlived it).
	if _, r, err = s.upgradeSession(w, r, sess, s.cfg.SessionLifetime); errors.Is(err, store.ErrAccessEnded) {
		s.message(w, r, http.StatusUnauthorized, "Sign in again", "Your sign-in ended meanwhile. To open the admin, sign in through your source again.",
			"/login?return="+sourceAdminPath)
		return
	} else if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	if err := s.adm.SourceAdminSignedIn(r.Context(), in, s.clientIP(r), s.now()); err != nil {
		s.cfg.Logger.Error("record a source admin's sign-in", "error", err)
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// stillSourceAdmin reports whether an admin session begun through a source is still one: the
// person is not disabled and a current admin grant still admits them.
func (s *adminKit) stillSourceAdmin(r *http.Request, sess *store.Session) bool {
	return s.adm.StillSourceAdmin(r.Context(), sess.UserID)
}
