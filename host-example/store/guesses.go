package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MaxGuessKeys bounds the guess counters kept (anonymous traffic makes them); Purge drops
// the lowest counts beyond it (a counter near its limit, and the limit across all clients,
// outlast a flood of one-guess counters).
const MaxGuessKeys = 100000

// Guess is one guess counted (ClaimGuess): its key and the window it counts in.
type Guess struct {
	Key    string
	window int64 // the end of the window, as stored
}

// ClaimGuess counts one guess under key before it is checked, unless max guesses were
// counted within the current window (window long, from the first of them): nil when it was
// not counted. Counting before checking makes guesses sent at once count as if sent in turn.
// The counters are in the database, so replicas share them; ForgiveGuess takes back a guess
// that was right.
func (s *Store) ClaimGuess(ctx context.Context, key string, max int, window time.Duration) (*Guess, error) {
	now := s.now()
	g := &Guess{Key: key}
	err := s.db.QueryRowContext(ctx, `INSERT INTO attempts (key, count, expires_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET count = CASE WHEN attempts.expires_at <= ? THEN 1 ELSE attempts.count + 1 END,
		expires_at = CASE WHEN attempts.expires_at <= ? THEN excluded.expires_at ELSE attempts.expires_at END
		WHERE attempts.expires_at <= ? OR attempts.count < ? RETURNING expires_at`,
		key, now.Add(window).Unix(), now.Unix(), now.Unix(), now.Unix(), max).Scan(&g.window)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("count a guess: %w", err)
	}
	return g, nil
}

// ForgiveGuess takes back a guess ClaimGuess counted (it was right), in the window it was
// counted in only; a counter that falls to nothing goes.
func (s *Store) ForgiveGuess(ctx context.Context, g *Guess) error {
	if g == nil {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE attempts SET count = count - 1 WHERE key = ? AND expires_at = ? AND count > 0`, g.Key, g.window); err != nil {
			return fmt.Errorf("take back a guess: %w", err)
		}
		_, err := s.txExec(ctx, tx, `DELETE FROM attempts WHERE key = ? AND count <= 0`, g.Key)
		return err
	})
}

// Guesses is how many guesses are counted under key in its current window.
func (s *Store) Guesses(ctx context.Context, key string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(count), 0) FROM attempts WHERE key = ? AND expires_at > ?`, key, s.now().Unix()).Scan(&n)
	return n, err
}

// ForgetGuesses drops every guess counter whose key begins with prefix (a reset of the
// guesses of one door, e.g. "admin/").
func (s *Store) ForgetGuesses(ctx context.Context, prefix string) error {
	if prefix == "" {
		return errors.New("forget guesses: no prefix")
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM attempts WHERE substr(key, 1, ?) = ?`, len(prefix), prefix); err != nil {
		return fmt.Errorf("forget the guesses under %q: %w", prefix, err)
	}
	return nil
}
