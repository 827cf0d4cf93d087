package store

import (
	"context"
	"database/sql"
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
	// ActiveAt is when it starts signing (published before: a rotation's lead); zero: at once.
	ActiveAt  time.Time
	RetiredAt time.Time // zero while active
}

// PutSigningKey stores a new key.
func (s *Store) PutSigningKey(ctx context.Context, k SigningKey) error {
	_, err := s.execChanging(ctx, SigningKeys, `INSERT INTO oidc_keys (id, alg, private_enc, created_at, active_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Alg, s.seal.Seal(k.PrivatePEM), s.now().Unix(), s.activeAt(k))
	return err
}

// activeAt is when k signs from, as stored.
func (s *Store) activeAt(k SigningKey) int64 {
	if k.ActiveAt.IsZero() {
		return s.now().Unix()
	}
	return k.ActiveAt.Unix()
}

// FirstSigningKey stores k unless alg has a key that is not retired: replicas starting
// together on a new database keep one first key. It reports whether k was stored.
func (s *Store) FirstSigningKey(ctx context.Context, k SigningKey) (bool, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := s.txExec(ctx, tx, `INSERT INTO oidc_keys (id, alg, private_enc, created_at, active_at)
			SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM oidc_keys WHERE alg = ? AND (retired_at = 0 OR retired_at > ?))`,
			k.ID, k.Alg, s.seal.Seal(k.PrivatePEM), s.now().Unix(), s.activeAt(k), k.Alg, s.now().Unix())
		if err != nil {
			return err
		}
		if n, _ = r.RowsAffected(); n > 0 {
			return s.changed(ctx, tx, SigningKeys)
		}
		return nil
	})
	if err == nil && n > 0 {
		s.changes.Notify(SigningKeys)
	}
	return n > 0, err
}

// RetireSigningKeys marks every key of alg but keep that is not retired as retired now,
// waiting ones too: ImportKey's key signs at once, alone.
func (s *Store) RetireSigningKeys(ctx context.Context, alg, keep string) error {
	_, err := s.execChanging(ctx, SigningKeys, `UPDATE oidc_keys SET retired_at = ? WHERE alg = ? AND id != ? AND retired_at = 0`,
		s.now().Unix(), alg, keep)
	return err
}

// RetireSigningKeysAt marks every key of alg but keep that is not retired as retired at at
// (in the future: when keep starts signing), except keys due to sign after keep (of those
// due at the same time, a greater id): of rotations run at once, the one due last wins,
// rather than each retiring the other's key.
func (s *Store) RetireSigningKeysAt(ctx context.Context, alg, keep string, at time.Time) error {
	_, err := s.execChanging(ctx, SigningKeys, `UPDATE oidc_keys SET retired_at = ? WHERE alg = ? AND id != ? AND retired_at = 0
		AND (active_at < ? OR active_at = ? AND id < ?)`, at.Unix(), alg, keep, at.Unix(), at.Unix(), keep)
	return err
}

// SigningKeys lists keys retired after since (and the active ones), newest first.
func (s *Store) SigningKeys(ctx context.Context, since time.Time) ([]SigningKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, alg, private_enc, created_at, active_at, retired_at FROM oidc_keys
		WHERE retired_at = 0 OR retired_at > ? ORDER BY created_at DESC, id DESC`, since.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var enc []byte
		var created, active, retired int64
		if err := rows.Scan(&k.ID, &k.Alg, &enc, &created, &active, &retired); err != nil {
			return nil, err
		}
		if k.PrivatePEM, err = s.seal.Open(enc); err != nil {
			return nil, err
		}
		k.CreatedAt, k.ActiveAt = time.Unix(created, 0), time.Unix(max(active, created), 0)
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
	return s.openHex(v)
}

// openHex opens a sealed value kept as hex.
func (s *Store) openHex(v string) ([]byte, error) {
	b, err := hex.DecodeString(v)
	if err != nil {
		return nil, err
	}
	return s.seal.Open(b)
}

// SecretMetaOnce stores value encrypted under key unless a value is there already, and
// answers the value kept: replicas starting together all get the first one's.
func (s *Store) SecretMetaOnce(ctx context.Context, key string, value []byte) ([]byte, error) {
	v, err := s.MetaOnce(ctx, key, hex.EncodeToString(s.seal.Seal(value)))
	if err != nil {
		return nil, err
	}
	return s.openHex(v)
}

// SetSecretMeta writes a meta value encrypted.
func (s *Store) SetSecretMeta(ctx context.Context, key string, value []byte) error {
	return s.SetMeta(ctx, key, hex.EncodeToString(s.seal.Seal(value)))
}
