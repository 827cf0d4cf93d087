package openid

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Signing algorithms the provider offers for id_tokens: one by default (-oidc-signing-alg),
// and per client its registration's id_token_signed_response_alg.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Algorithms are the offered signing algorithms, in the order the admin page lists them.
var Algorithms = []string{RS256, ES256, EdDSA}

// CheckAlg refuses an algorithm that is not offered, naming the ones that are.
func CheckAlg(alg string) error {
	if !slices.Contains(Algorithms, alg) {
		return fmt.Errorf("signing algorithm %q is not offered: use %s", alg, strings.Join(Algorithms, ", "))
	}
	return nil
}

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
	case EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, CheckAlg(alg)
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
	case ed25519.PrivateKey:
		if k.Alg != EdDSA {
			return nil, fmt.Errorf("key %s: an Ed25519 key for %s", k.ID, k.Alg)
		}
	default:
		return nil, fmt.Errorf("key %s: unsupported key type", k.ID)
	}
	return &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Alg), private: signer, retired: k.RetiredAt}, nil
}

// keyring holds the provider's keys: for each algorithm, its newest active key signs; retired
// keys stay in the JWKS for as long as tokens and id_token hints signed by them are accepted.
type keyring struct {
	st      keyStore
	alg     string // the default algorithm (-oidc-signing-alg)
	keepFor time.Duration

	mu      sync.Mutex
	loaded  time.Time
	version uint64 // the store's SigningKeys version when loaded
	signing map[string]*signingKey
	all     []*signingKey
	// next is when a published key starts signing (zero: none waits): the keys are read again then.
	next time.Time
}

// firstKeyStore is what EnsureKey needs of the store.
type firstKeyStore interface {
	// SigningKeys lists the keys retired after since and the active ones, newest first.
	SigningKeys(ctx context.Context, since time.Time) ([]store.SigningKey, error)
	// FirstSigningKey stores k unless alg has a key that is not retired.
	FirstSigningKey(ctx context.Context, k store.SigningKey) (bool, error)
}

// keyStore is what the signing keys need of the store (*store.Store is one).
type keyStore interface {
	firstKeyStore
	// PutSigningKey stores a new signing key.
	PutSigningKey(ctx context.Context, k store.SigningKey) error
	// RetireSigningKeysAt retires every key of alg but keep at a time to come.
	RetireSigningKeysAt(ctx context.Context, alg, keep string, at time.Time) error
	// Changes announces changes of keys (store.SigningKeys).
	Changes() *store.Changes
}

// keyRefresh is how often the keys are re-read (a rotation by another process that the store
// does not announce shows by then); an announced one (store.SigningKeys) shows at once.
const keyRefresh = 30 * time.Second

// load answers the key that signs for each algorithm and every published key.
func (k *keyring) load(ctx context.Context) (map[string]*signingKey, []*signingKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := k.st.Changes().Version(store.SigningKeys)
	if k.signing != nil && k.version == v && time.Since(k.loaded) < keyRefresh && (k.next.IsZero() || time.Now().Before(k.next)) {
		return k.signing, k.all, nil
	}
	rows, err := k.st.SigningKeys(ctx, time.Now().Add(-k.keepFor))
	if err != nil {
		return nil, nil, fmt.Errorf("read signing keys: %w", err)
	}
	// The key of each algorithm that signs: not retired, already active, the latest to become
	// active. Keys that become active later are published already (a rotation's first phase).
	signing := map[string]*signingKey{}
	activeAt := map[string]time.Time{}
	var next time.Time
	var all []*signingKey
	now := time.Now()
	for _, r := range rows {
		sk, err := parseKey(r)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, sk)
		if !r.RetiredAt.IsZero() && !r.RetiredAt.After(now) {
			continue
		}
		if r.ActiveAt.After(now) {
			if next.IsZero() || r.ActiveAt.Before(next) {
				next = r.ActiveAt
			}
			continue
		}
		if signing[r.Alg] == nil || r.ActiveAt.After(activeAt[r.Alg]) {
			signing[r.Alg], activeAt[r.Alg] = sk, r.ActiveAt
		}
	}
	k.signing, k.all, k.loaded, k.version, k.next = signing, all, time.Now(), v, next
	return signing, all, nil
}

// signer is the key that signs for alg ("": the default algorithm).
func (k *keyring) signer(ctx context.Context, alg string) (*signingKey, error) {
	if alg == "" {
		alg = k.alg
	}
	signing, _, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	if signing[alg] == nil {
		return nil, fmt.Errorf("no active %s signing key (run host-example -rotate-keys)", alg)
	}
	return signing[alg], nil
}

// EnsureKey creates a signing key for alg, active at once, when alg has none that is not
// retired (replicas starting together on a new database keep one). A first key of an
// algorithm needs no lead: no relying party has a key of it cached, and one that meets an
// unknown kid fetches the JWKS again.
func EnsureKey(ctx context.Context, st firstKeyStore, alg string) error {
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
func RotateKey(ctx context.Context, st keyStore, alg string, lead time.Duration) (string, time.Time, error) {
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

// Rotated is one algorithm's key RotateKeys made: its id and when it signs.
type Rotated struct {
	Alg, ID string
	At      time.Time
}

// RotateKeys rotates the key of every algorithm in use (each that has a key not retired, and
// def, the default), each as RotateKey does.
func RotateKeys(ctx context.Context, st keyStore, def string, lead time.Duration) ([]Rotated, error) {
	keys, err := st.SigningKeys(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	algs := []string{def}
	for _, k := range keys {
		if !slices.Contains(algs, k.Alg) && (k.RetiredAt.IsZero() || k.RetiredAt.After(time.Now())) {
			algs = append(algs, k.Alg)
		}
	}
	var out []Rotated
	for _, alg := range algs {
		id, at, err := RotateKey(ctx, st, alg, lead)
		if err != nil {
			return out, fmt.Errorf("%s: %w", alg, err)
		}
		out = append(out, Rotated{Alg: alg, ID: id, At: at})
	}
	return out, nil
}

var _ op.SigningKey = (*signingKey)(nil)
var _ op.Key = publicKey{}
