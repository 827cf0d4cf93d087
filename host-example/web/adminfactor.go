package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's other ways in: the TOTP code after the local password, and the sign-in through
// a source of a person whom an admin grant admits (host/sourceadmin.go).

// sourceAdminPath is where a source login returns to become an admin session.
const sourceAdminPath = "/admin/login/source"

const (
	// adminCodeLife is how long the code may take after the right password.
	adminCodeLife = 5 * time.Minute
	// adminCodeAttempts is how many wrong codes one right password allows.
	adminCodeAttempts = 3
	// sourceAdminFreshness is how recent a source login must be to become an admin session.
	sourceAdminFreshness = 5 * time.Minute
)

// adminCodeState is an admin login whose password was right, kept for the browser's session.
type adminCodeState struct {
	Attempts int `json:"attempts"`
	// Epoch is the admin epoch read before the password was checked (host.AdminEpoch).
	Epoch string `json:"epoch"`
}

// signInRoutes mounts the admin's second step and the sign-in through a source.
func (s *adminPages) signInRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /admin/login/code", s.adminCode)
	m.HandleFunc("GET "+sourceAdminPath, s.sourceAdminLogin)
	m.HandleFunc("POST "+sourceAdminPath, s.sourceAdminLogin)
	s.returns[sourceAdminPath] = true
}

// now is the pages' clock (Config.Clock).
func (s *Server) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock()
	}
	return time.Now()
}

// askAdminCode keeps cs for the browser's session and asks for the TOTP code.
func (s *adminPages) askAdminCode(w http.ResponseWriter, r *http.Request, sess *store.Session, cs adminCodeState, errText string, status int) {
	b, _ := json.Marshal(cs)
	if _, err := s.store.PutLoginState(r.Context(), store.LoginState{SessionID: sess.ID, Kind: store.StateAdminCode, State: b,
		ExpiresAt: s.now().Add(adminCodeLife)}); err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.render(w, status, "adminlogin.html", map[string]any{"Session": sess, "Code": true, "Error": errText, "Title": "Admin code",
		"Resume": resumeTarget(r.FormValue("resume")), "Fields": keptFields(r)})
}

// adminCode checks the TOTP code of a login whose password was right: bound to the browser's
// session, counted like wrong passwords, a used code refused.
func (s *adminPages) adminCode(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.sessionEnded(w, r)
		return
	}
	device := s.knownDevice(r)
	done, ok := s.claimAttempt(r, device, false)
	if !ok {
		s.adminLockedOut(w, r)
		return
	}
	defer done(false)
	st, err := s.store.TakeLoginState(r.Context(), sess.ID, store.StateAdminCode)
	if errors.Is(err, store.ErrNotFound) {
		data := s.adminLoginData(r, sess)
		data["Error"] = "This sign-in took too long or was already used. Enter the password again."
		s.render(w, http.StatusBadRequest, "adminlogin.html", data)
		return
	}
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	var cs adminCodeState
	_ = json.Unmarshal(st.State, &cs)
	if epoch, err := host.AdminEpoch(r.Context(), s.store); err != nil {
		dbunavailable.Answer(w)
		return
	} else if epoch != cs.Epoch {
		data := s.adminLoginData(r, sess)
		data["Error"] = "The admin password was reset meanwhile: enter the new password."
		s.render(w, http.StatusUnauthorized, "adminlogin.html", data)
		return
	}
	right, err := host.CheckAdminTOTP(r.Context(), s.store, r.FormValue("code"), s.now())
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	if !right {
		s.adminFailed(w, r, done, device, "wrong or reused TOTP code")
		if cs.Attempts++; cs.Attempts < adminCodeAttempts {
			s.askAdminCode(w, r, sess, cs, "Wrong or already used code. Codes change every 30 seconds: enter the current one.", http.StatusUnauthorized)
			return
		}
		data := s.adminLoginData(r, sess)
		data["Error"] = fmt.Sprintf("%d wrong codes: enter the password again.", adminCodeAttempts)
		s.render(w, http.StatusUnauthorized, "adminlogin.html", data)
		return
	}
	s.adminSignedIn(w, r, device, cs.Epoch)
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
	grants := host.AdminGrants(r.Context(), s.store)
	if sess == nil || sess.UserID == 0 || len(grants) == 0 {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return
	}
	if sess.Admin {
		// An admin session is no sign-in: turning it into a new one would renew it forever.
		s.render(w, http.StatusForbidden, "message.html", map[string]any{"Title": "Already in the admin",
			"Text": "This browser is signed in to the admin already. To sign in through your source again, sign out of the admin first.",
			"Back": "/admin", "BackLabel": "Go to the admin", "Session": sess})
		return
	}
	again := "/login?return=" + sourceAdminPath
	if s.now().Sub(sess.AuthTime) > sourceAdminFreshness {
		s.message(w, r, http.StatusUnauthorized, "Sign in again", "To open the admin, sign in through your source again (an older sign-in is not enough).", again)
		return
	}
	u, err := s.store.User(r.Context(), sess.UserID)
	if err != nil {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return
	}
	src, _ := s.store.Source(r.Context(), u.SourceID)
	name := host.NameOf(u.Username, u.Name)
	grant := host.GrantOf(u, grants)
	if grant == nil || s.sources.Usable(src) == nil {
		_ = s.store.AddEvent(r.Context(), store.Event{SourceID: u.SourceID, Kind: store.EventAdminLoginFailed, Subject: u.Subject, Name: name,
			Detail: fmt.Sprintf("signed in through a source without a group an admin grant names for it; client %s", s.clientIP(r))})
		s.render(w, http.StatusForbidden, "message.html", map[string]any{"Title": "Not an admin",
			"Text": fmt.Sprintf("You are signed in as %s, but your sign-in did not give you a group that lets you open the admin.", name),
			"Back": "/profile", "BackLabel": "Go to your profile", "Session": sess})
		return
	}
	// The way back from the source is a GET another site can send a person to: it only asks;
	// the person's own POST, with the session's CSRF token, opens the admin.
	if r.Method != http.MethodPost {
		s.render(w, http.StatusOK, "confirm.html", map[string]any{"Title": "Open the admin",
			"Text":   fmt.Sprintf("You signed in as %s through %s. Open the admin as %s?", name, src.Name, name),
			"Action": sourceAdminPath, "Button": "Open the admin", "Session": sess})
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
	if err := host.RecordSourceAdminSignIn(r.Context(), s.store, host.SourceAdminSignIn{UserID: u.ID, SourceID: grant.SourceID, Group: grant.Group, Name: name, Source: src.Name,
		At: s.now()}); err != nil {
		s.cfg.Logger.Error("record a source admin's sign-in", "error", err)
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: u.SourceID, Kind: store.EventAdminLogin, Subject: u.Subject, Name: name,
		Detail: fmt.Sprintf("through %s with the admin grant of its group %q; client %s", src.Name, grant.Group, s.clientIP(r))})
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// stillSourceAdmin reports whether an admin session begun through a source is still one: the
// person is not disabled and a current admin grant still admits them.
func (s *adminPages) stillSourceAdmin(r *http.Request, sess *store.Session) bool {
	if sess.UserID == 0 {
		return true
	}
	u, err := s.store.User(r.Context(), sess.UserID)
	return err == nil && host.IsSourceAdmin(u, host.AdminGrants(r.Context(), s.store))
}
