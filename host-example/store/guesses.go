package store

import (
	"context"
	"fmt"
	"time"
)

// MaxGuessKeys bounds the guess counters kept (anonymous traffic makes them); Purge drops
// the ones that expire first beyond it.
const MaxGuessKeys = 100000

// ClaimGuess counts one guess under key before it is checked, unless max guesses were
// counted within the current window (window long, from the first of them): true when it was
// counted. Counting before checking makes guesses sent at once count as if sent in turn.
// The counters are in the database, so replicas share them; ForgiveGuess takes back a guess
// that was right.
func (s *Store) ClaimGuess(ctx context.Context, key string, max int, window time.Duration) (bool, error) {
	now := s.now()
	r, err := s.db.ExecContext(ctx, `INSERT INTO attempts (key, count, expires_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET count = CASE WHEN attempts.expires_at <= ? THEN 1 ELSE attempts.count + 1 END,
		expires_at = CASE WHEN attempts.expires_at <= ? THEN excluded.expires_at ELSE attempts.expires_at END
		WHERE attempts.expires_at <= ? OR attempts.count < ?`, key, now.Add(window).Unix(), now.Unix(), now.Unix(), now.Unix(), max)
	if err != nil {
		return false, fmt.Errorf("count a guess: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// ForgiveGuess takes back one guess counted under key (it was right).
func (s *Store) ForgiveGuess(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE attempts SET count = count - 1 WHERE key = ? AND count > 0`, key)
	return err
}

// Guesses is how many guesses are counted under key in its current window.
func (s *Store) Guesses(ctx context.Context, key string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(count), 0) FROM attempts WHERE key = ? AND expires_at > ?`, key, s.now().Unix()).Scan(&n)
	return n, err
}
