package openid

import (
	"context"
	"strings"
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

// RotateKeys rotates the key of every algorithm in use (each that has a key, and the
// default even without one), each in two phases; an algorithm not in use gets no key.
func TestRotateKeysRotatesEachAlgorithmInUse(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := EnsureKey(ctx, st, ES256); err != nil {
		t.Fatal(err)
	}
	rotated, err := RotateKeys(ctx, st, RS256, time.Hour)
	if err != nil || len(rotated) != 2 || rotated[0].Alg != RS256 || rotated[1].Alg != ES256 {
		t.Fatalf("rotated %+v %v", rotated, err)
	}
	ring := &keyring{st: st, alg: RS256, keepFor: time.Hour}
	signing, all, err := ring.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The new ES256 key waits its lead: the first one still signs, both are published.
	if es := signing[ES256]; es == nil || es.id == rotated[1].ID || len(all) != 3 {
		t.Fatalf("ES256 signs with %+v; %d keys published", es, len(all))
	}
	if signing[EdDSA] != nil || signing[RS256] != nil { // RS256 had none: its first waits its lead too
		t.Fatalf("keys of algorithms that have none active: %+v", signing)
	}
	if _, err := ring.signer(ctx, ""); err == nil || !strings.Contains(err.Error(), "no active RS256 signing key") {
		t.Fatalf("the default without an active key: %v", err)
	}
}
