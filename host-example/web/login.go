package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

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
	Password, OTP    bool
	Login            string
}

func (s *Server) loginButtons(r *http.Request) ([]loginButton, error) {
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		return nil, err
	}
	var out []loginButton
	for _, src := range srcs {
		p := s.plugins[src.PluginID]
		if !src.Enabled || src.Config == nil || p == nil {
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
	s.render(w, http.StatusOK, "login.html", map[string]any{"Sources": buttons, "Session": sess})
}

type loginState struct {
	SourceID string `json:"source_id"`
	Plugin   []byte `json:"plugin"`
}

// loadSource returns an enabled, configured source and its plugin, or writes a page.
func (s *Server) loadSource(w http.ResponseWriter, r *http.Request, slug string) (*store.Source, *Plugin, bool) {
	src, err := s.store.SourceBySlug(r.Context(), slug)
	if err != nil || !src.Enabled || src.Config == nil || s.plugins[src.PluginID] == nil {
		s.message(w, r, http.StatusNotFound, "Unknown login method", "This login method does not exist or is turned off.", "/login")
		return nil, nil, false
	}
	return src, s.plugins[src.PluginID], true
}

func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request, kind, sourceID string) bool {
	ip := s.clientIP(r)
	if s.limits.allow(kind+"|ip|"+ip, s.cfg.LoginRate) && s.limits.allow(kind+"|src|"+sourceID, s.cfg.LoginRate*10) {
		return false
	}
	w.Header().Set("Retry-After", "60")
	s.message(w, r, http.StatusTooManyRequests, "Too many attempts", "Too many login attempts. Please wait a minute and try again.", "/login")
	return true
}

func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil || !checkCSRF(r, sess) {
		s.message(w, r, http.StatusForbidden, "Please start again", "Your login page was out of date. Please start again.", "/login")
		return
	}
	src, p, ok := s.loadSource(w, r, r.PathValue("slug"))
	if !ok || s.rateLimited(w, r, "begin", src.ID) {
		return
	}
	start, err := p.P.BeginLogin(r.Context(), instanceOf(src), source.BeginLogin{CallbackURL: s.callbackURL("/callback")})
	if err != nil {
		s.loginFailed(w, r, src, err)
		return
	}
	st, _ := json.Marshal(loginState{SourceID: src.ID, Plugin: start.State})
	exp := capExpiry(start.ExpiresAt, 30*time.Minute)
	if err := s.store.PutLoginState(r.Context(), store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: "login", State: st, ExpiresAt: exp}); err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, start.RedirectURL, http.StatusSeeOther)
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "Your login session was not found. Your browser may block cookies for this site. Please start again.", "/login")
		return
	}
	// Single use: the state is deleted before the plugin sees it.
	ls, err := s.store.TakeLoginState(r.Context(), sess.ID, "login")
	if err != nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This login has expired or was already used. Please start again.", "/login")
		return
	}
	var st loginState
	_ = json.Unmarshal(ls.State, &st)
	src, err := s.store.Source(r.Context(), st.SourceID)
	if err != nil || s.plugins[src.PluginID] == nil || src.Config == nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This login method is no longer available.", "/login")
		return
	}
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	id, err := s.plugins[src.PluginID].P.CompleteLogin(r.Context(), instanceOf(src), source.CompleteLogin{State: st.Plugin, CallbackQuery: q})
	if err != nil {
		s.loginFailed(w, r, src, err)
		return
	}
	s.loggedIn(w, r, src, id)
}

// stepState is what the host keeps of a login step in progress.
type stepState struct {
	SourceID string            `json:"source_id"`
	Step     *source.LoginStep `json:"step"`
}

// loggedIn stores the user by (source, sub) and starts the user's session; a login that
// needs one more step shows it instead.
func (s *Server) loggedIn(w http.ResponseWriter, r *http.Request, src *store.Source, id source.Identity) {
	if id.Step != nil {
		s.showStep(w, r, src, id.Step)
		return
	}
	var oldSession string
	if sess := sessionOf(r); sess != nil {
		oldSession = sess.ID // no session fixation: the anonymous session ends here
	}
	done, err := s.store.FinishLogin(r.Context(), store.User{SourceID: src.ID, Subject: id.Subject, Username: id.PreferredUsername,
		Email: id.Email, EmailVerified: id.EmailVerified, Name: id.Name, Picture: id.Picture, Groups: id.Groups,
		Attributes: id.Attributes, Raw: id.Raw, Revalidation: id.RevalidationState},
		store.Event{SourceID: src.ID, Kind: "login_allowed", Subject: id.Subject, Reason: id.Decision.ReasonCode, Detail: id.Decision.AdminDetail},
		oldSession, s.cfg.SessionLifetime)
	if err != nil {
		s.cfg.Logger.Error("store user", "error", err)
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	if done.Disabled {
		s.message(w, r, http.StatusForbidden, "Access denied", "Your account here has been disabled by an administrator.", "")
		return
	}
	s.setCookie(w, done.Token, time.Now().Add(s.cfg.SessionLifetime))
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

// loginFailed records the admin detail and shows the user what happened, in user words.
func (s *Server) loginFailed(w http.ResponseWriter, r *http.Request, src *store.Source, err error) {
	se := source.AsError(err)
	kind := "login_failed"
	if se.Kind == source.KindAccessDenied {
		kind = "login_denied"
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: kind, Reason: se.ReasonCode, Detail: se.Kind.String() + ": " + se.AdminDetail})
	text := se.UserText
	switch se.Kind {
	case source.KindAccessDenied:
		s.message(w, r, http.StatusForbidden, "Access denied", text, "")
	case source.KindUpstreamUnavailable, source.KindRateLimited:
		if text == "" {
			text = "The login service is unreachable right now."
		}
		s.message(w, r, http.StatusServiceUnavailable, src.Name+" is unreachable", text+" Please try again.", "/login")
	case source.KindExpired, source.KindReplayed, source.KindPending, source.KindInvalidRequest:
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
	if !ok || s.rateLimited(w, r, "password", src.ID) {
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
		_ = s.store.PutLoginState(r.Context(), store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: "password", State: st,
			ExpiresAt: time.Now().Add(5 * time.Minute)})
		buttons, _ := s.loginButtons(r)
		for i := range buttons {
			if buttons[i].Slug == src.Slug {
				buttons[i].OTP, buttons[i].Login = true, cred.Login
			}
		}
		msg := se.UserText
		if cred.OTP != "" {
			msg = "That code was not accepted. " + msg
		}
		s.render(w, http.StatusUnauthorized, "login.html", map[string]any{"Sources": buttons, "Session": sess, "Notice": msg})
		return
	}
	if err != nil {
		s.loginFailed(w, r, src, err)
		return
	}
	s.loggedIn(w, r, src, id)
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

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess != nil && checkCSRF(r, sess) {
		_ = s.store.DeleteSession(r.Context(), sess.ID)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// Instance is the contract instance of a source with the given config.
func Instance(src *store.Source, cfg json.RawMessage) source.Instance {
	inst := instanceOf(src)
	inst.Config, inst.ConfigVersion = cfg, src.ConfigVersion+1
	return inst
}

// showStep keeps the step's state server-side (it may hold a token) and asks the person.
func (s *Server) showStep(w http.ResponseWriter, r *http.Request, src *store.Source, step *source.LoginStep) {
	sess := sessionOf(r)
	exp := capExpiry(step.ExpiresAt, 15*time.Minute)
	st, _ := json.Marshal(stepState{SourceID: src.ID, Step: step})
	if sess == nil || s.store.PutLoginState(r.Context(), store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: "step", State: st, ExpiresAt: exp}) != nil {
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
	if err != nil || s.plugins[src.PluginID] == nil || src.Config == nil || st.Step == nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This login method is no longer available.", "/login")
		return
	}
	if s.rateLimited(w, r, "step", src.ID) {
		return
	}
	values := map[string]string{}
	for _, f := range st.Step.Fields {
		values[f.Name] = r.FormValue("v." + f.Name)
	}
	id, err := s.plugins[src.PluginID].P.ContinueLogin(r.Context(), instanceOf(src),
		source.ContinueLogin{State: st.Step.State, Choice: r.FormValue("choice"), Values: values})
	if err != nil {
		s.loginFailed(w, r, src, err)
		return
	}
	s.loggedIn(w, r, src, id)
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
