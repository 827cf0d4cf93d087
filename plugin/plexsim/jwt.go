package plexsim

// The device-key ("JWT") authentication of plex.tv, after Plex's developer documentation
// ("Authenticating with Plex", JWT Authentication: LukeHagar/plex-api-spec description.md)
// and python-plexapi's MyPlexJWTLogin (pushingkarmaorg/python-plexapi plexapi/myplex.py);
// ../shared/plex-api.md §10 and its "JWT authentication" section. What neither pins down
// is marked [INFERRED] where it is decided.

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DefaultJWTLife is the life of the Plex JWTs plex.tv issues: 7 days (Plex's documentation).
const DefaultJWTLife = 7 * 24 * time.Hour

// PlexJWTLength is the length the sim pads its Plex JWTs to: owned servers' access tokens
// in a 2026 client log were 536-character JWTs (plex-api.md, "JWT authentication").
const PlexJWTLength = 536

// Nonce rules: valid 5 minutes (Plex's documentation) and rate limited ("rate-limited", no
// number given: [INFERRED] 10 a minute per client identifier, answered 429 like PIN polls).
const (
	nonceLife  = 5 * time.Minute
	nonceLimit = 10
)

// device is a registered device key: one per client identifier (the docs register "the
// public key for its client identifier").
type device struct {
	clientID string
	persona  string
	key      jose.JSONWebKey // public
	thumb    string          // RFC 7638 SHA-256 thumbprint, base64url
}

type nonce struct {
	clientID string
	expires  time.Time
}

// plexClaims are the claims of a Plex JWT. python-plexapi requires aud, iss, exp, iat and
// thumbprint, with iss "plex.tv" and aud "plex.tv" or the client identifier.
type plexClaims struct {
	jwt.Claims
	Thumbprint string `json:"thumbprint"`
	UserID     int64  `json:"user_id"`
	UUID       string `json:"user_uuid"`
	Pad        string `json:"pad,omitempty"`
}

// deviceClaims are the claims of a device's JWT (python-plexapi _encodeClientJWT).
type deviceClaims struct {
	jwt.Claims
	Nonce string `json:"nonce"`
	Scope string `json:"scope"`
}

// jwtState is the sim's device-key state; guarded by Sim.mu.
type jwtState struct {
	key      ed25519.PrivateKey
	kid      string
	life     time.Duration
	devices  map[string]*device // client identifier → device
	revoked  map[string]bool    // thumbprints of revoked devices
	nonces   map[string]nonce
	asked    map[string][]time.Time // client identifier → nonce requests in the last minute
	issued   []string               // every Plex JWT issued, for leak checks
	deviceOf map[string]string      // legacy token → client identifier it was issued to
	cutoff   time.Time              // JWTs issued up to this time answer 498 (ExpireJWTs)
}

func newJWTState() jwtState {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	// A 21-character key id: with it, padding the claims reaches PlexJWTLength exactly (a
	// compact JWS never has a length of 1 modulo 4 in its base64 parts).
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return jwtState{key: key, kid: "plex-sim-" + hex.EncodeToString(b), life: DefaultJWTLife, devices: map[string]*device{},
		revoked: map[string]bool{}, nonces: map[string]nonce{}, asked: map[string][]time.Time{}, deviceOf: map[string]string{}}
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of k, base64url.
func thumbprint(k jose.JSONWebKey) (string, error) {
	t, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(t), nil
}

// parseDeviceKey reads a public Ed25519 JWK as the docs send it ({kty:OKP, crv:Ed25519, x,
// use:sig, alg:EdDSA}); anything else is refused.
func parseDeviceKey(raw []byte) (jose.JSONWebKey, string, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return k, "", err
	}
	pub, ok := k.Key.(ed25519.PublicKey)
	if !ok || !k.IsPublic() || (k.Algorithm != "" && k.Algorithm != string(jose.EdDSA)) {
		return k, "", errors.New("want a public Ed25519 key")
	}
	k.Key = pub
	t, err := thumbprint(k)
	return k, t, err
}

// takeNonceLocked hands out a nonce to clientID, or false when it asked too often.
func (s *Sim) takeNonceLocked(clientID string) (string, bool) {
	now := s.now()
	var recent []time.Time
	for _, t := range s.jwt.asked[clientID] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= nonceLimit {
		s.jwt.asked[clientID] = recent
		return "", false
	}
	s.jwt.asked[clientID] = append(recent, now)
	for n, v := range s.jwt.nonces {
		if !now.Before(v.expires) {
			delete(s.jwt.nonces, n)
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	n := hex.EncodeToString(b)
	s.jwt.nonces[n] = nonce{clientID: clientID, expires: now.Add(nonceLife)}
	return n, true
}

// errSignature is plex.tv's 422 "Signature Verification Failed" (Plex's documentation).
var errSignature = errors.New("Signature Verification Failed")

// errNonce is a device JWT over a nonce that is unknown, used, expired or another
// client's: [INFERRED] 400, one of the documented errors.
var errNonce = errors.New("Invalid nonce")

// verifyDeviceJWTLocked checks a device's JWT: EdDSA over key (the registered key, or a
// strong PIN's), issued by clientID for plex.tv, unexpired, over a live nonce of clientID.
// consume spends the nonce (a PIN poll repeats the same JWT until the PIN is claimed).
func (s *Sim) verifyDeviceJWTLocked(raw, clientID string, key jose.JSONWebKey, thumb string, consume bool) (deviceClaims, error) {
	var c deviceClaims
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return c, errSignature
	}
	if kid := tok.Headers[0].KeyID; kid != thumb && (key.KeyID == "" || kid != key.KeyID) {
		return c, errSignature
	}
	if err := tok.Claims(key.Key, &c); err != nil {
		return c, errSignature
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: clientID, AnyAudience: jwt.Audience{"plex.tv"}, Time: s.now()}, time.Minute); err != nil || c.Expiry == nil {
		return c, errSignature
	}
	n, ok := s.jwt.nonces[c.Nonce]
	if !ok || n.clientID != clientID || !s.now().Before(n.expires) {
		return c, errNonce
	}
	if consume {
		delete(s.jwt.nonces, c.Nonce)
	}
	return c, nil
}

// issuePlexJWTLocked issues a Plex JWT to persona for device d, signed by the sim's key, and
// invalidates the legacy tokens issued to that device: "Plex invalidates a device's legacy
// token only when a JWT is issued for that device" (nickelsh1ts/streamarr #322, one report).
func (s *Sim) issuePlexJWTLocked(d *device) string {
	p := s.personas[d.persona]
	now := s.now()
	c := plexClaims{Claims: jwt.Claims{Issuer: "plex.tv", Audience: jwt.Audience{"plex.tv", d.clientID}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(s.jwt.life))}, Thumbprint: d.thumb, UserID: p.ID, UUID: p.UUID}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: s.jwt.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.jwt.kid))
	var out string
	for pad := 0; pad < PlexJWTLength; pad++ {
		c.Pad = strings.Repeat("0", pad)
		out, _ = jwt.Signed(signer).Claims(c).Serialize()
		if len(out) >= PlexJWTLength {
			break
		}
	}
	for t, cid := range s.jwt.deviceOf {
		if cid == d.clientID {
			if _, live := s.tokens[t]; live {
				delete(s.tokens, t)
				s.dead = append(s.dead, t)
			}
			delete(s.jwt.deviceOf, t)
		}
	}
	s.jwt.issued = append(s.jwt.issued, out)
	return out
}

// errJWTExpired is plex.tv's 498 "Token Expired" (Plex's documentation).
var errJWTExpired = errors.New("Token Expired")

// plexJWTPersonaLocked is the persona a Plex JWT was issued to: signed by the sim, unexpired
// (else errJWTExpired), of a device not revoked.
func (s *Sim) plexJWTPersonaLocked(raw string) (*Persona, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, err
	}
	var c plexClaims
	if err := tok.Claims(s.jwt.key.Public(), &c); err != nil {
		return nil, err
	}
	if c.Expiry == nil || !s.now().Before(c.Expiry.Time()) || (c.IssuedAt != nil && !c.IssuedAt.Time().After(s.jwt.cutoff)) {
		return nil, errJWTExpired
	}
	if s.jwt.revoked[c.Thumbprint] {
		return nil, errors.New("device revoked")
	}
	for _, p := range s.personas {
		if p.UUID == c.UUID && !p.Revoked {
			return p, nil
		}
	}
	return nil, errors.New("no such user")
}

// isJWT reports whether tok has the shape of a compact JWS.
func isJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// parseUnverified is the unverified issuer of a JWT (which device's key to verify it with).
func parseUnverified(raw string) (string, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return "", err
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", err
	}
	return c.Issuer, nil
}
