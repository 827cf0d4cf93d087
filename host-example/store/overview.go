package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// What the admin's home page counts (events of the last day, the last sign-in of a source),
// and the deletion of a source with everything of its users.

// EventCounts counts the events since a time by source id and kind.
func (s *Store) EventCounts(ctx context.Context, since time.Time) (map[string]map[EventKind]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT source_id, kind, COUNT(*) FROM events WHERE at >= ? GROUP BY source_id, kind`, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	defer rows.Close()
	out := map[string]map[EventKind]int{}
	for rows.Next() {
		var src string
		var kind EventKind
		var n int
		if err := rows.Scan(&src, &kind, &n); err != nil {
			return nil, err
		}
		if out[src] == nil {
			out[src] = map[EventKind]int{}
		}
		out[src][kind] = n
	}
	return out, rows.Err()
}

// LastEvent is the newest event of a kind of a source; ErrNotFound when there is none.
func (s *Store) LastEvent(ctx context.Context, sourceID string, kind EventKind) (*Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, source_id, kind, subject, name, reason, detail FROM events
		WHERE source_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`, sourceID, kind)
	if err != nil {
		return nil, fmt.Errorf("read the last event: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, ErrNotFound
	}
	return &evs[0], nil
}

// SourceUsage is what a source's deletion would end.
type SourceUsage struct {
	Users, Sessions, ForwardSessions, Grants, Credentials int
}

// SourceUsage counts a source's users, their live sessions (host, forward-auth), their
// OpenID Connect grants with a live token and their kept credentials.
func (s *Store) SourceUsage(ctx context.Context, sourceID string) (SourceUsage, error) {
	var u SourceUsage
	now := s.now().Unix()
	const users = `SELECT id FROM users WHERE source_id = ?`
	err := s.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE source_id = ?),
		(SELECT COUNT(*) FROM sessions WHERE expires_at > ? AND user_id IN (`+users+`)),
		(SELECT COUNT(*) FROM forward_sessions WHERE expires_at > ? AND user_id IN (`+users+`)),
		(SELECT COUNT(DISTINCT grant_id) FROM (SELECT grant_id, user_id FROM oidc_tokens WHERE revoked = 0 AND expires_at > ?
			UNION ALL SELECT grant_id, user_id FROM oidc_refresh WHERE revoked = 0 AND rotated_at = 0 AND expires_at > ?
			UNION ALL SELECT grant_id, user_id FROM oidc_refresh r WHERE `+liveAccessInRow+`) AS g WHERE user_id IN (`+users+`)),
		(SELECT COUNT(*) FROM user_credentials WHERE user_id IN (`+users+`))`,
		sourceID, now, sourceID, now, sourceID, now, now, now, sourceID, sourceID).
		Scan(&u.Users, &u.Sessions, &u.ForwardSessions, &u.Grants, &u.Credentials)
	if err != nil {
		return u, fmt.Errorf("count what a source has: %w", err)
	}
	return u, nil
}

// DeleteSource deletes a source, its users with their sessions, tokens, grants and kept
// credentials (DeleteUser), and its logins and admin actions under way, in one transaction;
// events stay, and so do the usernames' reservations. ErrNotFound when there is no such source.
func (s *Store) DeleteSource(ctx context.Context, id string) error {
	defer s.changes.Notify(AccessRevoked)
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := s.txQueryRow(ctx, tx, `SELECT 1 FROM sources WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("find the source: %w", err)
		}
		if err := s.deleteUsers(ctx, tx, `SELECT id FROM users WHERE source_id = ?`, id); err != nil {
			return err
		}
		if err := s.leaveDeletedSource(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM identities WHERE source_id = ?`, `DELETE FROM login_states WHERE source_id = ?`, `DELETE FROM source_renewals WHERE source_id = ?`, `DELETE FROM sources WHERE id = ?`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return fmt.Errorf("delete the source: %w", err)
			}
		}
		return nil
	})
}
