package store

import (
	"context"
	"fmt"
	"time"
)

// Event retention: events older than EventsKeep go, and only the newest EventsMax stay
// (anonymous traffic writes refusals, so the table must not grow without bound).
const (
	EventsKeep = 90 * 24 * time.Hour
	EventsMax  = 200000
)

// Purge deletes every row past its own expiry: sessions (forward-auth ones too), login
// states, authorization requests, hand-over codes, code tombstones (kept for the code's life plus a margin,
// so a replayed code still revokes its grant), access tokens, refresh token families whose
// last token expired (each row once the access token it holds expired too), guess counters past their window (and beyond MaxGuessKeys, the
// lowest counts), and events past their retention. It answers how many rows went.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	now := s.now().Unix()
	queries := []struct {
		what string
		q    string
		args []any
	}{
		{"login states", `DELETE FROM login_states WHERE expires_at <= ?`, []any{now}},
		{"sessions", `DELETE FROM sessions WHERE expires_at <= ?`, []any{now}},
		{"forward-auth sessions", `DELETE FROM forward_sessions WHERE expires_at <= ?`, []any{now}},
		{"authorization requests", `DELETE FROM oidc_auth_requests WHERE expires_at <= ?`, []any{now}},
		{"hand-over codes", `DELETE FROM handover_codes WHERE expires_at <= ?`, []any{now}},
		{"code tombstones", `DELETE FROM oidc_codes WHERE expires_at <= ?`, []any{now}},
		{"access tokens", `DELETE FROM oidc_tokens WHERE expires_at <= ?`, []any{now}},
		{"refresh tokens", `DELETE FROM oidc_refresh WHERE expires_at <= ? AND access_expires <= ? AND family_id NOT IN
			(SELECT family_id FROM oidc_refresh WHERE expires_at > ?)`, []any{now, now, now}},
		{"old events", `DELETE FROM events WHERE at <= ?`, []any{now - int64(EventsKeep/time.Second)}},
		{"guess counters", `DELETE FROM attempts WHERE expires_at <= ?`, []any{now}},
		{"guess counters over the limit", `DELETE FROM attempts WHERE key IN (SELECT key FROM attempts ORDER BY count DESC, expires_at DESC, key LIMIT -1 OFFSET ?)`,
			[]any{MaxGuessKeys}},
		{"events over the limit", `DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)`, []any{EventsMax}},
	}
	var total int64
	for _, q := range queries {
		r, err := s.db.ExecContext(ctx, q.q, q.args...)
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", q.what, err)
		}
		n, _ := r.RowsAffected()
		total += n
	}
	return total, nil
}
