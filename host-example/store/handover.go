package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Hand-over codes: how a credential crosses from the public host to an app's origin, as an
// authorization code does. The public host mints one for a person signed in there (host
// session); the app origin's bridge redeems it once, within HandoverCodeLife, with the state
// it keeps in a cookie of its own. Only the code's hash is stored, so a copy of the database
// redeems nothing; any replica redeems a code another minted.

// HandoverCodeLife is how long a hand-over code can be redeemed.
const HandoverCodeLife = 30 * time.Second

// MaxHandoverCodes is how many unredeemed hand-over codes a user keeps: minting one more
// drops the oldest (a script driving a signed-in browser cannot fill the table).
const MaxHandoverCodes = 10

// HandoverCode is what a hand-over code is bound to.
type HandoverCode struct {
	// UserID and SessionID are the user and the host session (its id) that got the code.
	UserID    int64
	SessionID string
	// Origin is the app origin it is for (scheme://host[:port]).
	Origin string
	// StateHash is the hash of the state the bridge keeps in its cookie.
	StateHash string
}

// ErrCodeRefused is a hand-over code that unlocks nothing: unknown, used, late, for another
// origin or state, or its host session ended. It wraps ErrNotFound.
var ErrCodeRefused = fmt.Errorf("hand-over code refused: %w", ErrNotFound)

// CreateHandoverCode stores the hash of code, bound to c, for HandoverCodeLife; the user's
// oldest codes beyond MaxHandoverCodes and expired ones go.
func (s *Store) CreateHandoverCode(ctx context.Context, code string, c HandoverCode) error {
	if code == "" || c.UserID == 0 || c.SessionID == "" || c.Origin == "" || c.StateHash == "" {
		return errors.New("create hand-over code: code, user, session, origin and state are required")
	}
	now, h := s.now(), hashToken(code)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `INSERT INTO handover_codes (code_hash, user_id, session_id, origin, state_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, h, c.UserID, c.SessionID, c.Origin, c.StateHash, now.UnixNano(),
			now.Add(HandoverCodeLife).Unix()); err != nil {
			return fmt.Errorf("create hand-over code: %w", err)
		}
		// The new code stays; of the others, the newest MaxHandoverCodes-1 unexpired ones do
		// (created_at is in nanoseconds: codes follow each other within a second).
		if _, err := s.txExec(ctx, tx, `DELETE FROM handover_codes WHERE user_id = ? AND code_hash != ? AND (expires_at <= ? OR code_hash IN
			(SELECT code_hash FROM handover_codes WHERE user_id = ? AND code_hash != ? ORDER BY created_at DESC, code_hash DESC LIMIT -1 OFFSET ?))`,
			c.UserID, h, now.Unix(), c.UserID, h, MaxHandoverCodes-1); err != nil {
			return fmt.Errorf("drop the oldest hand-over codes: %w", err)
		}
		return nil
	})
}

// TakeHandoverCode uses code up, atomically and once: its first presentation spends it,
// whatever refuses the request afterwards (a bridge spends any code it is shown before it
// checks anything else). It answers what the code is bound to when the code was unused and
// unexpired and its host session is still live; otherwise ErrCodeRefused. The caller checks
// the binding (Matches).
func (s *Store) TakeHandoverCode(ctx context.Context, code string) (*HandoverCode, error) {
	now := s.now().Unix()
	var c HandoverCode
	var exp int64
	err := s.db.QueryRowContext(ctx, `UPDATE handover_codes SET used_at = ? WHERE code_hash = ? AND used_at = 0
		RETURNING user_id, session_id, origin, state_hash, expires_at`, now, hashToken(code)).Scan(&c.UserID, &c.SessionID, &c.Origin, &c.StateHash, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w (unknown or used)", ErrCodeRefused)
	}
	if err != nil {
		return nil, fmt.Errorf("take hand-over code: %w", err)
	}
	if exp <= now {
		return nil, fmt.Errorf("%w (expired)", ErrCodeRefused)
	}
	var live int
	err = s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions sess `+sessionPerson("sess", false)+
		` WHERE sess.id = ? AND sess.user_id = ? AND `+sessionLive("sess", false),
		c.SessionID, c.UserID, now).Scan(&live)
	if err != nil {
		return nil, fmt.Errorf("take hand-over code: read its session: %w", err)
	}
	if live == 0 {
		return nil, fmt.Errorf("%w (its host session ended)", ErrCodeRefused)
	}
	return &c, nil
}

// Matches is nil when a taken code is for origin and the bridge's stateHash, else
// ErrCodeRefused.
func (c *HandoverCode) Matches(origin, stateHash string) error {
	switch {
	case c.Origin != origin:
		return fmt.Errorf("%w (another origin)", ErrCodeRefused)
	case subtle.ConstantTimeCompare([]byte(c.StateHash), []byte(stateHash)) != 1:
		return fmt.Errorf("%w (another state)", ErrCodeRefused)
	}
	return nil
}
