package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// usable is the plugin of a source people may log in with now — turned on, with saved
// settings, its plugin loaded — or nil. Every step of a login asks it again: an admin may
// turn the source off while a login is under way.
func (s *Server) usable(src *store.Source) *Plugin {
	if src == nil || !src.Enabled || src.Config == nil {
		return nil
	}
	return s.plugins[src.PluginID]
}

// sourceOff tells the person that the login they were in cannot finish: its method is off.
func (s *Server) sourceOff(w http.ResponseWriter, r *http.Request) {
	s.message(w, r, http.StatusForbidden, "Login method turned off",
		"This login method was turned off or removed by the administrator, so this login cannot finish. Please start again with another way to log in, or ask the administrator.",
		"/login")
}

func instanceOf(src *store.Source) source.Instance {
	return source.Instance{ID: src.ID, ConfigVersion: src.ConfigVersion, Config: src.Config, Slug: src.Slug, Name: src.Name}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	sess, _, _ := s.session(w, r, false)
	if sess != nil && sess.UserID != 0 {
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// loginButton is one source on the login page.
type loginButton struct {
	Slug, Name, Icon string
	Password         bool
}

func (s *Server) loginButtons(r *http.Request) ([]loginButton, error) {
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		return nil, err
	}
	var out []loginButton
	for _, src := range srcs {
		p := s.usable(src)
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

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, true)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	buttons, err := s.loginButtons(r)
	if err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	data := map[string]any{"Sources": buttons, "Session": sess, "Return": s.safeReturn(r.URL.Query().Get("return"))}
	if r.URL.Query().Get("signed_out") != "" {
		data["Info"] = "You are signed out."
	}
	if sess.UserID != 0 {
		if u, err := s.store.User(r.Context(), sess.UserID); err == nil {
			data["SignedInAs"] = u.Name
			if u.Name == "" {
				data["SignedInAs"] = u.Username
			}
		}
	}
	s.render(w, http.StatusOK, "login.html", data)
}

type loginState struct {
	SourceID string `json:"source_id"`
	Plugin   []byte `json:"plugin"`
	// Return is where the browser goes after the login (a safeReturn target).
	Return string `json:"return,omitempty"`
}

// loadSource returns an enabled, configured source and its plugin, or writes a page.
func (s *Server) loadSource(w http.ResponseWriter, r *http.Request, slug string) (*store.Source, *Plugin, bool) {
	src, err := s.store.SourceBySlug(r.Context(), slug)
	var p *Plugin
	if err == nil {
		p = s.usable(src)
	}
	if p == nil {
		s.message(w, r, http.StatusNotFound, "Unknown login method", "This login method does not exist or is turned off.", "/login")
		return nil, nil, false
	}
	return src, p, true
}

// upstreamBackoff is how long logins of a source pause after its upstream said "too many requests".
const upstreamBackoff = 30 * time.Second

// rateLimited slows a client that starts logins too fast and refuses it past a short wait; while
// a source's upstream asked everyone to back off, it says so instead of asking the upstream.
func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request, src *store.Source) bool {
	if until, ok := s.upstream.Load(src.ID); ok {
		if wait := time.Until(until.(time.Time)); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			s.message(w, r, http.StatusServiceUnavailable, src.Name+" is busy",
				fmt.Sprintf("%s asked us to slow down, so logins are paused for everyone for %d seconds. Please try again then.",
					src.Name, int(wait.Seconds())+1), "/login")
			return true
		}
	}
	ok, after := s.begins.Wait(r.Context(), s.clientKey(r), 2*time.Second)
	if ok {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(after.Seconds())+1))
	s.message(w, r, http.StatusTooManyRequests, "Too many attempts", "Too many login attempts from your network. Please wait a minute and try again.", "/login")
	return true
}

// noteUpstream pauses a source's logins for everyone when its upstream rate-limits us.
func (s *Server) noteUpstream(src *store.Source, err error) {
	if source.KindOf(err) == source.KindRateLimited {
		s.upstream.Store(src.ID, time.Now().Add(upstreamBackoff))
		s.cfg.Logger.Warn("upstream rate limit: logins paused", "source", src.ID, "for", upstreamBackoff)
	}
}

func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil || !checkCSRF(r, sess) {
		s.message(w, r, http.StatusForbidden, "Please start again", "Your login page was out of date. Please start again.", "/login")
		return
	}
	src, p, ok := s.loadSource(w, r, r.PathValue("slug"))
	if !ok || s.rateLimited(w, r, src) {
		return
	}
	// Each begun login has its own id in the callback URL: several tabs each finish their own.
	id := store.RandomID(16)
	start, err := p.P.BeginLogin(r.Context(), instanceOf(src), source.BeginLogin{CallbackURL: s.callbackURL("/callback") + "?login=" + id})
	if err != nil {
		s.noteUpstream(src, err)
		s.loginFailed(w, r, src, err, "")
		return
	}
	st, _ := json.Marshal(loginState{SourceID: src.ID, Plugin: start.State, Return: s.safeReturn(r.FormValue("return"))})
	exp := capExpiry(start.ExpiresAt, 30*time.Minute)
	if _, err := s.store.PutLoginState(r.Context(), store.LoginState{ID: id, SessionID: sess.ID, SourceID: src.ID, Kind: "login", State: st, ExpiresAt: exp}); err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, start.RedirectURL, http.StatusSeeOther)
}

// claimHold bounds how long one callback holds its login's state.
const claimHold = time.Minute

// callback finishes a login. Its state is claimed for the call (a second callback racing
// finds nothing) and ends with a completed or refused login; after a "not yet" or "try
// again" answer it stays, so the same link can be tried again.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "Your login session was not found. Your browser may block cookies for this site. Please start again.", "/login")
		return
	}
	loginID := r.URL.Query().Get("login")
	ls, err := s.store.ClaimLoginState(r.Context(), sess.ID, "login", loginID, claimHold)
	if err != nil {
		if sess.UserID != 0 { // a reload of the callback after the login finished
			http.Redirect(w, r, defaultReturn, http.StatusSeeOther)
			return
		}
		s.message(w, r, http.StatusBadRequest, "Please start again", "This login has expired or was already used. Please start again.", "/login")
		return
	}
	var st loginState
	_ = json.Unmarshal(ls.State, &st)
	src, err := s.store.Source(r.Context(), st.SourceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	p := s.usable(src)
	if p == nil {
		_ = s.store.DeleteLoginState(r.Context(), ls.ID)
		s.sourceOff(w, r)
		return
	}
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	id, err := p.P.CompleteLogin(r.Context(), instanceOf(src), source.CompleteLogin{State: st.Plugin, CallbackQuery: q})
	if err != nil && source.AsError(err).Retryable {
		_ = s.store.ReleaseLoginState(r.Context(), ls.ID)
		s.noteUpstream(src, err)
		s.loginFailed(w, r, src, err, r.URL.RequestURI())
		return
	}
	_ = s.store.DeleteLoginState(r.Context(), ls.ID)
	if err != nil {
		s.loginFailed(w, r, src, err, "")
		return
	}
	s.loggedIn(w, r, src, id, st.Return)
}

// stepState is what the host keeps of a login step in progress.
type stepState struct {
	SourceID string            `json:"source_id"`
	Step     *source.LoginStep `json:"step"`
	Return   string            `json:"return,omitempty"`
}

// loggedIn stores the user by (source, sub) and starts the user's session, then sends the
// browser back to ret (a safeReturn target) or the profile; a login that needs one more
// step shows it instead.
func (s *Server) loggedIn(w http.ResponseWriter, r *http.Request, src *store.Source, id source.Identity, ret string) {
	if id.Step != nil {
		s.showStep(w, r, src, id.Step, ret)
		return
	}
	var oldSession string
	if sess := sessionOf(r); sess != nil {
		oldSession = sess.ID // no session fixation: the anonymous session ends here
	}
	done, err := s.store.FinishLogin(r.Context(), store.User{SourceID: src.ID, Subject: id.Subject, Username: id.PreferredUsername,
		Email: id.Email, EmailVerified: id.EmailVerified, Name: id.Name, Picture: id.Picture, Groups: id.Groups,
		Attributes: id.Attributes, Raw: id.Raw, Revalidation: id.RevalidationState, PreviewSample: id.PreviewSample},
		store.Event{SourceID: src.ID, Kind: "login_allowed", Subject: id.Subject, Name: nameOf(id.PreferredUsername, id.Name),
			Reason: id.Decision.ReasonCode, Detail: id.Decision.AdminDetail},
		oldSession, s.cfg.SessionLifetime)
	if errors.Is(err, store.ErrSourceOff) { // turned off while the plugin answered
		_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: "login_denied", Subject: id.Subject,
			Name: nameOf(id.PreferredUsername, id.Name), Reason: "source_disabled", Detail: "the source was turned off during the login"})
		s.sourceOff(w, r)
		return
	}
	if err != nil {
		s.cfg.Logger.Error("store user", "error", err)
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	if done.Disabled {
		s.refused(w, r, "Your account here has been disabled by an administrator.")
		return
	}
	s.setCookie(w, done.Token, time.Now().Add(s.cfg.SessionLifetime))
	if ret = s.safeReturn(ret); ret == "" {
		ret = defaultReturn
	}
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// refused tells the person that this site does not let them in, with a way back.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, text string) {
	s.render(w, http.StatusForbidden, "message.html", map[string]any{"Title": "Access denied", "Text": text,
		"Back": "/login", "BackLabel": "Back to the login page", "Session": sessionOf(r)})
}

// loginFailed records the admin detail and shows the user what happened, in user words;
// retry, when set, is a link that tries the same login again.
func (s *Server) loginFailed(w http.ResponseWriter, r *http.Request, src *store.Source, err error, retry string) {
	se := source.AsError(err)
	kind := "login_failed"
	if se.Kind == source.KindAccessDenied {
		kind = "login_denied"
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: store.EventKind(kind), Subject: se.Subject, Name: se.DisplayName, Reason: se.ReasonCode,
		Detail: joinDetail(se.UserText, se.AdminDetail)})
	text := se.UserText
	switch se.Kind {
	case source.KindAccessDenied:
		s.refused(w, r, text)
	case source.KindPending:
		s.render(w, http.StatusAccepted, "pending.html", map[string]any{"Source": src, "Retry": retry, "Session": sessionOf(r)})
	case source.KindUpstreamUnavailable, source.KindRateLimited:
		if text == "" {
			text = "The login service is unreachable right now."
		}
		s.render(w, http.StatusServiceUnavailable, "message.html", map[string]any{"Title": src.Name + " is unreachable", "Text": text,
			"Again": "/login", "Retry": retry, "Session": sessionOf(r)})
	case source.KindExpired, source.KindReplayed, source.KindInvalidRequest:
		s.message(w, r, http.StatusBadRequest, "Please start again", text, "/login")
	case source.KindInvalidCredentials, source.KindSecondFactorRequired:
		s.message(w, r, http.StatusUnauthorized, "Login failed", text, "/login")
	default:
		s.message(w, r, http.StatusInternalServerError, "Login failed", "Something went wrong. The administrator can see what.", "/login")
	}
}

type pendingPassword struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (s *Server) passwordLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil || !checkCSRF(r, sess) {
		s.message(w, r, http.StatusForbidden, "Please start again", "Your login page was out of date. Please start again.", "/login")
		return
	}
	src, p, ok := s.loadSource(w, r, r.PathValue("slug"))
	if !ok || s.rateLimited(w, r, src) {
		return
	}
	cred := source.Credentials{Login: r.FormValue("login"), Password: r.FormValue("password"), OTP: r.FormValue("otp")}
	if cred.OTP != "" && cred.Password == "" {
		if ls, err := s.store.TakeLoginState(r.Context(), sess.ID, "password"); err == nil && ls.SourceID == src.ID {
			var pp pendingPassword
			_ = json.Unmarshal(ls.State, &pp)
			cred.Login, cred.Password = pp.Login, pp.Password
		}
	}
	id, err := p.P.PasswordLogin(r.Context(), instanceOf(src), cred)
	var se *source.Error
	if errors.As(err, &se) && se.Kind == source.KindSecondFactorRequired {
		st, _ := json.Marshal(pendingPassword{Login: cred.Login, Password: cred.Password})
		_, _ = s.store.PutLoginState(r.Context(), store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: "password", State: st,
			ExpiresAt: time.Now().Add(5 * time.Minute)})
		data := map[string]any{"Source": src, "Account": cred.Login, "Text": se.UserText, "Session": sess,
			"Return": s.safeReturn(r.FormValue("return")), "Title": "Enter your code"}
		if cred.OTP != "" {
			data["Error"] = "That code was not accepted. Codes change every 30 seconds: try the current one."
		}
		s.render(w, http.StatusUnauthorized, "otp.html", data)
		return
	}
	if err != nil {
		s.loginFailed(w, r, src, err, "")
		return
	}
	s.loggedIn(w, r, src, id, r.FormValue("return"))
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || sess.UserID == 0 {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	u, err := s.store.User(r.Context(), sess.UserID)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	src, _ := s.store.Source(r.Context(), u.SourceID)
	s.render(w, http.StatusOK, "profile.html", map[string]any{"User": u, "Source": src, "Session": sess})
}

// logout checks CSRF first (a cross-site POST changes nothing), then ends the stored
// session and clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.message(w, r, http.StatusForbidden, "Not logged out", "This log-out request did not come from this site's page. You are still logged in.", "/profile")
		return
	}
	if err := s.store.DeleteSession(r.Context(), sess.ID); err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.PublicURL.Scheme == "https"})
	for _, f := range s.onLogout {
		f(w, r)
	}
	if sess.Admin {
		http.Redirect(w, r, "/admin/login?signed_out=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// Instance is the contract instance of a source with the given config.
func Instance(src *store.Source, cfg json.RawMessage) source.Instance {
	inst := instanceOf(src)
	inst.Config, inst.ConfigVersion = cfg, src.ConfigVersion+1
	return inst
}

// showStep keeps the step's state server-side (it may hold a token) and asks the person.
func (s *Server) showStep(w http.ResponseWriter, r *http.Request, src *store.Source, step *source.LoginStep, ret string) {
	sess := sessionOf(r)
	exp := capExpiry(step.ExpiresAt, 15*time.Minute)
	st, _ := json.Marshal(stepState{SourceID: src.ID, Step: step, Return: s.safeReturn(ret)})
	if sess == nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	if _, err := s.store.PutLoginState(r.Context(), store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: "step", State: st, ExpiresAt: exp}); err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "step.html", map[string]any{"Step": step, "Session": sess, "Title": step.Title})
}

// continueLogin answers a step: the state is taken (single use) before the plugin sees it.
func (s *Server) continueLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil || !checkCSRF(r, sess) {
		s.message(w, r, http.StatusForbidden, "Please start again", "Your login page was out of date. Please start again.", "/login")
		return
	}
	ls, err := s.store.TakeLoginState(r.Context(), sess.ID, "step")
	if err != nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This login has expired or was already used. Please start again.", "/login")
		return
	}
	var st stepState
	_ = json.Unmarshal(ls.State, &st)
	src, err := s.store.Source(r.Context(), st.SourceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	p := s.usable(src)
	if p == nil {
		s.sourceOff(w, r)
		return
	}
	if st.Step == nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This login has expired or was already used. Please start again.", "/login")
		return
	}
	if s.rateLimited(w, r, src) {
		return
	}
	values := map[string]string{}
	for _, f := range st.Step.Fields {
		values[f.Name] = r.FormValue("v." + f.Name)
	}
	id, err := p.P.ContinueLogin(r.Context(), instanceOf(src),
		source.ContinueLogin{State: st.Step.State, Choice: r.FormValue("choice"), Values: values})
	if err != nil {
		s.loginFailed(w, r, src, err, "")
		return
	}
	s.loggedIn(w, r, src, id, st.Return)
}

// capExpiry is when server-side state expires: the plugin's expiry (the upstream's, such as a
// PIN's lifetime), but never later than max from now.
func capExpiry(plugin time.Time, max time.Duration) time.Time {
	limit := time.Now().Add(max)
	if plugin.IsZero() || plugin.After(limit) {
		return limit
	}
	return plugin
}
