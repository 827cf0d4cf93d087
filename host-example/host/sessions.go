package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// SessionStore is the persistence of the host's browser sessions; *store.Store is one.
type SessionStore interface {
	Session(ctx context.Context, token string) (*store.Session, error)
	AnonymousSession(token string) *store.Session
	CreateSession(ctx context.Context, userID int64, admin bool, life time.Duration) (string, *store.Session, error)
	UpgradeSession(ctx context.Context, oldID string, userID int64, life time.Duration) (string, *store.Session, error)
	DeleteSession(ctx context.Context, id string) error
	User(ctx context.Context, id int64) (*store.User, error)
	TouchSessions(ctx context.Context, seen []store.SessionSeen) error
	// Now is the store's clock, which sessions' times are of.
	Now() time.Time
}

var _ SessionStore = (*store.Store)(nil)

// maxToken bounds the session cookie a request may carry; a longer one is no cookie.
const maxToken = 128

// Sessions are the host's browser sessions, kept by a cookie: they are minted, loaded and
// ended here, and the doors (OpenID Connect, forward-auth) ask here who a request's browser
// is signed in as. A browser without a stored session has an anonymous one: nothing is
// stored, its id is the cookie token's hash and its CSRF token a MAC of the token.
type Sessions struct {
	store SessionStore
	// secure is set behind https: the cookie is Secure and "__Host-" prefixed.
	secure bool
	// seen keeps when person sessions were last seen, written off the request (lastseen.go).
	seen lastSeen
}

// NewSessions returns the sessions of st, with the cookie of the host's public URL.
func NewSessions(st SessionStore, publicURL *url.URL) *Sessions {
	s := &Sessions{store: st, secure: publicURL != nil && publicURL.Scheme == "https"}
	s.seen = lastSeen{store: st, flushAfter: seenFlushAfter}
	return s
}

// CookieName is the session cookie's name; behind https it is "__Host-" prefixed, so the
// browser keeps it host-only (no Domain, Path /, Secure).
func (s *Sessions) CookieName() string {
	if s.secure {
		return "__Host-hx_session"
	}
	return "hx_session"
}

// Cookie is the session cookie of token: HttpOnly, SameSite=Lax, Secure behind https; a
// zero expiry makes a browser-session cookie.
func (s *Sessions) Cookie(token string, expires time.Time) *http.Cookie {
	return &http.Cookie{Name: s.CookieName(), Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.secure, Expires: expires}
}

// ClearCookie is the cookie that removes the session cookie from the browser.
func (s *Sessions) ClearCookie() *http.Cookie {
	return &http.Cookie{Name: s.CookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.secure}
}

// token is the request's session cookie, when it carries a usable one.
func (s *Sessions) token(r *http.Request) (string, bool) {
	c, err := r.Cookie(s.CookieName())
	if err != nil || c.Value == "" || len(c.Value) > maxToken {
		return "", false
	}
	return c.Value, true
}

// Load is the session of the request's cookie: the stored one, else the cookie's anonymous
// session; nil when the request carries no session cookie.
func (s *Sessions) Load(r *http.Request) (*store.Session, error) {
	token, ok := s.token(r)
	if !ok {
		return nil, nil
	}
	return s.Of(r.Context(), token)
}

// Of is the session of a cookie token: the stored one, else the token's anonymous session.
func (s *Sessions) Of(ctx context.Context, token string) (*store.Session, error) {
	sess, err := s.store.Session(ctx, token)
	if err == nil {
		s.seen.note(sess)
		return sess, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.store.AnonymousSession(token), nil
	}
	return nil, fmt.Errorf("load a session: %w", err)
}

// Anonymous mints a new anonymous session (nothing stored) and the token its cookie carries.
func (s *Sessions) Anonymous() (string, *store.Session) {
	token := store.RandomID(32)
	return token, s.store.AnonymousSession(token)
}

// Replaced is the id of the session a sign-in in this browser replaces ("" for none): the
// cookie's session, stored or anonymous (its id is the token's hash either way). A new
// session never keeps the id the browser had before the sign-in (no session fixation):
// Start ends it, and a login's finish (Logins, store.FinishLogin) ends the same id, which the
// sign-in pages pass as the login's SessionID.
func (s *Sessions) Replaced(r *http.Request) string {
	c, err := r.Cookie(s.CookieName())
	if err != nil {
		return ""
	}
	return s.store.AnonymousSession(c.Value).ID
}

// Start begins a stored session of a sign-in made now (userID 0: an admin of the host's own
// password), ending the session replaced (Replaced) first; it returns the new cookie token.
func (s *Sessions) Start(ctx context.Context, replaced string, userID int64, admin bool, life time.Duration) (string, *store.Session, error) {
	if replaced != "" {
		_ = s.store.DeleteSession(ctx, replaced) // an unknown id is no error; a failure leaves a session nobody holds
	}
	token, sess, err := s.store.CreateSession(ctx, userID, admin, life)
	if err != nil {
		return "", nil, fmt.Errorf("start a session: %w", err)
	}
	return token, sess, nil
}

// Upgrade replaces the live session old, of a person, with an admin session standing on the
// same sign-in and ending life after it, in one store transaction (store.ErrAccessEnded when
// old ended meanwhile); it returns the new cookie token.
func (s *Sessions) Upgrade(ctx context.Context, old *store.Session, life time.Duration) (string, *store.Session, error) {
	token, sess, err := s.store.UpgradeSession(ctx, old.ID, old.UserID, life)
	if err != nil {
		return "", nil, fmt.Errorf("upgrade a session: %w", err)
	}
	return token, sess, nil
}

// End ends the session of id (a log-out).
func (s *Sessions) End(ctx context.Context, id string) error {
	if err := s.store.DeleteSession(ctx, id); err != nil {
		return fmt.Errorf("end a session: %w", err)
	}
	return nil
}

// signedIn is the request's session of a signed-in person, or nil.
func (s *Sessions) signedIn(r *http.Request) *store.Session {
	sess, err := s.Load(r)
	if err != nil || sess == nil || sess.UserID == 0 {
		return nil
	}
	return sess
}

// SignedIn is the request's signed-in user (enabled, of an enabled source) and when that
// login happened.
func (s *Sessions) SignedIn(r *http.Request) (*store.User, time.Time, bool) {
	sess := s.signedIn(r)
	if sess == nil {
		return nil, time.Time{}, false
	}
	u, err := s.store.User(r.Context(), sess.UserID)
	if err != nil || u.Disabled {
		return nil, time.Time{}, false
	}
	return u, sess.AuthTime, true
}

// SessionID is the stored id of the request's signed-in session ("" when none): what a
// credential minted for this sign-in is bound to, so that it dies with the session.
func (s *Sessions) SessionID(r *http.Request) string {
	if sess := s.signedIn(r); sess != nil {
		return sess.ID
	}
	return ""
}

// Kept reports whether the request's signed-in session is kept on its device ("keep me
// signed in"): its cookie outlives the browser, and so may what is minted under it.
func (s *Sessions) Kept(r *http.Request) bool {
	sess := s.signedIn(r)
	return sess != nil && sess.Remembered
}

// EndUserSession ends the request's session when it is userID's.
func (s *Sessions) EndUserSession(r *http.Request, userID int64) {
	sess, err := s.Load(r)
	if err == nil && sess != nil && sess.UserID == userID {
		_ = s.store.DeleteSession(r.Context(), sess.ID)
	}
}

// Way is one button of a page that offers a few ways on (a door's refusal).
type Way struct {
	// ID names the button; Label is its text.
	ID, Label string
	// Action is the local path the button POSTs to, with Fields.
	Action string
	Fields map[string]string
	// Secondary shows it as the lesser way.
	Secondary bool
}
