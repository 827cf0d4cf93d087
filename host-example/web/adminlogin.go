package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// adminKit is what every admin page shares beside the view: the admin guard, the proof a
// change asks for, and the notice a change leaves.
type adminKit struct {
	*view
	adm *host.Admin
	// doors lets the sign-in through a source return to the admin.
	doors *doorSet
}

// adminPages are the admin's own pages: the first-start setup link, the admin sign-in and
// its second step, and the admin home.
type adminPages struct {
	*adminKit
	sources *host.Sources
	events  *host.Events
	people  *host.People
	// firstRun is the first-run guide the setup link leads to.
	firstRun *host.FirstRun
}

// adminGroups are the other admin page groups, one file or two per area.
type adminGroups struct {
	sources  *sourcePages
	clients  *clientPages
	rules    *rulePages
	people   *peoplePages
	security *securityPages
}

// sourcePages are the admin pages of sources: settings, actions, the mapping preview and
// the dry run.
type sourcePages struct {
	*adminKit
	sources *host.Sources
	actions *host.Actions
	people  *host.People
}

// clientPages are the admin pages of OpenID Connect applications.
type clientPages struct {
	*adminKit
	clients *openid.Clients
	// portal keeps the apps' icons.
	portal *host.Portal
}

// rulePages are the admin pages of the apps forward-auth protects.
type rulePages struct {
	*adminKit
	rules *forwardauth.RuleAdmin
	// sources name the credential kinds a rule may hand over.
	sources *host.Sources
	// portal keeps the apps' icons.
	portal *host.Portal
}

// peoplePages are the admin pages of the people who logged in and of what happened.
type peoplePages struct {
	*adminKit
	people  *host.People
	events  *host.Events
	sources *host.Sources
}

// routes mounts the admin UI; every page but the way in is behind the admin guard.
func (s *adminPages) routes(m *http.ServeMux, g adminGroups) {
	m.HandleFunc("GET /setup", s.showSetup)
	m.HandleFunc("POST /setup", s.handle(s.setup))
	m.HandleFunc("GET /admin/login", s.showAdminLogin)
	m.HandleFunc("POST /admin/login", s.handle(s.adminLogin))
	s.signInRoutes(m)
	g.security.routes(m)
	src, apps, rules, people := g.sources, g.clients, g.rules, g.people
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /admin":                                s.handle(s.adminHome),
		"GET /admin/sources/new":                    s.handle(src.newSourcePage),
		"POST /admin/sources":                       s.handle(src.createSource),
		"GET /admin/sources/{id}":                   s.handle(src.editSource),
		"POST /admin/sources/{id}":                  s.handle(src.saveSource),
		"POST /admin/sources/{id}/enabled":          s.handle(src.setEnabled),
		"POST /admin/sources/{id}/discard":          s.handle(src.discardDraft),
		"POST /admin/sources/{id}/actions/{action}": s.handle(src.runAction),
		"GET /admin/actions/callback":               s.handle(src.actionCallback),
		"POST /admin/sources/{id}/choices":          s.handle(src.applyChoices),
		"POST /admin/sources/{id}/preview":          s.handle(src.preview),
		"POST /admin/sources/{id}/dryrun":           s.handle(src.dryRun),
		"GET /admin/sources/{id}/dryrun":            s.handle(src.dryRunForm),
		"GET /admin/users":                          s.handle(people.usersPage),
		"POST /admin/users/{id}/disabled":           s.handle(people.setUserDisabled),
		"POST /admin/users/link":                    s.handle(people.linkPeople),
		"GET /admin/events":                         s.handle(people.eventsPage),
		"GET /admin/clients":                        s.handle(apps.clientsPage),
		"GET /admin/clients/new":                    s.handle(apps.newClientPage),
		"POST /admin/clients":                       s.handle(apps.createClient),
		"GET /admin/clients/{id}":                   s.handle(apps.editClientPage),
		"POST /admin/clients/{id}":                  s.handle(apps.saveClient),
		"POST /admin/clients/{id}/delete":           s.handle(apps.deleteClient),
		"GET /admin/forward-auth":                   s.handle(rules.rulesPage),
		"GET /admin/actions/callback/{state}":       s.handle(src.actionCallback),
		"GET /admin/forward-auth/new":               rules.newRulePage,
		"POST /admin/forward-auth":                  s.handle(rules.saveRule),
		"GET /admin/forward-auth/{id}":              s.handle(rules.editRulePage),
		"POST /admin/forward-auth/{id}":             s.handle(rules.saveRule),
		"POST /admin/forward-auth/{id}/delete":      s.handle(rules.deleteRule),
	} {
		m.HandleFunc(pattern, s.admin(h))
	}
	for pattern, h := range overviewRoutes(s, src, people) {
		m.HandleFunc(pattern, s.admin(h))
	}
	for pattern, h := range firstRunRoutes(s) {
		m.HandleFunc(pattern, s.admin(h))
	}
}

// setupPage is setup.html's data.
type setupPage struct {
	Head
	Token, Error string
}

// adminLoginPage is adminlogin.html's data: the password form (or the code form), and the
// sign-in through a source.
type adminLoginPage struct {
	Head
	Info, Error string
	// Code asks for the TOTP code instead of the password.
	Code bool
	// Resume is the action of a kept form and Fields its fields (resume.go).
	Resume string
	Fields []resumeField
	// Recovery is the recovery link's token the form carries on.
	Recovery                 string
	PasswordOn, SourceAdmins bool
	SourceLogin              string
}

// resumePage is resume.html's data: a kept form to send again, after a sign-in or with the
// proof a change asks for (Why, Error and Proof).
type resumePage struct {
	Head
	Action     string
	Fields     []resumeField
	Why, Error string
	Proof      *proofForm
}

func (s *adminPages) showSetup(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	tok := r.URL.Query().Get("token")
	if !s.adm.SetupTokenValid(r.Context(), tok) {
		s.message(w, r, http.StatusForbidden, "Setup link not valid",
			"This setup link is not valid: it expired, was already used, or an admin password is set. Restart the server for a new link, or set HOST_ADMIN_PASSWORD.", "")
		return
	}
	s.render(w, http.StatusOK, "setup.html", &setupPage{Head: Head{Session: sess}, Token: tok})
}

func (s *adminPages) setup(w http.ResponseWriter, r *http.Request) error {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		http.Error(w, "bad CSRF token", http.StatusForbidden)
		return nil
	}
	again := func(text string) {
		s.render(w, http.StatusBadRequest, "setup.html", &setupPage{Head: Head{Session: sess}, Token: r.FormValue("token"), Error: text})
	}
	epoch, err := s.adm.Epoch(r.Context()) // read before the password, as a sign-in reads it
	if err != nil {
		return err
	}
	switch err := s.adm.Setup(r.Context(), r.FormValue("token"), r.FormValue("password"), r.FormValue("confirm")); {
	case errors.Is(err, host.ErrSetupLinkInvalid):
		s.message(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is not valid: it expired, was already used, or an admin password is set.", "")
		return nil
	case errors.Is(err, host.ErrPasswordsDiffer):
		again("The two passwords differ: type the same password twice.")
		return nil
	case errors.Is(err, host.ErrPasswordTooShort):
		again(fmt.Sprintf("Choose a password of at least %d characters.", host.MinAdminPassword))
		return nil
	case errors.As(err, new(*host.PasswordRuleError)):
		again("Choose a shorter password: " + err.Error() + ".")
		return nil
	case err != nil:
		return err
	}
	r.Form.Set("resume", "") // a setup link keeps no form to send again
	return s.adminSignedIn(w, r, "", epoch, firstRunPath)
}

func (s *adminPages) showAdminLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	data := s.adminLoginData(r, sess)
	if r.URL.Query().Get("signed_out") != "" {
		data.Info = "You are signed out of the admin."
	}
	if tok := r.URL.Query().Get("recovery"); tok != "" {
		if !s.adm.RecoveryValid(r.Context(), tok, s.now()) {
			s.message(w, r, http.StatusForbidden, "Recovery link not valid", "This recovery link is not valid: it expired (after an hour), "+
				"was used already, or a newer reset replaced it. Run host-example reset-admin-password again for a new one.", "/admin/login")
			return
		}
		data.Recovery = tok
		w.Header().Set("Referrer-Policy", "no-referrer") // the token is in this page's address
		data.Info = "Recovery link: enter the new admin password. This browser is not held up by wrong passwords tried elsewhere, " +
			"and becomes a known admin browser once the password is accepted."
	}
	s.render(w, http.StatusOK, "adminlogin.html", data)
}

// adminLoginData is what the admin login page shows: the password form while the local
// password is on, and the sign-in through a source while an admin grant is set.
func (s *adminKit) adminLoginData(r *http.Request, sess *store.Session) *adminLoginPage {
	offer := s.adm.SignInOffer(r.Context())
	return &adminLoginPage{Head: Head{Session: sess}, PasswordOn: offer.Password, SourceAdmins: offer.Source,
		SourceLogin: loginURL(sourceAdminPath)}
}

// attempt is who guesses an admin secret in r, from the known admin device device ("": none).
func (s *adminKit) attempt(r *http.Request, device string) host.Attempt {
	return host.Attempt{Client: s.clientKey(r), ClientIP: s.clientIP(r), Device: device}
}

// adminLogin checks the admin password (host.Admin.CheckPasswordSignIn: only failures count,
// per client, and across all clients unless the browser is a known admin device). With a
// TOTP, a right password leads to the code (adminCode) instead of the admin.
func (s *adminPages) adminLogin(w http.ResponseWriter, r *http.Request) error {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.sessionEnded(w, r) // an old login page: ask again, keeping what it carried
		return nil
	}
	device := s.knownDevice(r)
	in, err := s.adm.CheckPasswordSignIn(r.Context(), host.PasswordSignIn{Attempt: s.attempt(r, device), SessionID: sess.ID,
		Password: r.FormValue("password"), RecoveryToken: r.FormValue("recovery"), Now: s.now()})
	s.deviceLocked(w, in.Failed)
	switch {
	case errors.Is(err, host.ErrAdminLockedOut):
		s.adminLockedOut(w, r)
		return nil
	case errors.Is(err, host.ErrWrongPassword):
		data := s.adminLoginData(r, sess)
		data.Error, data.Resume, data.Fields, data.Recovery = "Wrong password.", resumeTarget(r.FormValue("resume")), keptFields(r), in.Recovery
		if !data.PasswordOn {
			data.Error = "The admin password is turned off: sign in through a source."
		}
		s.render(w, http.StatusUnauthorized, "adminlogin.html", data)
		return nil
	case err != nil:
		return err
	}
	if in.Code {
		if in.RememberDevice {
			s.rememberAdminDevice(w, r, "") // known once the password is accepted: the code step is exempt too
		}
		s.askAdminCode(w, r, sess, "", http.StatusOK)
		return nil
	}
	return s.adminSignedIn(w, r, device, in.Epoch, "/admin")
}

// adminSignedIn starts the admin session after the password (and code), or the setup link's
// first password, unless the admin password was reset since epoch was read; it records the
// sign-in and goes to next or offers to send the changes the ended session kept.
func (s *adminPages) adminSignedIn(w http.ResponseWriter, r *http.Request, device, epoch, next string) error {
	newSess, r, err := s.newSession(w, r, 0, true, s.cfg.SessionLifetime)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return nil
	}
	s.rememberAdminDevice(w, r, device)
	if err := s.adm.SessionOpened(r.Context(), newSess.ID, epoch, s.clientIP(r)); errors.Is(err, host.ErrAdminReset) {
		s.message(w, r, http.StatusUnauthorized, "Sign in again", "The admin password was reset while you signed in: sign in with the new one.", "/admin/login")
		return nil
	} else if err != nil {
		return err
	}
	if target := resumeTarget(r.FormValue("resume")); target != "" {
		s.render(w, http.StatusOK, "resume.html", &resumePage{Head: Head{Session: newSess, Title: "Send your changes again?"}, Action: target, Fields: keptFields(r)})
		return nil
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
