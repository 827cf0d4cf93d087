package store

import (
	"context"
	"fmt"
	"time"
)

// Kinds of a person's live session.
const (
	SessionHost    = "host"    // signed in to this site in a browser
	SessionForward = "forward" // the forward-auth cookie for the protected apps
	SessionApp     = "app"     // an OpenID Connect application's grant (tokens)
)

// LiveSession is one of a person's live sessions: its kind, the application's client id for
// an app's grant, and since when (for a grant: its newest sign-in) and until when it lasts.
type LiveSession struct {
	Kind, ClientID string
	Since, Until   time.Time
}

// LiveSessions lists userID's live sessions, newest first within each kind: this site's (not
// the admin's), forward-auth's, and one grant per application (its unrevoked, unexpired
// access or refresh tokens).
func (s *Store) LiveSessions(ctx context.Context, userID int64) ([]LiveSession, error) {
	now := s.now().Unix()
	rows, err := s.read.QueryContext(ctx, `
		SELECT 'host', '', created_at, expires_at FROM sessions WHERE user_id = ? AND admin = 0 AND expires_at > ?
		UNION ALL SELECT 'forward', '', created_at, expires_at FROM forward_sessions WHERE user_id = ? AND expires_at > ?
		UNION ALL SELECT 'app', client_id, MAX(auth_time), MAX(expires_at) FROM (
			SELECT client_id, auth_time, expires_at FROM oidc_tokens WHERE user_id = ? AND revoked = 0 AND expires_at > ?
			UNION ALL SELECT client_id, auth_time, expires_at FROM oidc_refresh WHERE user_id = ? AND revoked = 0 AND expires_at > ?)
			GROUP BY client_id
		ORDER BY 1, 3 DESC`, userID, now, userID, now, userID, now, userID, now)
	if err != nil {
		return nil, fmt.Errorf("live sessions: %w", err)
	}
	defer rows.Close()
	var out []LiveSession
	for rows.Next() {
		var ls LiveSession
		var since, until int64
		if err := rows.Scan(&ls.Kind, &ls.ClientID, &since, &until); err != nil {
			return nil, fmt.Errorf("live sessions: %w", err)
		}
		ls.Since, ls.Until = time.Unix(since, 0), time.Unix(until, 0)
		out = append(out, ls)
	}
	return out, rows.Err()
}
