package openid

import (
	"context"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Store is what the provider needs of the host's store (*store.Store is one).
type Store interface {
	// User reads a user by id.
	User(ctx context.Context, id int64) (*store.User, error)
	// UserByPublicID reads a user by the public id (the sub apps see).
	UserByPublicID(ctx context.Context, id string) (*store.User, error)
	// AddEvent records an event.
	AddEvent(ctx context.Context, e store.Event) error

	// ClientStore reads and writes the clients.
	ClientStore

	// CreateAuthRequest stores a new authorization request.
	CreateAuthRequest(ctx context.Context, ar store.AuthRequest) error
	// AuthRequestByID reads a live authorization request.
	AuthRequestByID(ctx context.Context, id string) (*store.AuthRequest, error)
	// AuthRequestByCode reads the request a code (its hash) was issued for; a reused code revokes its grant.
	AuthRequestByCode(ctx context.Context, codeHash string) (*store.AuthRequest, error)
	// CompleteAuthRequest records, once, who signed in for a request, in which host session and when.
	CompleteAuthRequest(ctx context.Context, id string, userID int64, sessionID string, authTime time.Time) error
	// SaveAuthCode binds an issued code (its hash) to a request, once.
	SaveAuthCode(ctx context.Context, id, codeHash string, exp time.Time) error
	// ClaimCode marks a code used and stores the tokens it issues, in one transaction: exactly
	// one caller gets true, only while the code's user, source and host session last (else
	// store.ErrAccessEnded).
	ClaimCode(ctx context.Context, codeHash string, issue store.CodeTokens) (bool, error)
	// DeleteAuthRequest ends an authorization request.
	DeleteAuthRequest(ctx context.Context, id string) error
	// BoundOpenAuthRequests bounds the requests nobody completed, per client key and in all.
	BoundOpenAuthRequests(ctx context.Context, clientKey string, perClient, total int) (int64, error)

	// CreateSession starts a host session (load seeds bind their codes to one).
	CreateSession(ctx context.Context, userID int64, admin bool, life time.Duration) (string, *store.Session, error)

	// LiveAccessToken reads a live access token.
	LiveAccessToken(ctx context.Context, id string) (*store.AccessToken, error)
	// RevokeAccessToken revokes one access token.
	RevokeAccessToken(ctx context.Context, id string) error
	// PutRefreshToken stores a refresh token (its hash).
	PutRefreshToken(ctx context.Context, t store.RefreshToken) error
	// RefreshTokenByHash reads a refresh token, rotated and revoked ones too.
	RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error)
	// RefreshTokenAndUser reads a refresh token as RefreshTokenByHash does, with its user.
	RefreshTokenAndUser(ctx context.Context, hash string) (*store.RefreshToken, *store.User, error)
	// RotateRefreshToken replaces a refresh token by the next of its family (and its access token), atomically.
	RotateRefreshToken(ctx context.Context, hash string, next store.RefreshToken) error
	// RevokeFamily revokes a refresh token family and its access tokens.
	RevokeFamily(ctx context.Context, familyID string) error
	// RevokeGrant revokes every token of one authorization.
	RevokeGrant(ctx context.Context, grantID string) error

	// PutSigningKey stores a new signing key.
	PutSigningKey(ctx context.Context, k store.SigningKey) error
	// RetireSigningKeysAt retires every key of alg but keep at a time to come.
	RetireSigningKeysAt(ctx context.Context, alg, keep string, at time.Time) error
	// (FirstSigningKey and SigningKeys come with ClientStore.)
	// Meta reads a meta value.
	Meta(ctx context.Context, key string) (string, error)
	// SecretMeta reads a meta value stored encrypted.
	SecretMeta(ctx context.Context, key string) ([]byte, error)
	// SetSecretMeta writes a meta value encrypted.
	SetSecretMeta(ctx context.Context, key string, value []byte) error
	// SecretMetaOnce stores value encrypted unless one is there, and answers the one kept.
	SecretMetaOnce(ctx context.Context, key string, value []byte) ([]byte, error)

	// Changes announces changes of clients (store.OIDCClients) and keys (store.SigningKeys).
	Changes() *store.Changes
}
