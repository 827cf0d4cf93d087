package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// adminPages are the admin UI: the first-start setup link, the admin login, and the pages of
// sources, applications, protected apps, users and events (one file per area).
type adminPages struct {
	*Server
}

// newAdminPages returns the admin UI of s.
func newAdminPages(s *Server) *adminPages {
	return &adminPages{Server: s}
}

// sourcePages are the admin pages of sources: settings, actions, the mapping preview and
// the dry run.
type sourcePages struct{ *adminPages }

// clientPages are the admin pages of OpenID Connect applications.
type clientPages struct{ *adminPages }

// rulePages are the admin pages of the apps forward-auth protects.
type rulePages struct{ *adminPages }

// peoplePages are the admin pages of the people who logged in and of what happened.
type peoplePages struct{ *adminPages }

// routes mounts the admin UI; every page but the way in is behind the admin guard.
func (s *adminPages) routes(m *http.ServeMux) {
	m.HandleFunc("GET /setup", s.setupPage)
	m.HandleFunc("POST /setup", s.setup)
	m.HandleFunc("GET /admin/login", s.adminLoginPage)
	m.HandleFunc("POST /admin/login", s.adminLogin)
	s.signInRoutes(m)
	(&securityPages{s}).routes(m)
	src, apps, rules, people := &sourcePages{s}, &clientPages{s}, &rulePages{s}, &peoplePages{s}
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
}

// Admin password guessing: failures only count, per client and, from browsers not known
// from an earlier admin login (admindevice.go), across all clients. The counters are in the
// database (store.ClaimGuess), so every replica counts the same guesses.
const (
	adminFailuresPerClient = 5
	adminFailuresWindow    = 5 * time.Minute
	adminFailuresAll       = 20
	adminFailuresAllWindow = 3 * time.Minute
	// adminAllKey is the counter across all clients: wrong admin passwords and codes of
	// unknown browsers, at the login and as the proof of a change (adminproof.go).
	adminAllKey = "admin/all"
)

func (s *adminPages) setupPage(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	tok := r.URL.Query().Get("token")
	if !host.SetupTokenValid(r.Context(), s.store, tok) {
		s.message(w, r, http.StatusForbidden, "Setup link not valid",
			"This setup link is not valid: it expired, was already used, or an admin password is set. Restart the server for a new link, or set HOST_ADMIN_PASSWORD.", "")
		return
	}
	s.render(w, http.StatusOK, "setup.html", map[string]any{"Token": tok, "Session": sess})
}

func (s *adminPages) setup(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		http.Error(w, "bad CSRF token", http.StatusForbidden)
		return
	}
	if !host.SetupTokenValid(r.Context(), s.store, r.FormValue("token")) {
		s.message(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is not valid: it expired, was already used, or an admin password is set.", "")
		return
	}
	pw := r.FormValue("password")
	if len(pw) < host.MinAdminPassword {
		s.render(w, http.StatusBadRequest, "setup.html", map[string]any{"Token": r.FormValue("token"), "Session": sess,
			"Error": fmt.Sprintf("Choose a password of at least %d characters.", host.MinAdminPassword)})
		return
	}
	if used, err := host.UseSetupToken(r.Context(), s.store, r.FormValue("token")); err != nil || !used {
		s.message(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is not valid: it expired, was already used, or an admin password is set.", "")
		return
	}
	if err := host.SetAdminPassword(r.Context(), s.store, pw); err != nil {
		dbunavailable.Answer(w)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminPasswordSet, Reason: "setup_link"})
	if _, _, err := s.newSession(w, r, 0, true, s.cfg.SessionLifetime); err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.rememberAdminDevice(w, r, "")
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (s *adminPages) adminLoginPage(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	data := s.adminLoginData(r, sess)
	if r.URL.Query().Get("signed_out") != "" {
		data["Info"] = "You are signed out of the admin."
	}
	if tok := r.URL.Query().Get("recovery"); tok != "" {
		if !host.AdminRecoveryValid(r.Context(), s.store, tok, s.now()) {
			s.message(w, r, http.StatusForbidden, "Recovery link not valid", "This recovery link is not valid: it expired (after an hour), "+
				"was used already, or a newer reset replaced it. Run host-example reset-admin-password again for a new one.", "/admin/login")
			return
		}
		data["Recovery"] = tok
		w.Header().Set("Referrer-Policy", "no-referrer") // the token is in this page's address
		data["Info"] = "Recovery link: enter the new admin password. This browser is not held up by wrong passwords tried elsewhere, " +
			"and becomes a known admin browser once the password is accepted."
	}
	s.render(w, http.StatusOK, "adminlogin.html", data)
}

// adminLoginData is what the admin login page shows: the password form while the local
// password is on, and the sign-in through a source while an admin grant is set.
func (s *adminPages) adminLoginData(r *http.Request, sess *store.Session) map[string]any {
	return map[string]any{"Session": sess, "PasswordOn": host.AdminPasswordOn(r.Context(), s.store),
		"SourceAdmins": len(host.AdminGrants(r.Context(), s.store)) > 0, "SourceLogin": "/login?return=" + url.QueryEscape(sourceAdminPath)}
}

// adminLogin checks the admin password. Only failures count: per client, and across all
// clients (a global backoff against guessing from many addresses) unless the browser is a
// known admin device, whose failures count per device instead. With a TOTP, a right password
// leads to the code (adminCode) instead of the admin.
func (s *adminPages) adminLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.sessionEnded(w, r) // an old login page: ask again, keeping what it carried
		return
	}
	device := s.knownDevice(r)
	epoch, err := host.AdminEpoch(r.Context(), s.store) // before the password is checked: adminSignedIn
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	recovery := r.FormValue("recovery")
	if recovery != "" && (device != "" || !host.AdminRecoveryValid(r.Context(), s.store, recovery, s.now())) {
		recovery = "" // a known browser needs none; a link no longer valid exempts nothing
	}
	done, ok := s.claimAttempt(r, device, recovery != "")
	if !ok {
		s.adminLockedOut(w, r)
		return
	}
	defer done(false)
	if !host.CheckAdminPassword(r.Context(), s.store, r.FormValue("password")) {
		s.adminFailed(w, r, done, device, "wrong password")
		data := s.adminLoginData(r, sess)
		data["Error"], data["Resume"], data["Fields"] = "Wrong password.", resumeTarget(r.FormValue("resume")), keptFields(r)
		data["Recovery"] = recovery
		if !data["PasswordOn"].(bool) {
			data["Error"] = "The admin password is turned off: sign in through a source."
		}
		s.render(w, http.StatusUnauthorized, "adminlogin.html", data)
		return
	}
	totpOn, err := host.AdminTOTPOn(r.Context(), s.store)
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	if recovery != "" {
		if used, err := host.UseAdminRecovery(r.Context(), s.store, recovery, s.now()); err != nil || !used {
			recovery = "" // used by another request meanwhile: this one exempted nothing more
		} else {
			_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminSecurityChanged, Detail: "recovery link of reset-admin-password used: " +
				"the new password was accepted and this browser is a known admin browser; client " + s.clientIP(r)})
		}
	}
	if totpOn {
		if recovery != "" {
			s.rememberAdminDevice(w, r, "") // known once the password is accepted: the code step is exempt too
		}
		s.askAdminCode(w, r, sess, adminCodeState{Epoch: epoch}, "", http.StatusOK)
		return
	}
	s.adminSignedIn(w, r, device, epoch)
}

// claimAttempt counts, before a password or code is checked, the guess it is: per client, and
// across all clients unless the browser is a known device or came by the recovery link.
// Counted first, guesses sent at once get no more checks than ones sent in turn. done(true)
// keeps them counted, done(false) takes them back (the first call decides); ok is false when
// a limit is reached.
func (s *adminPages) claimAttempt(r *http.Request, device string, recovery bool) (done func(failed bool), ok bool) {
	return s.claimGuesses(r, s.attemptLimits(r, device, recovery)...)
}

// attemptLimits are the limits of an admin password or code guess: per client, and across
// all clients (adminAllKey) unless the browser is a known device or came by the recovery link.
func (s *adminPages) attemptLimits(r *http.Request, device string, recovery bool) []guessLimit {
	limits := []guessLimit{{"admin/client/" + s.clientKey(r), adminFailuresPerClient, adminFailuresWindow}}
	if device == "" && !recovery {
		limits = append(limits, guessLimit{adminAllKey, adminFailuresAll, adminFailuresAllWindow})
	}
	return limits
}

// guessLimit is a limit of guesses: at most max under key within window.
type guessLimit struct {
	key    string
	max    int
	window time.Duration
}

// claimGuesses counts one guess under each limit's key, before the guess is checked; as
// claimAttempt answers.
func (s *adminPages) claimGuesses(r *http.Request, limits ...guessLimit) (done func(failed bool), ok bool) {
	ctx := r.Context()
	var claimed []*store.Guess
	var once sync.Once
	done = func(failed bool) { // the first call decides: a failure keeps the guesses counted
		once.Do(func() {
			if !failed {
				for _, k := range claimed {
					_ = s.store.ForgiveGuess(context.WithoutCancel(ctx), k)
				}
			}
		})
	}
	for _, l := range limits {
		g, err := s.store.ClaimGuess(ctx, l.key, l.max, l.window)
		if g != nil {
			claimed = append(claimed, g)
		}
		if g == nil || err != nil {
			done(false)
			return done, false
		}
	}
	return done, true
}

// adminFailed counts a wrong password or code (done, from claimAttempt): per client, and
// across all clients or per known device.
func (s *adminPages) adminFailed(w http.ResponseWriter, r *http.Request, done func(failed bool), device, what string) {
	done(true)
	if device != "" {
		s.adminDeviceFailed(w, r, device)
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminLoginFailed, Detail: what + "; client " + s.clientIP(r)})
}

// adminSignedIn starts the admin session after the password (and code), and goes to the
// admin or offers to send the changes the ended session kept.
func (s *adminPages) adminSignedIn(w http.ResponseWriter, r *http.Request, device, epoch string) {
	newSess, r, err := s.newSession(w, r, 0, true, s.cfg.SessionLifetime)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.rememberAdminDevice(w, r, device)
	// The password (and code) were checked against the epoch read before; a reset since then
	// ended the admin sessions it saw, maybe before this one was written: end this one too.
	if now, err := host.AdminEpoch(r.Context(), s.store); err != nil || now != epoch {
		_ = s.store.DeleteSession(r.Context(), newSess.ID)
		if err != nil {
			dbunavailable.Answer(w)
			return
		}
		s.message(w, r, http.StatusUnauthorized, "Sign in again", "The admin password was reset while you signed in: sign in with the new one.", "/admin/login")
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminLogin, Detail: "client " + s.clientIP(r)})
	if target := resumeTarget(r.FormValue("resume")); target != "" {
		s.render(w, http.StatusOK, "resume.html", map[string]any{"Session": newSess, "Action": target, "Fields": keptFields(r),
			"Title": "Send your changes again?"})
		return
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}
