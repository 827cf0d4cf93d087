package openid

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Signing algorithms the provider offers (one at a time).
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// signingKey is a private key with its id and algorithm; it is both the op.SigningKey and,
// through public, an op.Key of the key set.
type signingKey struct {
	id      string
	alg     jose.SignatureAlgorithm
	private crypto.Signer
	retired time.Time
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.private }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the public half of a signing key, as JWKS lists it.
type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.private.Public() }

// GenerateKey makes a new private key for alg as PEM (PKCS#8).
func GenerateKey(alg string) ([]byte, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case RS256:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("signing algorithm %q: use RS256 or ES256", alg)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseKey(k store.SigningKey) (*signingKey, error) {
	b, _ := pem.Decode(k.PrivatePEM)
	if b == nil {
		return nil, errors.New("signing key is not PEM")
	}
	priv, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, errors.New("signing key cannot sign")
	}
	switch signer.(type) {
	case *rsa.PrivateKey:
		if k.Alg != RS256 {
			return nil, fmt.Errorf("key %s: an RSA key for %s", k.ID, k.Alg)
		}
	case *ecdsa.PrivateKey:
		if k.Alg != ES256 {
			return nil, fmt.Errorf("key %s: an EC key for %s", k.ID, k.Alg)
		}
	default:
		return nil, fmt.Errorf("key %s: unsupported key type", k.ID)
	}
	return &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Alg), private: signer, retired: k.RetiredAt}, nil
}

// keyring holds the provider's keys: the newest active key of its algorithm signs; retired
// keys stay in the JWKS for as long as tokens and id_token hints signed by them are accepted.
type keyring struct {
	st      Store
	alg     string
	keepFor time.Duration

	mu      sync.Mutex
	loaded  time.Time
	version uint64 // the store's SigningKeys version when loaded
	active  *signingKey
	all     []*signingKey
}

// keyRefresh is how often the keys are re-read (a rotation by another process that the store
// does not announce shows by then); an announced one (store.SigningKeys) shows at once.
const keyRefresh = 30 * time.Second

func (k *keyring) load(ctx context.Context) (*signingKey, []*signingKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := k.st.Changes().Version(store.SigningKeys)
	if k.active != nil && k.version == v && time.Since(k.loaded) < keyRefresh {
		return k.active, k.all, nil
	}
	rows, err := k.st.SigningKeys(ctx, time.Now().Add(-k.keepFor))
	if err != nil {
		return nil, nil, fmt.Errorf("read signing keys: %w", err)
	}
	var active *signingKey
	var all []*signingKey
	for _, r := range rows {
		sk, err := parseKey(r)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, sk)
		if active == nil && r.Alg == k.alg && r.RetiredAt.IsZero() {
			active = sk
		}
	}
	if active == nil {
		return nil, nil, fmt.Errorf("no active %s signing key (run host-example -rotate-keys)", k.alg)
	}
	k.active, k.all, k.loaded, k.version = active, all, time.Now(), v
	return active, all, nil
}

// EnsureKey creates a signing key for alg when there is no active one.
func EnsureKey(ctx context.Context, st Store, alg string) error {
	keys, err := st.SigningKeys(ctx, time.Now())
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Alg == alg && k.RetiredAt.IsZero() {
			return nil
		}
	}
	_, err = RotateKey(ctx, st, alg)
	return err
}

// RotateKey makes a new active key for alg and retires the others of alg; they stay
// published while tokens they signed are accepted. It returns the new key's id.
func RotateKey(ctx context.Context, st Store, alg string) (string, error) {
	pemKey, err := GenerateKey(alg)
	if err != nil {
		return "", err
	}
	return ImportKey(ctx, st, alg, pemKey)
}

// ImportKey stores a PEM private key as the active key of alg (tests ship pre-generated keys).
func ImportKey(ctx context.Context, st Store, alg string, pemKey []byte) (string, error) {
	id := store.RandomID(8)
	if _, err := parseKey(store.SigningKey{ID: id, Alg: alg, PrivatePEM: pemKey}); err != nil {
		return "", err
	}
	if err := st.PutSigningKey(ctx, store.SigningKey{ID: id, Alg: alg, PrivatePEM: pemKey}); err != nil {
		return "", err
	}
	return id, st.RetireSigningKeys(ctx, alg, id)
}

var _ op.SigningKey = (*signingKey)(nil)
var _ op.Key = publicKey{}
