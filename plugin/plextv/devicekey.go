package plextv

// Device-key ("JWT") authentication, after Plex's developer documentation ("JWT
// Authentication") and python-plexapi's MyPlexJWTLogin (plex-api.md §10 and its "JWT
// authentication" section): an Ed25519 device key registered for a client identifier, a
// device JWT over a nonce exchanged for a Plex JWT that lasts 7 days, verified with the
// keys Plex publishes.

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DeviceScope is the scope a device JWT asks for (python-plexapi's default scopes).
const DeviceScope = "username,email,friendly_name,restricted,anonymous,joinedAt"

// DeviceKey is an Ed25519 device key. Its String never shows the key.
type DeviceKey struct {
	priv ed25519.PrivateKey
	kid  string
}

// NewDeviceKey generates a device key.
func NewDeviceKey() (DeviceKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return DeviceKey{}, fmt.Errorf("device key: %w", err)
	}
	return deviceKey(priv)
}

// ParseDeviceKey reads a device key from its Seed.
func ParseDeviceKey(seed string) (DeviceKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(seed)
	if err != nil || len(b) != ed25519.SeedSize {
		return DeviceKey{}, errors.New("device key: not a base64url Ed25519 seed")
	}
	return deviceKey(ed25519.NewKeyFromSeed(b))
}

func deviceKey(priv ed25519.PrivateKey) (DeviceKey, error) {
	k := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(jose.EdDSA), Use: "sig"}
	t, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return DeviceKey{}, fmt.Errorf("device key thumbprint: %w", err)
	}
	return DeviceKey{priv: priv, kid: base64.RawURLEncoding.EncodeToString(t)}, nil
}

// Seed is the key's secret seed (base64url), to keep sealed.
func (k DeviceKey) Seed() string { return base64.RawURLEncoding.EncodeToString(k.priv.Seed()) }

// KeyID is the key's RFC 7638 thumbprint, its kid.
func (k DeviceKey) KeyID() string { return k.kid }

// String never shows the key.
func (k DeviceKey) String() string { return "device key " + k.kid }

// GoString never shows the key either.
func (k DeviceKey) GoString() string { return k.String() }

// JWK is the public key as plex.tv takes it: {kty: OKP, crv: Ed25519, x, use: sig, alg: EdDSA, kid}.
func (k DeviceKey) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(jose.EdDSA), Use: "sig"}
}

// Sign is the device JWT over nonce for clientID: {nonce, scope, aud: plex.tv, iss: clientID,
// iat, exp: +5 min}, EdDSA with the kid (python-plexapi _encodeClientJWT).
func (k DeviceKey) Sign(clientID, nonce string, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k.priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		return "", fmt.Errorf("device JWT: %w", err)
	}
	claims := struct {
		jwt.Claims
		Nonce string `json:"nonce"`
		Scope string `json:"scope"`
	}{Claims: jwt.Claims{Issuer: clientID, Audience: jwt.Audience{"plex.tv"}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}, Nonce: nonce, Scope: DeviceScope}
	out, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("device JWT: %w", err)
	}
	return out, nil
}

// RegisterDeviceKey registers k for this client's identifier with an account's token (POST
// clients/api/v2/auth/jwk). ErrThumbprintTaken means the key is registered already.
func (c *Client) RegisterDeviceKey(ctx context.Context, token string, k DeviceKey) error {
	body, err := json.Marshal(map[string]any{"jwk": k.JWK()})
	if err != nil {
		return fmt.Errorf("device key JWK: %w", err)
	}
	_, err = c.do(ctx, request{method: http.MethodPost, path: "/api/v2/auth/jwk", op: "POST /api/v2/auth/jwk", endpoint: "auth.jwk",
		token: token, body: body, json: true, clients: true})
	return err
}

// Nonce gets a nonce for a device JWT (GET clients/api/v2/auth/nonce; valid 5 minutes).
func (c *Client) Nonce(ctx context.Context) (string, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/v2/auth/nonce", op: "GET /api/v2/auth/nonce", endpoint: "auth.nonce",
		json: true, retry: true, clients: true}, func(b []byte) (string, error) {
		var v struct {
			Nonce string `json:"nonce"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Nonce == "" {
			return "", errors.New("no nonce")
		}
		return v.Nonce, nil
	})
}

// ExchangeDeviceJWT exchanges a device JWT for a Plex token (POST clients/api/v2/auth/token),
// not yet verified. Never retried: the nonce is spent.
func (c *Client) ExchangeDeviceJWT(ctx context.Context, deviceJWT string) (string, error) {
	body, _ := json.Marshal(map[string]string{"jwt": deviceJWT})
	return fetch(ctx, c, request{method: http.MethodPost, path: "/api/v2/auth/token", op: "POST /api/v2/auth/token", endpoint: "auth.token",
		body: body, json: true, clients: true}, func(b []byte) (string, error) {
		var v struct {
			AuthToken string `json:"auth_token"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.AuthToken == "" {
			return "", errors.New("no auth_token")
		}
		return v.AuthToken, nil
	})
}

// PlexKeys are the keys Plex signs its tokens with (GET clients/api/v2/auth/keys).
func (c *Client) PlexKeys(ctx context.Context) (jose.JSONWebKeySet, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/v2/auth/keys", op: "GET /api/v2/auth/keys", endpoint: "auth.keys",
		json: true, retry: true, clients: true}, func(b []byte) (jose.JSONWebKeySet, error) {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) == 0 {
			return set, errors.New("no keys")
		}
		return set, nil
	})
}

// PlexToken is a Plex JWT verified with Plex's keys.
type PlexToken struct {
	// Raw is the token; a secret.
	Raw       string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// String never shows the token.
func (t PlexToken) String() string {
	return "plex token (expires " + t.ExpiresAt.UTC().Format(time.RFC3339) + ")"
}

// RenewAt is when less than half of the token's own life (exp − iat) is left.
func (t PlexToken) RenewAt() time.Time { return t.IssuedAt.Add(t.ExpiresAt.Sub(t.IssuedAt) / 2) }

// ErrNotPlexToken is a token that Plex's keys do not verify, or whose claims are not a
// Plex token of this device: it is refused, never stored.
var ErrNotPlexToken = errors.New("not a Plex token for this device")

// VerifyPlexToken checks raw with Plex's published keys (the algorithms the keys name, none
// hard-coded): issuer plex.tv, audience plex.tv or this client identifier, the device's
// thumbprint, and unexpired at now.
func (c *Client) VerifyPlexToken(ctx context.Context, raw string, k DeviceKey, now time.Time) (PlexToken, error) {
	set, err := c.PlexKeys(ctx)
	if err != nil {
		return PlexToken{}, err
	}
	var algs []jose.SignatureAlgorithm
	for _, key := range set.Keys {
		if key.Algorithm != "" && key.IsPublic() && (key.Use == "" || key.Use == "sig") {
			algs = append(algs, jose.SignatureAlgorithm(key.Algorithm))
		}
	}
	if len(algs) == 0 {
		return PlexToken{}, malformed("GET /api/v2/auth/keys", errors.New("no signing key names its algorithm"))
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		return PlexToken{}, fmt.Errorf("%w: %v", ErrNotPlexToken, err)
	}
	var claims struct {
		jwt.Claims
		Thumbprint string `json:"thumbprint"`
	}
	verified := false
	for _, key := range set.Keys {
		if kid := tok.Headers[0].KeyID; kid != "" && key.KeyID != "" && kid != key.KeyID {
			continue
		}
		if tok.Headers[0].Algorithm != key.Algorithm {
			continue
		}
		if tok.Claims(key.Key, &claims) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return PlexToken{}, fmt.Errorf("%w: no Plex key verifies it", ErrNotPlexToken)
	}
	if !claims.Audience.Contains(c.id.ClientID) && !claims.Audience.Contains("plex.tv") {
		return PlexToken{}, fmt.Errorf("%w: audience", ErrNotPlexToken)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: "plex.tv", Time: now}, time.Minute); err != nil ||
		claims.IssuedAt == nil || claims.Expiry == nil || claims.Thumbprint != k.KeyID() {
		return PlexToken{}, fmt.Errorf("%w: claims", ErrNotPlexToken)
	}
	return PlexToken{Raw: raw, IssuedAt: claims.IssuedAt.Time(), ExpiresAt: claims.Expiry.Time()}, nil
}

// Renew gets a new Plex token for device key k of this client's identifier: nonce, device
// JWT, exchange, verification.
func (c *Client) Renew(ctx context.Context, k DeviceKey, now time.Time) (PlexToken, error) {
	n, err := c.Nonce(ctx)
	if err != nil {
		return PlexToken{}, err
	}
	dj, err := k.Sign(c.id.ClientID, n, now)
	if err != nil {
		return PlexToken{}, err
	}
	raw, err := c.ExchangeDeviceJWT(ctx, dj)
	if err != nil {
		return PlexToken{}, err
	}
	return c.VerifyPlexToken(ctx, raw, k, now)
}

// CreateKeyPIN creates a strong PIN carrying device key k (POST clients/api/v2/pins with
// {"jwk": …, "strong": true}); once approved, CheckKeyPIN with a device JWT gets a Plex token.
func (c *Client) CreateKeyPIN(ctx context.Context, k DeviceKey, product string) (PIN, error) {
	body, err := json.Marshal(map[string]any{"jwk": k.JWK(), "strong": true})
	if err != nil {
		return PIN{}, fmt.Errorf("device key JWK: %w", err)
	}
	return fetch(ctx, c, request{method: http.MethodPost, path: "/api/v2/pins", op: "POST /api/v2/pins", endpoint: "pins.create",
		body: body, json: true, product: product, clients: true}, func(b []byte) (PIN, error) {
		p, err := DecodePIN(b)
		if err == nil && p.Code == "" {
			err = errors.New("pin has no code")
		}
		return p, err
	})
}

// CheckKeyPIN reads a PIN carrying a key with the device's JWT (GET
// clients/api/v2/pins/{id}?deviceJWT=…); Token() is "" while it is pending.
func (c *Client) CheckKeyPIN(ctx context.Context, id int64, deviceJWT string) (PIN, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/v2/pins/" + strconv.FormatInt(id, 10), op: "GET /api/v2/pins/{id}",
		endpoint: "pins.check", query: url.Values{"deviceJWT": {deviceJWT}}, json: true, retry: true, clients: true}, func(b []byte) (PIN, error) {
		p, err := DecodePIN(b)
		if err == nil && int64(p.ID) != id {
			err = errors.New("answer is for another pin")
		}
		return p, err
	})
}

// LinkPIN approves a PIN with an account's token, server-side (PUT /api/v2/pins/link with
// form code=…; 204), as plex.tv/link does.
func (c *Client) LinkPIN(ctx context.Context, token, code string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/api/v2/pins/link", op: "PUT /api/v2/pins/link", endpoint: "pins.link",
		token: token, form: url.Values{"code": {code}}, json: true})
	return err
}
