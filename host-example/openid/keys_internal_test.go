package openid

import (
	"context"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A rotation is two phases: the new key is published at once and signs only from its lead
// on; the old key signs until then, and stays published after.
func TestRotationPublishesBeforeSigning(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := EnsureKey(ctx, st, ES256); err != nil {
		t.Fatal(err)
	}
	ring := &keyring{st: st, alg: ES256, keepFor: time.Hour}
	first, err := ring.signer(ctx, ES256)
	if err != nil {
		t.Fatal(err)
	}
	const lead = 2 * time.Second
	id, at, err := RotateKey(ctx, st, ES256, lead)
	if err != nil {
		t.Fatal(err)
	}
	published := func(all []*signingKey, id string) bool {
		for _, k := range all {
			if k.id == id {
				return true
			}
		}
		return false
	}
	load := func() (*signingKey, []*signingKey, error) {
		signing, all, err := ring.load(ctx)
		return signing[ES256], all, err
	}
	signer, all, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(at) {
		if signer.id != first.id {
			t.Fatalf("the new key %s signs before its time %s", signer.id, at)
		}
		if !published(all, id) {
			t.Fatal("the new key is not published in its first phase")
		}
	}
	for signer.id != id {
		if time.Now().After(at.Add(10 * time.Second)) {
			t.Fatalf("the new key never signed (its time %s)", at)
		}
		time.Sleep(50 * time.Millisecond)
		if signer, all, err = load(); err != nil {
			t.Fatal(err)
		}
	}
	if !published(all, first.id) {
		t.Fatal("the old key left the key set when it retired")
	}
	if time.Now().Before(at) {
		t.Fatalf("the new key signed before %s", at)
	}
}
