package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// cookieName is the host's session cookie; behind https it is "__Host-" prefixed, so the
// browser keeps it host-only (no Domain, Path /, Secure).
func (s *Server) cookieName() string {
	if s.cfg.PublicURL.Scheme == "https" {
		return "__Host-hx_session"
	}
	return "hx_session"
}

type ctxKey struct{}

func sessionOf(r *http.Request) *store.Session {
	s, _ := r.Context().Value(ctxKey{}).(*store.Session)
	return s
}

// session loads the request's session. A cookie without a stored session is an anonymous
// session (nothing stored: its CSRF token is a MAC of the cookie); create sets such a cookie
// when there is none.
func (s *Server) session(w http.ResponseWriter, r *http.Request, create bool) (*store.Session, *http.Request, error) {
	if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" && len(c.Value) <= 128 {
		sess, err := s.store.Session(r.Context(), c.Value)
		if errors.Is(err, store.ErrNotFound) {
			sess, err = s.store.AnonymousSession(c.Value), nil
		}
		if err != nil {
			return nil, r, err
		}
		return sess, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)), nil
	}
	if !create {
		return nil, r, nil
	}
	token := store.RandomID(32)
	s.setCookie(w, token, time.Time{})
	sess := s.store.AnonymousSession(token)
	return sess, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)), nil
}

// newSession starts a stored session of a sign-in made now and sets its cookie (HttpOnly, SameSite=Lax).
func (s *Server) newSession(w http.ResponseWriter, r *http.Request, userID int64, admin bool, life time.Duration) (*store.Session, *http.Request, error) {
	return s.startSession(w, r, func(ctx context.Context) (string, *store.Session, error) {
		return s.store.CreateSession(ctx, userID, admin, life)
	})
}

// upgradeSession replaces the request's live session old, of userID, with an admin session
// standing on the same sign-in and ending life after it, in one store transaction
// (store.ErrAccessEnded when old ended meanwhile), and sets its cookie.
func (s *Server) upgradeSession(w http.ResponseWriter, r *http.Request, old *store.Session, life time.Duration) (*store.Session, *http.Request, error) {
	token, sess, err := s.store.UpgradeSession(r.Context(), old.ID, old.UserID, life)
	if err != nil {
		return nil, r, err
	}
	s.setCookie(w, token, sess.ExpiresAt)
	return sess, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)), nil
}

// startSession replaces the request's session with the one create stores and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, create func(context.Context) (string, *store.Session, error)) (*store.Session, *http.Request, error) {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		_ = s.store.DeleteSession(r.Context(), s.store.AnonymousSession(c.Value).ID) // no session fixation
	}
	token, sess, err := create(r.Context())
	if err != nil {
		return nil, r, err
	}
	s.setCookie(w, token, sess.ExpiresAt)
	return sess, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)), nil
}

// setCookie sets the session cookie: HttpOnly, SameSite=Lax, Secure behind https; a zero
// expiry makes a browser-session cookie.
func (s *Server) setCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.PublicURL.Scheme == "https", Expires: expires})
}

// checkCSRF compares the form's token with the session's.
func checkCSRF(r *http.Request, sess *store.Session) bool {
	if sess == nil {
		return false
	}
	got := r.FormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

// admin guards admin pages: a logged-in admin session, and a CSRF token on every POST.
func (s *adminPages) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, r, err := s.session(w, r, false)
		if err != nil {
			http.Error(w, "session error", http.StatusInternalServerError)
			return
		}
		if sess != nil && sess.Admin && !s.stillSourceAdmin(r, sess) {
			sess = nil // a source admin disabled, or no longer admitted by an admin grant
		}
		if r.Method != http.MethodPost && (sess == nil || !sess.Admin) {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && (sess == nil || !sess.Admin || !checkCSRF(r, sess)) {
			s.sessionEnded(w, r)
			return
		}
		s.started(h)(w, r)
	}
}
