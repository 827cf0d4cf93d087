package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// OIDCClient is an application registered with the OpenID Connect provider.
type OIDCClient struct {
	ID           string
	Name         string
	SecretSHA256 string // hex; empty for a public client
	Public       bool
	RedirectURIs []string
	// PostLogoutURIs are the exact post_logout_redirect_uri values accepted.
	PostLogoutURIs []string
	GrantTypes     []string
	// AllowedGroups, when not empty, are the groups of which a user must be in one.
	AllowedGroups []string
	// ReleaseAttributes are the extra mapped attributes released to this client.
	ReleaseAttributes []string
	// Origin is "ui" (admin page) or "file" (-oidc-clients, read-only in the UI).
	Origin    string
	CreatedAt time.Time
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// PutOIDCClient creates or replaces a client.
func (s *Store) PutOIDCClient(ctx context.Context, c OIDCClient) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_clients (id, name, secret_sha256, public, redirect_uris, post_logout_uris, grant_types,
		allowed_groups, release_attributes, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_sha256 = excluded.secret_sha256, public = excluded.public,
		redirect_uris = excluded.redirect_uris, post_logout_uris = excluded.post_logout_uris, grant_types = excluded.grant_types,
		allowed_groups = excluded.allowed_groups, release_attributes = excluded.release_attributes, origin = excluded.origin`,
		c.ID, c.Name, c.SecretSHA256, c.Public, jsonList(c.RedirectURIs), jsonList(c.PostLogoutURIs), jsonList(c.GrantTypes),
		jsonList(c.AllowedGroups), jsonList(c.ReleaseAttributes), c.Origin, s.now().Unix())
	s.clients.Delete(c.ID)
	return err
}

const clientCols = `id, name, secret_sha256, public, redirect_uris, post_logout_uris, grant_types, allowed_groups, release_attributes, origin, created_at`

func scanClient(row interface{ Scan(...any) error }) (*OIDCClient, error) {
	var c OIDCClient
	var ru, pl, gt, ag, ra string
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.SecretSHA256, &c.Public, &ru, &pl, &gt, &ag, &ra, &c.Origin, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	for p, s := range map[*[]string]string{&c.RedirectURIs: ru, &c.PostLogoutURIs: pl, &c.GrantTypes: gt, &c.AllowedGroups: ag, &c.ReleaseAttributes: ra} {
		_ = json.Unmarshal([]byte(s), p)
	}
	c.CreatedAt = time.Unix(created, 0)
	return &c, nil
}

// OIDCClientByID reads a client (from memory after the first read: every token request asks
// several times; changes through this store clear the copy at once).
func (s *Store) OIDCClientByID(ctx context.Context, id string) (*OIDCClient, error) {
	if c, ok := s.clients.Load(id); ok {
		cp := *c.(*OIDCClient)
		return &cp, nil
	}
	c, err := scanClient(s.read.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	cp := *c
	s.clients.Store(id, &cp)
	return c, nil
}

// OIDCClients lists the clients by name.
func (s *Store) OIDCClients(ctx context.Context) ([]*OIDCClient, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OIDCClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteOIDCClient removes a client and ends its tokens.
func (s *Store) DeleteOIDCClient(ctx context.Context, id string) error {
	defer s.clients.Delete(id)
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM oidc_clients WHERE id = ?`, `UPDATE oidc_tokens SET revoked = 1 WHERE client_id = ?`,
			`UPDATE oidc_refresh SET revoked = 1 WHERE client_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// tx runs fn in a write transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// AuthRequest is an OpenID Connect authorization request in progress; Data is the
// provider's own record of it.
type AuthRequest struct {
	ID       string
	ClientID string
	Data     json.RawMessage
	UserID   int64
	AuthTime time.Time
	Done     bool
	// CodeHash is set once a code was issued for it.
	CodeHash string
	// BindingHash is the hash of the value in the starting browser's binding cookie.
	BindingHash string
	// ClientKey names who started it (a hash of the signed-in user or the client address), for
	// the bounds of BoundOpenAuthRequests.
	ClientKey string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateAuthRequest stores a new authorization request.
func (s *Store) CreateAuthRequest(ctx context.Context, ar AuthRequest) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, data, binding_hash, client_key, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ar.ID, ar.ClientID, string(ar.Data), ar.BindingHash, ar.ClientKey, s.now().Unix(), ar.ExpiresAt.Unix())
	return err
}

// BoundOpenAuthRequests bounds the authorization requests nobody has completed yet (what
// anonymous traffic can fill): each client keeps its newest perClient, and past total the
// store drops, in one batch down to nine tenths of total, the rows that are furthest down
// their own client's list first (a client with many open requests loses its oldest before a
// client with one loses that one). It answers how many rows went.
func (s *Store) BoundOpenAuthRequests(ctx context.Context, clientKey string, perClient, total int) (int64, error) {
	r, err := s.db.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id IN (SELECT id FROM oidc_auth_requests
		WHERE client_key = ? AND done = 0 ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)`, clientKey, perClient)
	if err != nil {
		return 0, fmt.Errorf("bound a client's open authorization requests: %w", err)
	}
	dropped, _ := r.RowsAffected()
	var open int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_auth_requests WHERE done = 0`).Scan(&open); err != nil {
		return dropped, fmt.Errorf("count open authorization requests: %w", err)
	}
	if open <= total {
		return dropped, nil
	}
	r, err = s.db.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id IN (SELECT id FROM
		(SELECT id, created_at, ROW_NUMBER() OVER (PARTITION BY client_key ORDER BY created_at DESC, id DESC) AS rank
		FROM oidc_auth_requests WHERE done = 0) ORDER BY rank DESC, created_at ASC LIMIT ?)`, open-total*9/10)
	if err != nil {
		return dropped, fmt.Errorf("bound open authorization requests: %w", err)
	}
	n, _ := r.RowsAffected()
	return dropped + n, nil
}

// CountOpenAuthRequests counts the authorization requests nobody has completed yet.
func (s *Store) CountOpenAuthRequests(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_auth_requests WHERE done = 0`).Scan(&n)
	return n, err
}

const authRequestCols = `id, client_id, data, COALESCE(user_id, 0), auth_time, done, COALESCE(code_hash, ''), binding_hash, created_at, expires_at`

func (s *Store) scanAuthRequest(row *sql.Row) (*AuthRequest, error) {
	var ar AuthRequest
	var data string
	var at, created, exp int64
	if err := row.Scan(&ar.ID, &ar.ClientID, &data, &ar.UserID, &at, &ar.Done, &ar.CodeHash, &ar.BindingHash, &created, &exp); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	ar.Data, ar.AuthTime, ar.CreatedAt, ar.ExpiresAt = json.RawMessage(data), time.Unix(at, 0), time.Unix(created, 0), time.Unix(exp, 0)
	if s.now().After(ar.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &ar, nil
}

// AuthRequestByID reads a live authorization request.
func (s *Store) AuthRequestByID(ctx context.Context, id string) (*AuthRequest, error) {
	return s.scanAuthRequest(s.db.QueryRowContext(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests WHERE id = ?`, id))
}

// AuthRequestByCode reads the request a code was issued for. A code already used (its
// tombstone) revokes every token of its grant and answers ErrCodeReused.
func (s *Store) AuthRequestByCode(ctx context.Context, codeHash string) (*AuthRequest, error) {
	var grant string
	var used int64
	err := s.db.QueryRowContext(ctx, `SELECT grant_id, used_at FROM oidc_codes WHERE code_hash = ?`, codeHash).Scan(&grant, &used)
	if err == nil && used != 0 {
		if err := s.RevokeGrant(ctx, grant); err != nil {
			return nil, err
		}
		return nil, ErrCodeReused
	}
	return s.scanAuthRequest(s.db.QueryRowContext(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests WHERE code_hash = ?`, codeHash))
}

// ErrCodeReused is a second use of an authorization code (its grant is now revoked).
var ErrCodeReused = errors.New("authorization code already used: grant revoked")

// CompleteAuthRequest records who signed in for an authorization request, and when: once
// (a request already completed answers ErrNotFound, so a second browser cannot change the user).
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, userID int64, authTime time.Time) error {
	r, err := s.db.ExecContext(ctx, `UPDATE oidc_auth_requests SET user_id = ?, auth_time = ?, done = 1 WHERE id = ? AND done = 0 AND expires_at > ?`,
		userID, authTime.Unix(), id, s.now().Unix())
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SaveAuthCode binds an issued code (its hash) to the request, once.
func (s *Store) SaveAuthCode(ctx context.Context, id, codeHash string, exp time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		r, err := s.txExec(ctx, tx, `UPDATE oidc_auth_requests SET code_hash = ?, expires_at = ? WHERE id = ? AND code_hash IS NULL AND done = 1`,
			codeHash, exp.Unix(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = s.txExec(ctx, tx, `INSERT INTO oidc_codes (code_hash, grant_id, expires_at) VALUES (?, ?, ?)`, codeHash, id, exp.Add(time.Hour).Unix())
		return err
	})
}

// ClaimCode marks a code used, atomically: exactly one caller gets true. A caller that
// loses the race revokes the grant (a code used twice).
func (s *Store) ClaimCode(ctx context.Context, codeHash string) (bool, error) {
	r, err := s.db.ExecContext(ctx, `UPDATE oidc_codes SET used_at = ? WHERE code_hash = ? AND used_at = 0`, s.now().Unix(), codeHash)
	if err != nil {
		return false, err
	}
	if n, _ := r.RowsAffected(); n == 1 {
		return true, nil
	}
	var grant string
	if err := s.db.QueryRowContext(ctx, `SELECT grant_id FROM oidc_codes WHERE code_hash = ?`, codeHash).Scan(&grant); err == nil {
		return false, s.RevokeGrant(ctx, grant)
	}
	return false, nil
}

// DeleteAuthRequest ends an authorization request (the code's tombstone stays).
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id = ?`, id)
	return err
}

// RevokeGrant revokes every access and refresh token issued from one authorization.
func (s *Store) RevokeGrant(ctx context.Context, grantID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`UPDATE oidc_tokens SET revoked = 1 WHERE grant_id = ?`, `UPDATE oidc_refresh SET revoked = 1 WHERE grant_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, grantID); err != nil {
				return err
			}
		}
		return nil
	})
}

// AccessToken is an issued (opaque) access token.
type AccessToken struct {
	ID       string
	GrantID  string
	FamilyID string
	ClientID string
	UserID   int64
	Scopes   []string
	AuthTime time.Time
	Expires  time.Time
}

// PutAccessToken stores an access token.
func (s *Store) PutAccessToken(ctx context.Context, t AccessToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_tokens (id, grant_id, family_id, client_id, user_id, scopes, auth_time, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.GrantID, t.FamilyID, t.ClientID, t.UserID, jsonList(t.Scopes), t.AuthTime.Unix(), t.Expires.Unix())
	return err
}

// LiveAccessToken reads an access token that is unexpired, not revoked, of an enabled
// user of an enabled source.
func (s *Store) LiveAccessToken(ctx context.Context, id string) (*AccessToken, error) {
	var t AccessToken
	var scopes string
	var at, exp int64
	err := s.read.QueryRowContext(ctx, `SELECT t.id, t.grant_id, t.family_id, t.client_id, t.user_id, t.scopes, t.auth_time, t.expires_at
		FROM oidc_tokens t JOIN users u ON u.id = t.user_id JOIN sources src ON src.id = u.source_id
		WHERE t.id = ? AND t.revoked = 0 AND t.expires_at > ? AND u.disabled = 0 AND src.enabled = 1`, id, s.now().Unix()).
		Scan(&t.ID, &t.GrantID, &t.FamilyID, &t.ClientID, &t.UserID, &scopes, &at, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(scopes), &t.Scopes)
	t.AuthTime, t.Expires = time.Unix(at, 0), time.Unix(exp, 0)
	return &t, nil
}

// RevokeAccessToken revokes one access token.
func (s *Store) RevokeAccessToken(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE oidc_tokens SET revoked = 1 WHERE id = ?`, id)
	return err
}

// RefreshToken is an issued refresh token, one of a family that rotation continues.
type RefreshToken struct {
	Hash     string
	ID       string
	FamilyID string
	GrantID  string
	ClientID string
	UserID   int64
	Scopes   []string
	AMR      []string
	AuthTime time.Time
	Expires  time.Time
	Rotated  bool
	Revoked  bool
}

// PutRefreshToken stores a refresh token (its hash).
func (s *Store) PutRefreshToken(ctx context.Context, t RefreshToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, amr, auth_time, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.Hash, t.ID, t.FamilyID, t.GrantID, t.ClientID, t.UserID, jsonList(t.Scopes), jsonList(t.AMR),
		t.AuthTime.Unix(), t.Expires.Unix())
	return err
}

// RefreshTokenByHash reads a refresh token, rotated or revoked ones too (for reuse detection).
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error) {
	var t RefreshToken
	var scopes, amr string
	var at, exp, rotated int64
	err := s.db.QueryRowContext(ctx, `SELECT r.hash, r.id, r.family_id, r.grant_id, r.client_id, r.user_id, r.scopes, r.amr, r.auth_time,
		r.expires_at, r.rotated_at, r.revoked OR u.disabled OR NOT src.enabled
		FROM oidc_refresh r JOIN users u ON u.id = r.user_id JOIN sources src ON src.id = u.source_id WHERE r.hash = ?`, hash).
		Scan(&t.Hash, &t.ID, &t.FamilyID, &t.GrantID, &t.ClientID, &t.UserID, &scopes, &amr, &at, &exp, &rotated, &t.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(scopes), &t.Scopes)
	_ = json.Unmarshal([]byte(amr), &t.AMR)
	t.AuthTime, t.Expires, t.Rotated = time.Unix(at, 0), time.Unix(exp, 0), rotated != 0
	return &t, nil
}

// ErrRefreshReused is a rotated refresh token presented again (its family is now revoked).
var ErrRefreshReused = errors.New("refresh token reused: family revoked")

// RotateRefreshToken replaces the token of hash by next, atomically (compare and swap):
// if hash was already rotated or revoked, the whole family is revoked and ErrRefreshReused returned.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string, next RefreshToken, access AccessToken) error {
	var reused bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := s.txExec(ctx, tx, `UPDATE oidc_refresh SET rotated_at = ? WHERE hash = ? AND rotated_at = 0 AND revoked = 0`, s.now().Unix(), hash)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			reused = true
			return nil
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, amr, auth_time, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, next.Hash, next.ID, next.FamilyID, next.GrantID, next.ClientID, next.UserID, jsonList(next.Scopes),
			jsonList(next.AMR), next.AuthTime.Unix(), next.Expires.Unix()); err != nil {
			return err
		}
		_, err = s.txExec(ctx, tx, `INSERT INTO oidc_tokens (id, grant_id, family_id, client_id, user_id, scopes, auth_time, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, access.ID, access.GrantID, access.FamilyID, access.ClientID, access.UserID, jsonList(access.Scopes),
			access.AuthTime.Unix(), access.Expires.Unix())
		return err
	})
	if err != nil {
		return err
	}
	if reused {
		if err := s.RevokeFamily(ctx, next.FamilyID); err != nil {
			return err
		}
		return ErrRefreshReused
	}
	return nil
}

// RevokeFamily revokes every refresh token of a family and the access tokens issued with them.
func (s *Store) RevokeFamily(ctx context.Context, familyID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`UPDATE oidc_refresh SET revoked = 1 WHERE family_id = ?`, `UPDATE oidc_tokens SET revoked = 1 WHERE family_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, familyID); err != nil {
				return err
			}
		}
		return nil
	})
}

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
	return err
}

// RetireSigningKeys marks every active key of alg but keep as retired now.
func (s *Store) RetireSigningKeys(ctx context.Context, alg, keep string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE oidc_keys SET retired_at = ? WHERE alg = ? AND id != ? AND retired_at = 0`, s.now().Unix(), alg, keep)
	return err
}

// SigningKeys lists keys retired after since (and the active ones), newest first.
func (s *Store) SigningKeys(ctx context.Context, since time.Time) ([]SigningKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, alg, private_enc, created_at, retired_at FROM oidc_keys
		WHERE retired_at = 0 OR retired_at > ? ORDER BY created_at DESC, rowid DESC`, since.Unix())
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
