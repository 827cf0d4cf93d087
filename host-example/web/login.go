package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// signIn are the pages a person signs in with. They translate between HTTP and the login
// engine (host.Logins): the engine decides, these handlers read the request and render its
// outcome or its error.
type signIn struct {
	*view
	doors   *doorSet
	logins  *host.Logins
	sources *host.Sources
	people  *host.People
}

// routes mounts the sign-in pages.
func (s *signIn) routes(m *http.ServeMux) {
	m.HandleFunc("GET /login", s.started(s.handle(s.loginPage)))
	m.HandleFunc("POST /login/{slug}", s.started(s.handle(s.beginLogin)))
	m.HandleFunc("POST /login/{slug}/password", s.started(s.handle(s.passwordLogin)))
	m.HandleFunc("GET /callback", s.started(s.handle(s.callback)))
	m.HandleFunc("POST /login/step", s.started(s.handle(s.continueLogin)))
	m.HandleFunc("GET /profile", s.handle(s.profile))
	m.HandleFunc("POST /logout", s.handle(s.logout))
	m.HandleFunc("POST /logout/everywhere", s.handle(s.logoutEverywhere))
	m.HandleFunc("POST /profile/sessions/{kind}/{ref}", s.handle(s.endOwn))
	m.HandleFunc("POST /profile/grants/{grant}", s.handle(s.endOwn))
}

// loginButton is one source on the login page.
type loginButton struct {
	Slug, Name, Icon string
	Password         bool
}

// signInPage is login.html's data.
type signInPage struct {
	Head
	Sources []loginButton
	// Return is where the login goes back to; App names its app ("" for none).
	Return, App string
	// Info and Notice are notices (signed out; a warning); AlsoSignOut the apps to sign out of too.
	Info, Notice string
	AlsoSignOut  []Link
	// SignedInAs names the person already signed in in this browser ("" for none).
	SignedInAs string
}

func (s *signIn) loginButtons(r *http.Request) ([]loginButton, error) {
	srcs, err := s.sources.List(r.Context())
	if err != nil {
		return nil, err
	}
	var out []loginButton
	for _, src := range srcs {
		p := s.sources.Usable(src)
		if p == nil {
			continue
		}
		b := loginButton{Slug: src.Slug, Name: src.Name, Icon: p.Desc.Icon}
		var cfg map[string]any
		_ = json.Unmarshal(src.Config, &cfg)
		b.Password = p.Desc.Has(source.CapPasswordLogin) && p.Schema.CapabilityEnabled(source.CapPasswordLogin, cfg)
		out = append(out, b)
	}
	return out, nil
}

func (s *signIn) loginPage(w http.ResponseWriter, r *http.Request) error {
	sess, r, err := s.session(w, r, true)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return nil
	}
	buttons, err := s.loginButtons(r)
	if err != nil {
		return err
	}
	ret := s.doors.safeReturn(r.URL.Query().Get("return"))
	data := &signInPage{Head: Head{Session: sess}, Sources: buttons, Return: ret, App: s.doors.appName(r.Context(), ret)}
	if r.URL.Query().Get("signed_out") != "" {
		data.Info = "You are signed out."
		for _, f := range s.doors.alsoSignOut {
			data.AlsoSignOut = append(data.AlsoSignOut, f(r.Context())...)
		}
	}
	if sess.UserID != 0 {
		if u, err := s.people.Get(r.Context(), sess.UserID); err == nil {
			data.SignedInAs = host.NameOf(u.Name, u.Username)
		}
	}
	s.render(w, http.StatusOK, "login.html", data)
	return nil
}

// formSession is the session of a login form's POST with a valid CSRF token, or nil after
// telling the person to start again.
func (s *signIn) formSession(w http.ResponseWriter, r *http.Request) (*http.Request, string) {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil || !checkCSRF(r, sess) {
		s.message(w, r, http.StatusForbidden, "Please start again", "Your sign-in page was out of date. Please start again.", "/login")
		return r, ""
	}
	return r, sess.ID
}

// remember is the sign-in form's "Keep me signed in on this device": a field of the form's
// POST (CSRF-checked by formSession), never of a query a link could carry.
func remember(r *http.Request) bool {
	return r.Method == http.MethodPost && r.PostFormValue("remember") != ""
}

// personOf is the user signed in in the request's session (0 for none).
func personOf(r *http.Request) int64 {
	if sess := sessionOf(r); sess != nil {
		return sess.UserID
	}
	return 0
}

func (s *signIn) beginLogin(w http.ResponseWriter, r *http.Request) error {
	r, sessionID := s.formSession(w, r)
	if sessionID == "" {
		return nil
	}
	out, err := s.logins.Begin(r.Context(), host.Begin{Slug: r.PathValue("slug"), SessionID: sessionID, Client: s.clientKey(r),
		Person: personOf(r), Browser: s.startShare(r), Return: s.doors.safeReturn(r.FormValue("return")), Remember: remember(r), Callback: func(id string) string { return s.callbackURL("/callback") + "?login=" + id }})
	if err != nil {
		return s.loginError(w, r, err, "")
	}
	http.Redirect(w, r, out.Redirect, http.StatusSeeOther)
	return nil
}

// callback finishes a redirect login.
func (s *signIn) callback(w http.ResponseWriter, r *http.Request) error {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "Your sign-in session was not found. Your browser may block cookies for this site. Please start again.", "/login")
		return nil
	}
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	out, err := s.logins.Complete(r.Context(), host.Complete{SessionID: sess.ID, LoginID: r.URL.Query().Get("login"), Query: q})
	if errors.Is(err, host.ErrStale) && sess.UserID != 0 { // a reload of the callback after the login finished
		http.Redirect(w, r, defaultReturn, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return s.loginError(w, r, err, r.URL.RequestURI())
	}
	s.loginOutcome(w, r, out)
	return nil
}

// continueLogin answers a step.
func (s *signIn) continueLogin(w http.ResponseWriter, r *http.Request) error {
	r, sessionID := s.formSession(w, r)
	if sessionID == "" {
		return nil
	}
	out, err := s.logins.Continue(r.Context(), host.Answer{SessionID: sessionID, Client: s.clientKey(r), Choice: r.FormValue("choice"),
		Value: func(name string) string { return r.FormValue("v." + name) }})
	if err != nil {
		return s.loginError(w, r, err, "")
	}
	s.loginOutcome(w, r, out)
	return nil
}

// otpPage is otp.html's data: a password login asks for its one-time code.
type otpPage struct {
	Head
	Source *store.Source
	// Account is the login the code is for; Error says the last code was refused.
	Account, Error string
	Return         string
}

func (s *signIn) passwordLogin(w http.ResponseWriter, r *http.Request) error {
	r, sessionID := s.formSession(w, r)
	if sessionID == "" {
		return nil
	}
	ret := s.doors.safeReturn(r.FormValue("return"))
	out, err := s.logins.Password(r.Context(), host.PasswordAttempt{Slug: r.PathValue("slug"), SessionID: sessionID, Client: s.clientKey(r), Remember: remember(r),
		Person: personOf(r), Browser: s.startShare(r), Return: ret, Credentials: source.Credentials{Login: r.FormValue("login"), Password: r.FormValue("password"), OTP: r.FormValue("otp")}})
	var sf *host.SecondFactorError
	if errors.As(err, &sf) {
		data := &otpPage{Head: Head{Title: "Enter your code", Session: sessionOf(r)}, Source: sf.Source, Account: sf.Account, Return: ret}
		if sf.Rejected {
			data.Error = "That code was not accepted. Codes change every 30 seconds: try the current one."
		}
		s.render(w, http.StatusUnauthorized, "otp.html", data)
		return nil
	}
	if err != nil {
		return s.loginError(w, r, err, "")
	}
	s.loginOutcome(w, r, out)
	return nil
}

// stepPage is step.html's data: a login's next step.
type stepPage struct {
	Head
	Step    *source.LoginStep
	Choices []stepChoice
	Fields  []stepField
	// App names the app the login returns to; Again starts another login.
	App, Again string
}

// loginOutcome shows a step, or sets the new session's cookie and sends the browser back to
// where the login was asked from (a safeReturn target) or the profile.
func (s *signIn) loginOutcome(w http.ResponseWriter, r *http.Request, out host.Outcome) {
	if out.Step != nil {
		choices, fields := stepView(out.Step)
		ret, again := s.doors.safeReturn(out.Return), "/login"
		if ret != "" {
			again = loginURL(ret)
		}
		s.render(w, http.StatusOK, "step.html", &stepPage{Head: Head{Title: out.Step.Title, Session: sessionOf(r)}, Step: out.Step,
			Choices: choices, Fields: fields, App: s.doors.appName(r.Context(), ret), Again: again})
		return
	}
	s.setCookie(w, out.SignedIn.Token, out.SignedIn.Expires)
	s.rememberBrowser(w, out.SignedIn.UserID)
	ret := s.doors.safeReturn(out.Return)
	if ret == "" {
		ret = defaultReturn
	}
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// loginError tells the person, in their words, why the login did not go on; retry, when
// set, is a link that tries the same login again. An error it has no words for (the store
// unreachable) is returned, for the outage answer.
func (s *signIn) loginError(w http.ResponseWriter, r *http.Request, err error, retry string) error {
	var (
		failed    *host.FailedError
		paused    *host.PausedError
		throttled *host.ThrottledError
	)
	switch {
	case errors.Is(err, host.ErrUnknownSource):
		s.message(w, r, http.StatusNotFound, "Unknown sign-in method", "This sign-in method does not exist or is turned off.", "/login")
	case errors.Is(err, host.ErrSourceOff):
		s.message(w, r, http.StatusForbidden, "Sign-in method turned off",
			"This sign-in method was turned off or removed by the administrator, so this sign-in cannot finish. Please start again with another way to sign in, or ask the administrator.",
			"/login")
	case errors.Is(err, host.ErrStale):
		s.message(w, r, http.StatusBadRequest, "Please start again", "This sign-in has expired or was already used. Please start again.", "/login")
	case errors.Is(err, host.ErrUserDisabled):
		s.refused(w, r, "Your account here has been disabled by an administrator.")
	case errors.As(err, &paused):
		secs := int(paused.Wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.message(w, r, http.StatusServiceUnavailable, paused.Source.Name+" is busy",
			fmt.Sprintf("%s asked us to slow down, so sign-ins from busy networks are paused for %d seconds. Please try again then.",
				paused.Source.Name, secs), "/login")
	case errors.As(err, &throttled) && throttled.Busy:
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.Wait.Seconds())+1))
		s.message(w, r, http.StatusTooManyRequests, "Too many sign-ins", "Too many sign-ins are being started on this site right now. Please wait a minute and try again.", "/login")
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.Wait.Seconds())+1))
		s.message(w, r, http.StatusTooManyRequests, "Too many attempts", "Too many sign-in attempts from your network. Please wait a minute and try again.", "/login")
	case errors.As(err, &failed):
		if !failed.Retry {
			retry = ""
		}
		s.loginFailed(w, r, failed, retry)
	default:
		return fmt.Errorf("login: %w", err)
	}
	return nil
}

// refused tells the person that this site does not let them in, with a way back.
func (s *signIn) refused(w http.ResponseWriter, r *http.Request, text string) {
	s.render(w, http.StatusForbidden, "message.html", &messagePage{Head: Head{Title: "Access denied", Session: sessionOf(r)}, Text: text,
		Back: "/login", BackLabel: "Back to the sign-in page"})
}

// pendingPage is pending.html's data: a login the source has not confirmed yet.
type pendingPage struct {
	Head
	Source *store.Source
	// Retry checks again.
	Retry string
}

// loginFailed shows a refused or failed login by its kind.
func (s *signIn) loginFailed(w http.ResponseWriter, r *http.Request, f *host.FailedError, retry string) {
	src, text := f.Source, f.Err.UserText
	switch f.Err.Kind {
	case source.KindAccessDenied:
		s.refused(w, r, text)
	case source.KindPending:
		s.render(w, http.StatusAccepted, "pending.html", &pendingPage{Head: Head{Session: sessionOf(r)}, Source: src, Retry: retry})
	case source.KindUpstreamUnavailable, source.KindRateLimited:
		if text == "" {
			text = "The sign-in service is unreachable right now."
		}
		s.render(w, http.StatusServiceUnavailable, "message.html", &messagePage{Head: Head{Title: src.Name + " is unreachable", Session: sessionOf(r)},
			Text: text, Again: "/login", Retry: retry})
	case source.KindExpired, source.KindReplayed, source.KindInvalidRequest:
		s.message(w, r, http.StatusBadRequest, "Please start again", text, "/login")
	case source.KindInvalidCredentials, source.KindSecondFactorRequired:
		s.message(w, r, http.StatusUnauthorized, "Sign-in failed", text, "/login")
	default:
		s.message(w, r, http.StatusInternalServerError, "Sign-in failed", "Something went wrong. The administrator can see what.", "/login")
	}
}

// logout checks CSRF first (a cross-site POST changes nothing), then ends the stored
// session and clears the cookie.
func (s *signIn) logout(w http.ResponseWriter, r *http.Request) error {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.message(w, r, http.StatusForbidden, "Not signed out", "This sign-out request did not come from this site's page. You are still signed in.", "/profile")
		return nil
	}
	if err := s.sessions.End(r.Context(), sess.ID); err != nil {
		return err
	}
	s.clearBrowser(w, r)
	if sess.Admin {
		http.Redirect(w, r, "/admin/login?signed_out=1", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
	return nil
}

// clearBrowser clears the host's session cookie and has each door end its own session in
// this browser (after the stored session ended).
func (s *signIn) clearBrowser(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.sessions.ClearCookie())
	for _, f := range s.doors.onLogout {
		f(w, r)
	}
}

// logoutEverywhere ends every session and grant of the signed-in person (other browsers,
// apps' tokens, handed-over credentials), after the same CSRF check as a log-out.
func (s *signIn) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) || sess.UserID == 0 || s.people == nil {
		s.message(w, r, http.StatusForbidden, "Not signed out", "This sign-out request did not come from this site's page. You are still signed in.", "/profile")
		return nil
	}
	if err := s.people.SignOutOwnEverywhere(r.Context(), sess.UserID); err != nil {
		return err
	}
	s.clearBrowser(w, r)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
	return nil
}
