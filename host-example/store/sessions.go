package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Session is a browser session; UserID 0 is anonymous.
type Session struct {
	ID        string // the hash of the cookie token
	UserID    int64
	Admin     bool
	CSRF      string
	ExpiresAt time.Time
}

// CreateSession starts a session and returns its cookie token.
func (s *Store) CreateSession(ctx context.Context, userID int64, admin bool, life time.Duration) (string, *Session, error) {
	token := RandomID(32)
	sess := &Session{ID: hashToken(token), UserID: userID, Admin: admin, CSRF: RandomID(16), ExpiresAt: s.now().Add(life)}
	var uid any
	if userID != 0 {
		uid = userID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id, user_id, admin, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		sess.ID, uid, admin, sess.CSRF, s.now().Unix(), sess.ExpiresAt.Unix())
	return token, sess, err
}

// Session reads the live session of a cookie token.
func (s *Store) Session(ctx context.Context, token string) (*Session, error) {
	var sess Session
	var uid sql.NullInt64
	var exp int64
	err := s.read.QueryRowContext(ctx, `SELECT id, user_id, admin, csrf, expires_at FROM sessions WHERE id = ? AND expires_at > ?`,
		hashToken(token), s.now().Unix()).Scan(&sess.ID, &uid, &sess.Admin, &sess.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sess.UserID, sess.ExpiresAt = uid.Int64, time.Unix(exp, 0)
	return &sess, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

// LoginState is server-side state of a login or admin action in progress.
type LoginState struct {
	ID        string
	SessionID string
	SourceID  string
	Kind      string
	ActionID  string
	State     []byte
	ExpiresAt time.Time
}

// PutLoginState stores state (encrypted), replacing the session's earlier one of the same kind.
func (s *Store) PutLoginState(ctx context.Context, st LoginState) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_states WHERE session_id = ? AND kind = ?`, st.SessionID, st.Kind); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_states (id, session_id, source_id, kind, action_id, state_enc, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		RandomID(16), st.SessionID, st.SourceID, st.Kind, st.ActionID, s.seal.Seal(st.State), st.ExpiresAt.Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// TakeLoginState deletes and returns the session's state of a kind: single use.
func (s *Store) TakeLoginState(ctx context.Context, sessionID, kind string) (*LoginState, error) {
	var st LoginState
	var enc []byte
	var exp int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM login_states WHERE session_id = ? AND kind = ?
		RETURNING id, session_id, source_id, kind, action_id, state_enc, expires_at`, sessionID, kind).
		Scan(&st.ID, &st.SessionID, &st.SourceID, &st.Kind, &st.ActionID, &enc, &exp)
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

// Purge deletes expired sessions and login states.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	now := s.now().Unix()
	r1, err := s.db.ExecContext(ctx, `DELETE FROM login_states WHERE expires_at <= ?`, now)
	if err != nil {
		return 0, err
	}
	r2, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now)
	if err != nil {
		return 0, err
	}
	a, _ := r1.RowsAffected()
	b, _ := r2.RowsAffected()
	return a + b, nil
}

// Event is one recorded decision or state change.
type Event struct {
	At       time.Time
	SourceID string
	Kind     string
	Subject  string
	Reason   string
	Detail   string
}

// AddEvent records an event.
func (s *Store) AddEvent(ctx context.Context, e Event) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO events (at, source_id, kind, subject, reason, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		s.now().Unix(), e.SourceID, e.Kind, e.Subject, e.Reason, e.Detail)
	return err
}

// Events lists the newest events.
func (s *Store) Events(ctx context.Context, limit int) ([]Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, source_id, kind, subject, reason, detail FROM events ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.SourceID, &e.Kind, &e.Subject, &e.Reason, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}
