package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The host's sessions are host.Sessions'; these helpers put them on the request and the
// answer.

type ctxKey struct{}

// sessionOf is the session loaded for the request (session), nil for none.
func sessionOf(r *http.Request) *store.Session {
	s, _ := r.Context().Value(ctxKey{}).(*store.Session)
	return s
}

// withSession is r carrying sess for sessionOf.
func withSession(r *http.Request, sess *store.Session) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess))
}

// session loads the request's session (host.Sessions.Load). A cookie without a stored
// session is an anonymous session; create sets such a cookie when there is none.
func (s *view) session(w http.ResponseWriter, r *http.Request, create bool) (*store.Session, *http.Request, error) {
	sess, err := s.sessions.Load(r)
	if err != nil {
		return nil, r, err
	}
	if sess == nil {
		if !create {
			return nil, r, nil
		}
		var token string
		token, sess = s.sessions.Anonymous()
		s.setCookie(w, token, time.Time{})
	}
	return sess, withSession(r, sess), nil
}

// newSession starts a stored session of a sign-in made now, replacing the browser's (no
// session fixation), and sets its cookie: a browser-session one (an admin session is never
// kept on the device).
func (s *view) newSession(w http.ResponseWriter, r *http.Request, userID int64, admin bool, life time.Duration) (*store.Session, *http.Request, error) {
	token, sess, err := s.sessions.Start(r.Context(), s.sessions.Replaced(r), userID, admin, life)
	if err != nil {
		return nil, r, err
	}
	s.setCookie(w, token, time.Time{})
	return sess, withSession(r, sess), nil
}

// upgradeSession replaces the request's live session old, of userID, with an admin session
// standing on the same sign-in and ending life after it, in one store transaction
// (store.ErrAccessEnded when old ended meanwhile), and sets its cookie, a browser-session one.
func (s *view) upgradeSession(w http.ResponseWriter, r *http.Request, old *store.Session, life time.Duration) (*store.Session, *http.Request, error) {
	token, sess, err := s.sessions.Upgrade(r.Context(), old, life)
	if err != nil {
		return nil, r, err
	}
	s.setCookie(w, token, time.Time{})
	return sess, withSession(r, sess), nil
}

// setCookie sets the session cookie (host.Sessions.Cookie); a zero expiry makes a
// browser-session cookie.
func (s *view) setCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, s.sessions.Cookie(token, expires))
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
func (s *adminKit) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, r, err := s.session(w, r, false)
		if err != nil {
			http.Error(w, "session error", http.StatusInternalServerError)
			return
		}
		if sess != nil && sess.Admin && !s.stillSourceAdmin(r, sess) {
			sess = nil // a source admin disabled, or no longer admitted by an admin grant
		}
		if r.Method == http.MethodPost && takesUpload(r) { // its body is read only for an admin session
			if sess == nil || !sess.Admin {
				w.Header().Set("Connection", "close")
				http.Error(w, "an icon is uploaded by a signed-in admin", http.StatusForbidden)
				return
			}
			if !readUpload(w, r) {
				return
			}
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

// personOrLogin is the request's signed-in person (enabled or not, as People.Get reads it);
// without one it redirects to the sign-in page and reports false.
func (s *view) personOrLogin(w http.ResponseWriter, r *http.Request, people *host.People) (*store.User, *http.Request, bool) {
	sess, r, _ := s.session(w, r, false)
	if sess != nil && sess.UserID != 0 {
		if u, err := people.Get(r.Context(), sess.UserID); err == nil {
			return u, r, true
		}
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil, r, false
}
