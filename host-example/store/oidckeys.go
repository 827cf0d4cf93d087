package store

import (
	"context"
	"encoding/hex"
	"errors"
	"time"
)

// SigningKey is a provider signing key (the private key PEM, encrypted at rest).
type SigningKey struct {
	ID         string
	Alg        string
	PrivatePEM []byte
	CreatedAt  time.Time
	RetiredAt  time.Time // zero while active
}

// PutSigningKey stores a new key.
func (s *Store) PutSigningKey(ctx context.Context, k SigningKey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_keys (id, alg, private_enc, created_at) VALUES (?, ?, ?, ?)`,
		k.ID, k.Alg, s.seal.Seal(k.PrivatePEM), s.now().Unix())
	if err == nil {
		s.changes.Notify(SigningKeys)
	}
	return err
}

// RetireSigningKeys marks every active key of alg but keep as retired now.
func (s *Store) RetireSigningKeys(ctx context.Context, alg, keep string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE oidc_keys SET retired_at = ? WHERE alg = ? AND id != ? AND retired_at = 0`, s.now().Unix(), alg, keep)
	if err == nil {
		s.changes.Notify(SigningKeys)
	}
	return err
}

// SigningKeys lists keys retired after since (and the active ones), newest first.
func (s *Store) SigningKeys(ctx context.Context, since time.Time) ([]SigningKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, alg, private_enc, created_at, retired_at FROM oidc_keys
		WHERE retired_at = 0 OR retired_at > ? ORDER BY created_at DESC, id DESC`, since.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var enc []byte
		var created, retired int64
		if err := rows.Scan(&k.ID, &k.Alg, &enc, &created, &retired); err != nil {
			return nil, err
		}
		if k.PrivatePEM, err = s.seal.Open(enc); err != nil {
			return nil, err
		}
		k.CreatedAt = time.Unix(created, 0)
		if retired != 0 {
			k.RetiredAt = time.Unix(retired, 0)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SecretMeta reads a meta value stored encrypted (empty when missing).
func (s *Store) SecretMeta(ctx context.Context, key string) ([]byte, error) {
	v, err := s.Meta(ctx, key)
	if errors.Is(err, ErrNotFound) || v == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return nil, err
	}
	return s.seal.Open(b)
}

// SetSecretMeta writes a meta value encrypted.
func (s *Store) SetSecretMeta(ctx context.Context, key string, value []byte) error {
	return s.SetMeta(ctx, key, hex.EncodeToString(s.seal.Seal(value)))
}
