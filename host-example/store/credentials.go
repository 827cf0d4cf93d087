package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Credential is an upstream credential a login handed over, sealed with the host key at rest.
type Credential struct {
	Kind  string
	Value string
	// Stamp is a random id of this stored copy: a new login gives a new one.
	Stamp string
}

// String never shows the value.
func (c Credential) String() string { return c.Kind + ":<redacted>" }

// replaceCredentials replaces a user's stored credentials with cs, in the login's transaction.
func (s *Store) replaceCredentials(ctx context.Context, tx *sql.Tx, userID int64, cs []Credential) error {
	if _, err := s.txExec(ctx, tx, `DELETE FROM user_credentials WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("replace credentials: %w", err)
	}
	for _, c := range cs {
		if c.Kind == "" || c.Value == "" {
			continue
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO user_credentials (user_id, kind, value_enc, stamp, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, kind) DO UPDATE SET value_enc = excluded.value_enc, stamp = excluded.stamp, created_at = excluded.created_at`,
			userID, c.Kind, s.seal.Seal([]byte(c.Value)), RandomID(16), s.now().Unix()); err != nil {
			return fmt.Errorf("store a credential: %w", err)
		}
	}
	return nil
}

// UserCredential is a user's stored credential of kind (ErrNotFound: none).
func (s *Store) UserCredential(ctx context.Context, userID int64, kind string) (*Credential, error) {
	var sealed []byte
	c := Credential{Kind: kind}
	err := s.read.QueryRowContext(ctx, `SELECT value_enc, stamp FROM user_credentials WHERE user_id = ? AND kind = ?`, userID, kind).Scan(&sealed, &c.Stamp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read a credential: %w", err)
	}
	plain, err := s.seal.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open a credential: %w", err)
	}
	c.Value = string(plain)
	return &c, nil
}

// CredentialStamp is the stamp of a user's stored credential of kind ("" when none), without opening it.
func (s *Store) CredentialStamp(ctx context.Context, userID int64, kind string) (string, error) {
	var stamp string
	err := s.read.QueryRowContext(ctx, `SELECT stamp FROM user_credentials WHERE user_id = ? AND kind = ?`, userID, kind).Scan(&stamp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return stamp, err
}

// UserCredentials are all of a user's stored credentials (to sign them out upstream before
// they are deleted).
func (s *Store) UserCredentials(ctx context.Context, userID int64) ([]Credential, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT kind, value_enc, stamp FROM user_credentials WHERE user_id = ? ORDER BY kind`, userID)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()
	var out []Credential
	for rows.Next() {
		var c Credential
		var sealed []byte
		if err := rows.Scan(&c.Kind, &sealed, &c.Stamp); err != nil {
			return nil, err
		}
		plain, err := s.seal.Open(sealed)
		if err != nil {
			return nil, fmt.Errorf("open a credential: %w", err)
		}
		c.Value = string(plain)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteUserCredentials deletes a user's stored credentials of the kinds named (all when none).
func (s *Store) DeleteUserCredentials(ctx context.Context, userID int64, kinds ...string) error {
	if len(kinds) == 0 {
		_, err := s.db.ExecContext(ctx, `DELETE FROM user_credentials WHERE user_id = ?`, userID)
		return err
	}
	for _, k := range kinds {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM user_credentials WHERE user_id = ? AND kind = ?`, userID, k); err != nil {
			return err
		}
	}
	return nil
}

// DeleteSourceCredentials deletes the stored credentials of kind of every user of a source
// and answers how many there were.
func (s *Store) DeleteSourceCredentials(ctx context.Context, sourceID, kind string) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM user_credentials WHERE kind = ? AND user_id IN (SELECT id FROM users WHERE source_id = ?)`, kind, sourceID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CountCredentials counts stored credentials of kind (tests and the admin's figures).
func (s *Store) CountCredentials(ctx context.Context, kind string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_credentials WHERE kind = ?`, kind).Scan(&n)
	return n, err
}

// SetRevalidation replaces a user's stored re-validation state (a plugin asked to).
func (s *Store) SetRevalidation(ctx context.Context, userID int64, state []byte) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET reval_enc = ? WHERE id = ?`, s.seal.Seal(state), userID)
	return err
}
