package openid

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Tokens: an access token is the library's opaque token of a random id (the store keeps the
// id; an access token issued with a refresh token is kept in that token's row, under its id);
// a refresh token and an authorization code are random, and the store keeps only their
// SHA-256 (hashOf).

// hashOf is the stored form of a refresh token or a code: its SHA-256, hex.
func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// CreateAccessToken issues an access token for a code exchange without offline access.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	t := store.AccessToken{ID: store.RandomID(16), GrantID: ar.ID, ClientID: ar.ClientID, UserID: ar.userID, Scopes: ar.Scopes,
		AuthTime: ar.authTime, Expires: time.Now().Add(accessTokenLifetime)}
	if err := s.claim(ctx, ar, store.CodeTokens{Access: &t}); err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.Expires, nil
}

// refreshRequest is a presented refresh token as the library sees it.
type refreshRequest struct {
	rt      *store.RefreshToken
	subject string
	// user is the token's user as this request read it (TokenRequestByRefreshToken): the
	// id_token's claims come from the same read (SetUserinfoFromRequest), not a second one,
	// unless the store announced a change of someone's access since (revoked, below).
	user *store.User
	// revoked is the store's AccessRevoked version before user was read.
	revoked uint64
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string             { return r.rt.AMR }
func (r *refreshRequest) GetAudience() []string        { return []string{r.rt.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time       { return r.rt.AuthTime }
func (r *refreshRequest) GetClientID() string          { return r.rt.ClientID }
func (r *refreshRequest) GetScopes() []string          { return r.rt.Scopes }
func (r *refreshRequest) GetSubject() string           { return r.subject }
func (r *refreshRequest) SetCurrentScopes(sc []string) { r.rt.Scopes = sc }

// CreateAccessAndRefreshTokens issues a refresh token with the access token (stored as one
// row): a new family for a code exchange, the next of its family (compare and swap) for a
// refresh.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	now := time.Now()
	newToken := store.RandomID(32)
	switch r := req.(type) {
	case *authRequest:
		rt := store.RefreshToken{Hash: hashOf(newToken), ID: store.RandomID(16), FamilyID: store.RandomID(16), GrantID: r.ID, ClientID: r.ClientID,
			UserID: r.userID, Scopes: r.Scopes, AMR: r.GetAMR(), AuthTime: r.authTime, Expires: now.Add(refreshLifetime),
			AccessExpires: now.Add(accessTokenLifetime)}
		if err := s.claim(ctx, r, store.CodeTokens{Refresh: &rt}); err != nil {
			return "", "", time.Time{}, err
		}
		return rt.ID, newToken, rt.AccessExpires, nil
	case *refreshRequest:
		old := r.rt
		next := store.RefreshToken{Hash: hashOf(newToken), ID: store.RandomID(16), FamilyID: old.FamilyID, GrantID: old.GrantID,
			ClientID: old.ClientID, UserID: old.UserID, Scopes: old.Scopes, AMR: old.AMR, AuthTime: old.AuthTime, Expires: old.Expires,
			AccessExpires: now.Add(accessTokenLifetime)}
		err := s.st.RotateRefreshToken(ctx, hashOf(current), next)
		if errors.Is(err, store.ErrRefreshReused) {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used: every token of its family is revoked")
		}
		if err != nil {
			return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
		}
		return next.ID, newToken, next.AccessExpires, nil
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// TokenRequestByRefreshToken answers a live refresh token; presenting a rotated one revokes its family.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	revoked := s.st.Changes().Version(store.AccessRevoked)
	rt, u, err := s.st.RefreshTokenAndUser(ctx, hashOf(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, op.ErrInvalidRefreshToken
	} else if err != nil { // the store is unreachable: the token may well be good, so say so, not invalid_grant
		return nil, oidc.ErrServerError().WithParent(storeFault(ctx, err))
	}
	if rt.Rotated {
		if err := s.st.RevokeFamily(ctx, rt.FamilyID); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token already used: every token of its family is revoked")
	}
	if rt.Revoked || time.Now().After(rt.Expires) {
		return nil, op.ErrInvalidRefreshToken
	}
	c, err := s.clients.byID(ctx, rt.ClientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrServerError().WithParent(storeFault(ctx, err))
	}
	if err != nil || !s.stillAllowed(ctx, u, c, rt.GrantID) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the user may no longer use this application: every token of this grant is revoked")
	}
	signFor(ctx, rt.ClientID)
	return &refreshRequest{rt: rt, subject: u.PublicID, user: u, revoked: revoked}, nil
}

// refreshRef is how GetRefreshTokenInfo names a refresh token to RevokeToken (the library
// passes that name on instead of the token): its hash, marked.
const refreshRef = "refresh:"

// RevokeToken revokes an access token (by id) or a refresh token's whole family, only for
// the client it was issued to.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if hash, ok := strings.CutPrefix(tokenOrID, refreshRef); ok {
		return s.revokeRefresh(ctx, hash, clientID)
	}
	if userID != "" { // an access token's id
		t, err := s.st.LiveAccessToken(ctx, tokenOrID)
		if err == nil && t.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token of another client")
		}
		if err := s.st.RevokeAccessToken(ctx, tokenOrID); err != nil {
			return oidc.ErrServerError()
		}
		return nil
	}
	return s.revokeRefresh(ctx, hashOf(tokenOrID), clientID)
}

func (s *storage) revokeRefresh(ctx context.Context, hash, clientID string) *oidc.Error {
	rt, err := s.st.RefreshTokenByHash(ctx, hash)
	if err != nil {
		return nil // RFC 7009: an unknown token is not an error
	}
	if rt.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token of another client")
	}
	if err := s.st.RevokeFamily(ctx, rt.FamilyID); err != nil {
		return oidc.ErrServerError()
	}
	return nil
}

// GetRefreshTokenInfo names a refresh token of clientID for revocation (RevokeToken).
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.st.RefreshTokenByHash(ctx, hashOf(token))
	if err != nil || rt.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	u, err := s.st.User(ctx, rt.UserID)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return u.PublicID, refreshRef + rt.Hash, nil
}

// errTokenNotValid is every refusal of an access token (one answer: no oracle).
var errTokenNotValid = errors.New("access token not valid")

// liveToken is a live access token of subject, with its user and client; revoked, expired,
// another subject's, a disabled user's or source's: refused.
func (s *storage) liveToken(ctx context.Context, tokenID, subject string) (*store.AccessToken, *store.User, *store.OIDCClient, error) {
	t, err := s.st.LiveAccessToken(ctx, tokenID)
	if err != nil {
		return nil, nil, nil, errTokenNotValid
	}
	u, err := s.st.User(ctx, t.UserID)
	if err != nil || u.PublicID != subject {
		return nil, nil, nil, errTokenNotValid
	}
	c, err := s.clients.byID(ctx, t.ClientID)
	if err != nil || !s.stillAllowed(ctx, u, c, t.GrantID) {
		return nil, nil, nil, errTokenNotValid
	}
	return t, u, c, nil
}

// stillAllowed reports whether u is still in the allowed groups of the client (they may
// have been narrowed, or the user's groups changed, since the grant); when not, the grant
// is revoked, so no token of it works again.
func (s *storage) stillAllowed(ctx context.Context, u *store.User, c *store.OIDCClient, grantID string) bool {
	if inAllowedGroups(u, c) {
		return true
	}
	_ = s.st.RevokeGrant(ctx, grantID)
	_ = s.st.AddEvent(ctx, store.Event{SourceID: u.SourceID, Kind: store.EventOIDCDenied, Subject: u.Subject, Name: u.Username,
		Reason: "not_in_allowed_groups", Detail: "client " + c.ID + ": grant revoked"})
	return false
}

// SetUserinfoFromToken answers userinfo for a live access token only.
func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	t, u, c, err := s.liveToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	setClaims(ui, u, c, t.Scopes)
	return nil
}

// SetIntrospectionFromToken answers introspection by the client the token was issued to.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, u, c, err := s.liveToken(ctx, tokenID, subject)
	if err != nil || t.ClientID != clientID {
		return errTokenNotValid
	}
	ui := new(oidc.UserInfo)
	setClaims(ui, u, c, t.Scopes)
	in.SetUserInfo(ui)
	in.Scope, in.ClientID, in.Expiration, in.Active = t.Scopes, t.ClientID, oidc.FromTime(t.Expires), true
	return nil
}
