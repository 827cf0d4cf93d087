package store

import (
	"context"
	"fmt"
)

// LiveSessions are the live sessions by kind, for the metrics.
type LiveSessions struct {
	// Host are the host's signed-in sessions (a person's, or the admin's); a visitor's
	// anonymous session is not counted.
	Host int
	// Forward are the forward-auth sessions.
	Forward int
}

// CountLiveSessions counts the live sessions (live.go) of each kind, in one statement on
// the read handle.
func (s *Store) CountLiveSessions(ctx context.Context) (LiveSessions, error) {
	now := s.now().Unix()
	var n LiveSessions
	err := s.read.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM sessions sess `+sessionPerson("sess", true)+`
			WHERE (sess.user_id IS NOT NULL OR sess.admin = 1) AND `+sessionLive("sess", true)+`),
		(SELECT COUNT(*) FROM forward_sessions f `+sessionPerson("f", false)+` WHERE `+sessionLive("f", false)+`)`,
		now, now).Scan(&n.Host, &n.Forward)
	if err != nil {
		return LiveSessions{}, fmt.Errorf("count live sessions: %w", err)
	}
	return n, nil
}
