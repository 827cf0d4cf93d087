package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Session is a browser session; UserID 0 is anonymous.
type Session struct {
	ID     string // the hash of the cookie token
	UserID int64
	Admin  bool
	CSRF   string
	// CreatedAt is when the session began: for a user's session, when that login happened.
	CreatedAt time.Time
	// AuthTime is when the person proved who they are for this session: the sign-in it was
	// made by, which an admin session begun through a source copies from the person's
	// session (so renewing the session never makes the sign-in fresher).
	AuthTime  time.Time
	ExpiresAt time.Time
	// Remembered is a person's session kept on this device ("keep me signed in"): its cookie
	// outlives the browser's session.
	Remembered bool
	// LastSeen is when the session was last used, written at most every few minutes
	// (TouchSessions); Slide, when not 0, moves ExpiresAt to LastSeen+Slide, never past
	// ExpiresCap. An admin session never slides.
	LastSeen   time.Time
	Slide      time.Duration
	ExpiresCap time.Time
}

// SessionTerms are how long a person's new session lasts.
type SessionTerms struct {
	// Life is how long after the sign-in the session ends at the latest.
	Life time.Duration
	// Slide, when not 0, ends the session Slide after it was last seen (before Life).
	Slide time.Duration
	// Remembered keeps the session on the device (a persistent cookie).
	Remembered bool
}

// firstExpiry is when a session of terms begun at now ends unless it is seen again.
func (t SessionTerms) firstExpiry(now time.Time) time.Time {
	if t.Slide > 0 && t.Slide < t.Life {
		return now.Add(t.Slide)
	}
	return now.Add(t.Life)
}

// CreateSession starts a session of a sign-in made now and returns its cookie token (a
// session standing on an earlier sign-in is UpgradeSession's).
func (s *Store) CreateSession(ctx context.Context, userID int64, admin bool, life time.Duration) (string, *Session, error) {
	token := RandomID(32)
	now := s.now()
	sess := &Session{ID: hashToken(token), UserID: userID, Admin: admin, CSRF: RandomID(16), CreatedAt: time.Unix(now.Unix(), 0),
		AuthTime: time.Unix(now.Unix(), 0), ExpiresAt: time.Unix(now.Add(life).Unix(), 0), LastSeen: time.Unix(now.Unix(), 0)}
	sess.ExpiresCap = sess.ExpiresAt
	var uid any
	if userID != 0 {
		uid = userID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id, user_id, admin, csrf, created_at, auth_time, expires_at, last_seen_at, expires_cap)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, uid, admin, sess.CSRF, now.Unix(), sess.AuthTime.Unix(), sess.ExpiresAt.Unix(), now.Unix(), sess.ExpiresAt.Unix())
	return token, sess, err
}

// UpgradeSession replaces the live host session oldID of userID with a new admin session
// standing on the same sign-in (its auth_time), in one transaction that reads the old one:
// an end of access (sign out everywhere, ending that session, disable, source off) that
// commits meanwhile either comes first (ErrAccessEnded: nothing is made) or ends the new one
// too (on PostgreSQL, SERIALIZABLE refuses the interleaving in between with 40001, and tx
// runs it again).
func (s *Store) UpgradeSession(ctx context.Context, oldID string, userID int64, life time.Duration) (string, *Session, error) {
	token := RandomID(32)
	now := s.now()
	var sess *Session
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var auth int64
		err := s.txQueryRow(ctx, tx, `SELECT sess.auth_time FROM sessions sess `+sessionPerson("sess", false)+`
			WHERE sess.id = ? AND sess.user_id = ? AND `+sessionLive("sess", false),
			oldID, userID, now.Unix()).Scan(&auth)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrAccessEnded
		}
		if err != nil {
			return fmt.Errorf("upgrade a session: read it: %w", err)
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE id = ?`, oldID); err != nil {
			return fmt.Errorf("upgrade a session: end the old one: %w", err)
		}
		authTime := time.Unix(auth, 0)
		sess = &Session{ID: hashToken(token), UserID: userID, Admin: true, CSRF: RandomID(16), CreatedAt: time.Unix(now.Unix(), 0),
			AuthTime: authTime, ExpiresAt: time.Unix(authTime.Add(life).Unix(), 0), LastSeen: time.Unix(now.Unix(), 0)}
		sess.ExpiresCap = sess.ExpiresAt
		if _, err := s.txExec(ctx, tx, `INSERT INTO sessions (id, user_id, admin, csrf, created_at, auth_time, expires_at, last_seen_at, expires_cap)
			VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)`,
			sess.ID, userID, sess.CSRF, now.Unix(), auth, sess.ExpiresAt.Unix(), now.Unix(), sess.ExpiresAt.Unix()); err != nil {
			return fmt.Errorf("upgrade a session: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// Session reads the live session of a cookie token. A user's session is live only while
// the user is enabled and the user's source is enabled: one place decides.
func (s *Store) Session(ctx context.Context, token string) (*Session, error) {
	var sess Session
	var uid sql.NullInt64
	var created, auth, exp, seen, slide, capped int64
	err := s.read.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.admin, s.csrf, s.created_at, s.auth_time, s.expires_at,
		s.remembered, s.last_seen_at, s.slide, s.expires_cap FROM sessions s
		`+sessionPerson("s", true)+` WHERE s.id = ? AND `+sessionLive("s", true),
		hashToken(token), s.now().Unix()).Scan(&sess.ID, &uid, &sess.Admin, &sess.CSRF, &created, &auth, &exp,
		&sess.Remembered, &seen, &slide, &capped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sess.UserID, sess.CreatedAt, sess.AuthTime, sess.ExpiresAt = uid.Int64, time.Unix(created, 0), time.Unix(auth, 0), time.Unix(exp, 0)
	sess.LastSeen, sess.Slide, sess.ExpiresCap = time.Unix(seen, 0), time.Duration(slide)*time.Second, time.Unix(capped, 0)
	return &sess, nil
}

// SessionSeen is a session seen in use at At.
type SessionSeen struct {
	ID string
	At time.Time
}

// TouchSessions records when sessions were last seen (a batch, written off the request) and
// slides the expiry of those that slide to At+slide, never past their cap. It only moves
// forward: an earlier time than the stored one changes nothing, and an ended (expired or
// deleted) session stays ended. An admin session is never touched: its expiry is fixed
// from its sign-in. auth_time never moves.
func (s *Store) TouchSessions(ctx context.Context, seen []SessionSeen) error {
	if len(seen) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range seen {
			at := t.At.Unix()
			if _, err := s.txExec(ctx, tx, `UPDATE sessions SET last_seen_at = ?, expires_at = CASE
				WHEN slide <= 0 THEN expires_at WHEN ? + slide < expires_cap THEN ? + slide ELSE expires_cap END
				WHERE id = ? AND admin = 0 AND user_id IS NOT NULL AND expires_at > ? AND last_seen_at < ?`,
				at, at, at, t.ID, s.now().Unix(), at); err != nil {
				return fmt.Errorf("touch sessions: %w", err)
			}
		}
		return nil
	})
}

// AnonymousSession is the session of a cookie token with no stored session: nothing is
// stored for it, its id is the token's hash and its CSRF token a MAC of the token.
func (s *Store) AnonymousSession(token string) *Session {
	return &Session{ID: hashToken(token), CSRF: s.MAC("csrf", token)}
}

// MAC is the keyed MAC (HMAC-SHA256, hex) of value under label, with a key derived from the
// store's key: the primitive the owners of signed values build their formats on (web's
// notices, forward-auth's cookies). The label keeps uses apart: it is MACed as label + "|"
// before value, so MAC(label, v) never equals another label's MAC of any value.
func (s *Store) MAC(label, value string) string { return s.seal.MAC(label + "|" + value) }

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

// LoginStateKind names what a login state is the state of.
type LoginStateKind string

// The kinds of login state.
const (
	// StateLogin is a login begun at a source, awaiting its callback.
	StateLogin LoginStateKind = "login"
	// StateStep is a login's next step (a form the source asked for).
	StateStep LoginStateKind = "step"
	// StatePassword is a password login waiting for its second factor.
	StatePassword LoginStateKind = "password"
	// StateAction is an admin action of a source in progress.
	StateAction LoginStateKind = "action"
	// StateChoices is an admin action's answer waiting for the admin's choice.
	StateChoices LoginStateKind = "choices"
	// StateAdminCode is an admin login whose password was right, waiting for its TOTP code.
	StateAdminCode LoginStateKind = "admin_code"
)

// LoginState is server-side state of a login or admin action in progress.
type LoginState struct {
	ID        string
	SessionID string
	SourceID  string
	Kind      LoginStateKind
	ActionID  string
	// ClientKey names who began a login start (a hash of the client's address), for the
	// bounds of BoundLoginStarts; "" for the other kinds.
	ClientKey string
	State     []byte
	ExpiresAt time.Time
}

// MaxLoginStates is how many states of one kind a browser session may have at once (tabs);
// beginning one more drops the oldest.
const MaxLoginStates = 5

// PutLoginState stores state (encrypted) under st.ID (a new id when empty) and returns the id; a session keeps
// at most MaxLoginStates of a kind.
func (s *Store) PutLoginState(ctx context.Context, st LoginState) (string, error) {
	id := st.ID
	if id == "" {
		id = RandomID(16)
	}
	sealed := s.seal.Seal(st.State)
	return id, s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `DELETE FROM login_states WHERE id IN (SELECT id FROM login_states WHERE session_id = ? AND kind = ?
			ORDER BY seq DESC, created_at DESC, id DESC LIMIT -1 OFFSET ?)`, st.SessionID, st.Kind, MaxLoginStates-1); err != nil {
			return err
		}
		_, err := s.txExec(ctx, tx, `INSERT INTO login_states (id, session_id, source_id, kind, action_id, client_key, state_enc, expires_at, created_at, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM login_states WHERE session_id = ? AND kind = ?))`,
			id, st.SessionID, st.SourceID, st.Kind, st.ActionID, st.ClientKey, sealed, st.ExpiresAt.Unix(), s.now().UnixNano(), st.SessionID, st.Kind)
		return err
	})
}

func (s *Store) scanLoginState(row *sql.Row) (*LoginState, error) {
	var st LoginState
	var enc []byte
	var exp int64
	err := row.Scan(&st.ID, &st.SessionID, &st.SourceID, &st.Kind, &st.ActionID, &enc, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st.ExpiresAt = time.Unix(exp, 0)
	if s.now().After(st.ExpiresAt) {
		return nil, ErrNotFound
	}
	if st.State, err = s.seal.Open(enc); err != nil {
		return nil, err
	}
	return &st, nil
}

const loginStateCols = `id, session_id, source_id, kind, action_id, state_enc, expires_at`

// TakeLoginState deletes and returns the session's newest state of a kind: single use.
func (s *Store) TakeLoginState(ctx context.Context, sessionID string, kind LoginStateKind) (*LoginState, error) {
	return s.scanLoginState(s.db.QueryRowContext(ctx, `DELETE FROM login_states WHERE id = (SELECT id FROM login_states
		WHERE session_id = ? AND kind = ? ORDER BY seq DESC, created_at DESC, id DESC LIMIT 1) RETURNING `+loginStateCols, sessionID, kind))
}

// ClaimLoginState claims the session's state id of a kind for one call, atomically: a second
// claim before Release or Delete (two callbacks racing) finds nothing. A claim lapses after hold.
func (s *Store) ClaimLoginState(ctx context.Context, sessionID string, kind LoginStateKind, id string, hold time.Duration) (*LoginState, error) {
	now := s.now()
	return s.scanLoginState(s.db.QueryRowContext(ctx, `UPDATE login_states SET claimed_until = ?
		WHERE id = ? AND session_id = ? AND kind = ? AND claimed_until < ? RETURNING `+loginStateCols,
		now.Add(hold).Unix(), id, sessionID, kind, now.Unix()))
}

// ReleaseLoginState makes a claimed state claimable again (the answer was "not yet" or "try again").
func (s *Store) ReleaseLoginState(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE login_states SET claimed_until = 0 WHERE id = ?`, id)
	return err
}

// DeleteLoginState ends a state (its login completed or was refused).
func (s *Store) DeleteLoginState(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM login_states WHERE id = ?`, id)
	return err
}

// BoundLoginStarts bounds the login starts (StateLogin: what anonymous traffic can fill), as
// BoundOpenAuthRequests bounds authorization requests: each client keeps its newest
// perClient, and past total the rows furthest down their own client's list go first. It
// answers how many rows went.
func (s *Store) BoundLoginStarts(ctx context.Context, clientKey string, perClient, total int) (int64, error) {
	return s.boundOpen(ctx, "login_states", "kind = 'login'", clientKey, perClient, total)
}

// CountLoginStarts counts the login starts (StateLogin) stored.
func (s *Store) CountLoginStarts(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_states WHERE kind = 'login'`).Scan(&n)
	return n, err
}

// CountSessions counts the stored sessions.
func (s *Store) CountSessions(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n)
	return n, err
}

// DeleteAdminSessions ends every admin session (after an admin password reset).
func (s *Store) DeleteAdminSessions(ctx context.Context) (int64, error) {
	r, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE admin = 1`)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
