package openid

import (
	"context"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// keyImporter is the store ImportKey writes to.
type keyImporter interface {
	PutSigningKey(ctx context.Context, k store.SigningKey) error
	RetireSigningKeys(ctx context.Context, alg, keep string) error
}

// ImportKey stores a PEM private key as the active key of alg at once, retiring the others
// now (the tests ship pre-generated keys; a running fleet rotates with RotateKey).
func ImportKey(ctx context.Context, st keyImporter, alg string, pemKey []byte) (string, error) {
	id := store.RandomID(8)
	if _, err := parseKey(store.SigningKey{ID: id, Alg: alg, PrivatePEM: pemKey}); err != nil {
		return "", err
	}
	if err := st.PutSigningKey(ctx, store.SigningKey{ID: id, Alg: alg, PrivatePEM: pemKey}); err != nil {
		return "", err
	}
	return id, st.RetireSigningKeys(ctx, alg, id)
}
