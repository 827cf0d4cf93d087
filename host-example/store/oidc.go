package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AuthRequest is an OpenID Connect authorization request in progress; Data is the
// provider's own record of it.
type AuthRequest struct {
	ID       string
	ClientID string
	Data     json.RawMessage
	UserID   int64
	// SessionID is the host session that completed it (its stored id): the code dies with it.
	SessionID string
	AuthTime  time.Time
	Done      bool
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
	return s.boundOpen(ctx, "oidc_auth_requests", "done = 0", clientKey, perClient, total)
}

// boundOpen bounds the open rows (those matching open) of table, which has id, client_key
// and created_at columns: clientKey's newest perClient stay, and past total, in one batch
// down to nine tenths of total, the rows furthest down their own client's list go first,
// the oldest of a rank first. It answers how many rows went.
func (s *Store) boundOpen(ctx context.Context, table, open, clientKey string, perClient, total int) (int64, error) {
	r, err := s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN (SELECT id FROM `+table+`
		WHERE client_key = ? AND `+open+` ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)`, clientKey, perClient)
	if err != nil {
		return 0, fmt.Errorf("bound a client's open rows of %s: %w", table, err)
	}
	dropped, _ := r.RowsAffected()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+open).Scan(&n); err != nil {
		return dropped, fmt.Errorf("count open rows of %s: %w", table, err)
	}
	if n <= total {
		return dropped, nil
	}
	r, err = s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN (SELECT id FROM
		(SELECT id, created_at, ROW_NUMBER() OVER (PARTITION BY client_key ORDER BY created_at DESC, id DESC) AS rank
		FROM `+table+` WHERE `+open+`) AS ranked ORDER BY rank DESC, created_at ASC LIMIT ?)`, n-total*9/10)
	if err != nil {
		return dropped, fmt.Errorf("bound open rows of %s: %w", table, err)
	}
	m, _ := r.RowsAffected()
	return dropped + m, nil
}

// CountOpenAuthRequests counts the authorization requests nobody has completed yet.
func (s *Store) CountOpenAuthRequests(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_auth_requests WHERE done = 0`).Scan(&n)
	return n, err
}

const authRequestCols = `id, client_id, data, COALESCE(user_id, 0), session_id, auth_time, done, COALESCE(code_hash, ''), binding_hash,
	created_at, expires_at`

func (s *Store) scanAuthRequest(row *sql.Row) (*AuthRequest, error) {
	var ar AuthRequest
	var data string
	var at, created, exp int64
	if err := row.Scan(&ar.ID, &ar.ClientID, &data, &ar.UserID, &ar.SessionID, &at, &ar.Done, &ar.CodeHash, &ar.BindingHash, &created, &exp); err != nil {
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

// CompleteAuthRequest records who signed in for an authorization request, in which host
// session (its stored id) and when: once (a request already completed answers ErrNotFound,
// so a second browser cannot change the user).
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, userID int64, sessionID string, authTime time.Time) error {
	r, err := s.db.ExecContext(ctx, `UPDATE oidc_auth_requests SET user_id = ?, session_id = ?, auth_time = ?, done = 1
		WHERE id = ? AND done = 0 AND expires_at > ?`, userID, sessionID, authTime.Unix(), id, s.now().Unix())
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

// CodeTokens are the tokens a code exchange issues: an access token alone (Access), or,
// when offline access was granted, a refresh token (the first of a new family) that holds
// the access token issued with it (Refresh). The zero value writes none.
type CodeTokens struct {
	Access  *AccessToken
	Refresh *RefreshToken
}

// ClaimCode marks a code used and stores the tokens it issues, in one transaction: exactly
// one caller gets true, and only while the access the code was minted under lasts: its user
// and the user's source enabled, and the host session that completed its request still live
// (signing that session out, signing out everywhere, disabling, deleting: each ends it). A
// code whose access ended is spent and answers ErrAccessEnded (turning the source on again
// does not revive it). A caller that loses the race revokes the grant (a code used twice).
//
// Why no token outlives an end of access that committed before the tokens were written
// (endAccess: Sign out everywhere, Disable; turning the source off alike): the claim's check
// of the session, user and source and the writing of the tokens are one write transaction,
// and the end of access is one too (it deletes the sessions, then revokes every token row of
// the user). With SQLite the one writer runs them one after the other: the end first leaves no
// session, so the claim fails and nothing is written; the claim first commits the tokens
// before the end starts, and the end's UPDATEs revoke them. With PostgreSQL both are
// SERIALIZABLE, so every interleaving ends as one of those two serial orders, or one side is
// refused with 40001 and tx runs it again against the new state (the claim then finds no
// session; the end then sees the tokens). The interleaving separate statements allowed (the
// claim reads the session, the end deletes it and revokes the rows it sees, the tokens are
// inserted after) is a cycle of read-write dependencies (the claim read the session the end
// deleted; the end read the user's tokens without the claim's new rows), which SSI refuses.
// The storetest check CodeClaimRacingEndOfAccess runs that interleaving (AfterClaim).
func (s *Store) ClaimCode(ctx context.Context, codeHash string, issue CodeTokens) (bool, error) {
	now := s.now().Unix()
	var won bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := s.txExec(ctx, tx, `UPDATE oidc_codes SET used_at = ? WHERE code_hash = ? AND used_at = 0 AND EXISTS (
		SELECT 1 FROM oidc_auth_requests ar JOIN sessions sess ON sess.id = ar.session_id AND sess.user_id = ar.user_id
		`+sessionPerson("sess", false)+`
		WHERE ar.code_hash = oidc_codes.code_hash AND ar.done = 1 AND `+sessionLive("sess", false)+`)`,
			now, codeHash, now)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			won = false
			return nil
		}
		won = true
		if f := s.afterClaim.Load(); f != nil {
			(*f)()
		}
		if issue.Access != nil {
			if err := s.insertAccessToken(ctx, tx, *issue.Access); err != nil {
				return fmt.Errorf("store the code's access token: %w", err)
			}
		}
		if issue.Refresh != nil {
			if err := s.insertRefreshToken(ctx, tx, *issue.Refresh); err != nil {
				return fmt.Errorf("store the code's refresh token: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("claim a code: %w", err)
	}
	if won {
		return true, nil
	}
	var grant string
	var used int64
	err = s.db.QueryRowContext(ctx, `SELECT grant_id, used_at FROM oidc_codes WHERE code_hash = ?`, codeHash).Scan(&grant, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read a code: %w", err)
	case used == 0:
		if _, err := s.db.ExecContext(ctx, `UPDATE oidc_codes SET used_at = ? WHERE code_hash = ? AND used_at = 0`, now, codeHash); err != nil {
			return false, fmt.Errorf("spend a code whose access ended: %w", err)
		}
		return false, ErrAccessEnded
	}
	return false, s.RevokeGrant(ctx, grant)
}

// AfterClaim sets a function ClaimCode calls inside its transaction between the claim and
// the writing of the tokens (tests run an end of access there); nil removes it.
func (s *Store) AfterClaim(f func()) {
	if f == nil {
		s.afterClaim.Store(nil)
		return
	}
	s.afterClaim.Store(&f)
}

// ErrAccessEnded is a code whose user, source or host session ended after it was minted.
var ErrAccessEnded = errors.New("the access this code was issued under has ended")

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
	return s.tx(ctx, func(tx *sql.Tx) error { return s.insertAccessToken(ctx, tx, t) })
}

// insertAccessToken stores an access token in tx.
func (s *Store) insertAccessToken(ctx context.Context, tx *sql.Tx, t AccessToken) error {
	_, err := s.txExec(ctx, tx, `INSERT INTO oidc_tokens (id, grant_id, family_id, client_id, user_id, scopes, auth_time, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.GrantID, t.FamilyID, t.ClientID, t.UserID, jsonList(t.Scopes), t.AuthTime.Unix(), t.Expires.Unix())
	return err
}

// LiveAccessToken reads an access token that is unexpired, not revoked, of an enabled
// user of an enabled source: one issued alone (oidc_tokens) or with a refresh token (in its
// row, live while that row's family is not revoked, even once the refresh token rotated).
func (s *Store) LiveAccessToken(ctx context.Context, id string) (*AccessToken, error) {
	var t AccessToken
	var scopes string
	var at, exp int64
	now := s.now().Unix()
	err := s.read.QueryRowContext(ctx, `SELECT t.id, t.grant_id, t.family_id, t.client_id, t.user_id, t.scopes, t.auth_time, t.expires_at
		FROM oidc_tokens t JOIN users u ON u.id = t.user_id JOIN sources src ON src.id = u.source_id
		WHERE t.id = ? AND t.revoked = 0 AND t.expires_at > ? AND `+personOn+`
		UNION ALL SELECT r.id, r.grant_id, r.family_id, r.client_id, r.user_id, r.scopes, r.auth_time, r.access_expires
		FROM oidc_refresh r JOIN users u ON u.id = r.user_id JOIN sources src ON src.id = u.source_id
		WHERE r.id = ? AND `+liveAccessInRow+` AND `+personOn, id, now, id, now).
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

// liveAccessInRow is the condition on an oidc_refresh row "r" that the access token it
// holds is live (with one argument: now): unrevoked, by itself or with its row, and unexpired.
const liveAccessInRow = `r.revoked = 0 AND r.access_revoked = 0 AND r.access_expires > ?`

// RevokeAccessToken revokes one access token (its refresh token, if any, stays live).
func (s *Store) RevokeAccessToken(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`UPDATE oidc_tokens SET revoked = 1 WHERE id = ?`, `UPDATE oidc_refresh SET access_revoked = 1 WHERE id = ?`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return fmt.Errorf("revoke an access token: %w", err)
			}
		}
		return nil
	})
}

// RefreshToken is an issued refresh token, one of a family that rotation continues, and
// the access token issued with it: one row holds both (one write per rotation, not two).
type RefreshToken struct {
	Hash string
	// ID is the id of the access token issued with this refresh token; that access token is
	// live until AccessExpires (zero: none; tokens stored before schema step 23).
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
	// AccessExpires is when the access token issued with this refresh token (its id: ID) expires.
	AccessExpires time.Time
}

// Access is the access token issued with rt.
func (rt *RefreshToken) Access() AccessToken {
	return AccessToken{ID: rt.ID, GrantID: rt.GrantID, FamilyID: rt.FamilyID, ClientID: rt.ClientID, UserID: rt.UserID,
		Scopes: rt.Scopes, AuthTime: rt.AuthTime, Expires: rt.AccessExpires}
}

// PutRefreshToken stores a refresh token (its hash).
func (s *Store) PutRefreshToken(ctx context.Context, t RefreshToken) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.insertRefreshToken(ctx, tx, t) })
}

// insertRefreshToken stores a refresh token (its hash) in tx.
func (s *Store) insertRefreshToken(ctx context.Context, tx *sql.Tx, t RefreshToken) error {
	_, err := s.txExec(ctx, tx, `INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, amr, auth_time, expires_at, access_expires)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, refreshArgs(t)...)
	return err
}

// refreshArgs are t's values for oidc_refresh's columns, in insertRefreshToken's order.
func refreshArgs(t RefreshToken) []any {
	return []any{t.Hash, t.ID, t.FamilyID, t.GrantID, t.ClientID, t.UserID, jsonList(t.Scopes), jsonList(t.AMR),
		t.AuthTime.Unix(), t.Expires.Unix(), zeroOrUnix(t.AccessExpires)}
}

// refreshCols are the columns RefreshTokenByHash reads (oidc_refresh as "r", joined with its
// user "u" and source "src"), and refreshRow the destinations they scan into.
const refreshCols = `r.hash, r.id, r.family_id, r.grant_id, r.client_id, r.user_id, r.scopes, r.amr, r.auth_time,
	r.expires_at, r.rotated_at, CASE WHEN r.revoked != 0 OR u.disabled != 0 OR src.enabled = 0 THEN 1 ELSE 0 END, r.access_expires`

// refreshRow is a refresh token being scanned from refreshCols.
type refreshRow struct {
	t                      RefreshToken
	scopes, amr            string
	at, exp, rotated, aexp int64
}

func (r *refreshRow) dest() []any {
	return []any{&r.t.Hash, &r.t.ID, &r.t.FamilyID, &r.t.GrantID, &r.t.ClientID, &r.t.UserID, &r.scopes, &r.amr, &r.at, &r.exp, &r.rotated, &r.t.Revoked, &r.aexp}
}

func (r *refreshRow) token() *RefreshToken {
	_ = json.Unmarshal([]byte(r.scopes), &r.t.Scopes)
	_ = json.Unmarshal([]byte(r.amr), &r.t.AMR)
	r.t.AuthTime, r.t.Expires, r.t.Rotated = time.Unix(r.at, 0), time.Unix(r.exp, 0), r.rotated != 0
	r.t.AccessExpires = unixOrZero(r.aexp)
	return &r.t
}

// refreshFrom joins a refresh token "r" to its user and source.
const refreshFrom = ` FROM oidc_refresh r JOIN users u ON u.id = r.user_id JOIN sources src ON src.id = u.source_id WHERE r.hash = ?`

// RefreshTokenByHash reads a refresh token, rotated or revoked ones too (for reuse detection).
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error) {
	var r refreshRow
	err := s.db.QueryRowContext(ctx, `SELECT `+refreshCols+refreshFrom, hash).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return r.token(), nil
}

// RefreshTokenAndUser is RefreshTokenByHash and the token's user (as User reads it), in one
// statement: a refresh grant needs both.
func (s *Store) RefreshTokenAndUser(ctx context.Context, hash string) (*RefreshToken, *User, error) {
	var r refreshRow
	u, err := s.scanUser(alsoScan{s.db.QueryRowContext(ctx, `SELECT `+joinedUserCols+`, `+refreshCols+refreshFrom, hash), r.dest()})
	if err != nil {
		return nil, nil, err // scanUser answers ErrNotFound for no row
	}
	return r.token(), u, nil
}

// ErrRefreshReused is a rotated refresh token presented again (its family is now revoked).
var ErrRefreshReused = errors.New("refresh token reused: family revoked")

// RotateRefreshToken replaces the token of hash by next (and the access token issued with
// it), atomically (compare and swap): if hash was already rotated or revoked, the whole
// family is revoked and ErrRefreshReused returned. The access tokens issued with earlier
// tokens of the family stay live until they expire.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string, next RefreshToken) error {
	var reused bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == postgresDialect {
			r, err := s.txExec(ctx, tx, rotateInOne, append([]any{s.now().Unix(), hash}, refreshArgs(next)...)...)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			reused = n == 0
			return nil
		}
		r, err := s.txExec(ctx, tx, `UPDATE oidc_refresh SET rotated_at = ? WHERE hash = ? AND rotated_at = 0 AND revoked = 0`, s.now().Unix(), hash)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			reused = true
			return nil
		}
		return s.insertRefreshToken(ctx, tx, next)
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

// rotateInOne is RotateRefreshToken's compare and swap and its insert as one PostgreSQL
// statement (one round trip, not two; SQLite has no data-modifying WITH): the insert selects
// from the swap, so it writes only when the swap matched, and its row count tells.
const rotateInOne = `WITH old AS (UPDATE oidc_refresh SET rotated_at = ? WHERE hash = ? AND rotated_at = 0 AND revoked = 0 RETURNING 1)
	INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, amr, auth_time, expires_at, access_expires)
		SELECT ?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::text, ?::bigint, ?::bigint, ?::bigint FROM old`

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
