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
	// next is when a published key starts signing (zero: none waits): the keys are read again then.
	next time.Time
}

// keyRefresh is how often the keys are re-read (a rotation by another process that the store
// does not announce shows by then); an announced one (store.SigningKeys) shows at once.
const keyRefresh = 30 * time.Second

func (k *keyring) load(ctx context.Context) (*signingKey, []*signingKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := k.st.Changes().Version(store.SigningKeys)
	if k.active != nil && k.version == v && time.Since(k.loaded) < keyRefresh && (k.next.IsZero() || time.Now().Before(k.next)) {
		return k.active, k.all, nil
	}
	rows, err := k.st.SigningKeys(ctx, time.Now().Add(-k.keepFor))
	if err != nil {
		return nil, nil, fmt.Errorf("read signing keys: %w", err)
	}
	// The key of alg that signs: not retired, already active, the latest to become active.
	// Keys that become active later are published already (a rotation's first phase).
	var active *signingKey
	var activeAt, next time.Time
	var all []*signingKey
	now := time.Now()
	for _, r := range rows {
		sk, err := parseKey(r)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, sk)
		if r.Alg != k.alg || !r.RetiredAt.IsZero() && !r.RetiredAt.After(now) {
			continue
		}
		if r.ActiveAt.After(now) {
			if next.IsZero() || r.ActiveAt.Before(next) {
				next = r.ActiveAt
			}
			continue
		}
		if active == nil || r.ActiveAt.After(activeAt) {
			active, activeAt = sk, r.ActiveAt
		}
	}
	if active == nil {
		return nil, nil, fmt.Errorf("no active %s signing key (run host-example -rotate-keys)", k.alg)
	}
	k.active, k.all, k.loaded, k.version, k.next = active, all, time.Now(), v, next
	return active, all, nil
}

// EnsureKey creates a signing key for alg, active at once, when alg has none that is not
// retired (replicas starting together on a new database keep one).
func EnsureKey(ctx context.Context, st Store, alg string) error {
	keys, err := st.SigningKeys(ctx, time.Now())
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Alg == alg && (k.RetiredAt.IsZero() || k.RetiredAt.After(time.Now())) {
			return nil
		}
	}
	pemKey, err := GenerateKey(alg)
	if err != nil {
		return err
	}
	_, err = st.FirstSigningKey(ctx, store.SigningKey{ID: store.RandomID(8), Alg: alg, PrivatePEM: pemKey})
	return err
}

// KeyLead is how long a rotated key is published before it signs: every replica has read it
// (they re-read keys at least every 30 s) and relying parties' key caches have had time to
// fetch it, so no token is signed with a key a verifier has not seen.
const KeyLead = 15 * time.Minute

// RotateKey rotates alg's signing key in two phases: a new key, published at once, signs
// from lead on; the others of alg retire then and stay published while tokens they signed
// are accepted. It returns the new key's id and when it signs.
func RotateKey(ctx context.Context, st Store, alg string, lead time.Duration) (string, time.Time, error) {
	pemKey, err := GenerateKey(alg)
	if err != nil {
		return "", time.Time{}, err
	}
	id := store.RandomID(8)
	at := time.Now().Add(lead).Truncate(time.Second)
	if err := st.PutSigningKey(ctx, store.SigningKey{ID: id, Alg: alg, PrivatePEM: pemKey, ActiveAt: at}); err != nil {
		return "", time.Time{}, err
	}
	return id, at, st.RetireSigningKeysAt(ctx, alg, id, at)
}

var _ op.SigningKey = (*signingKey)(nil)
var _ op.Key = publicKey{}
