package storetest

import (
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var keyChecks = []check{
	{"SigningKeys", signingKeys},
}

// keyIDs are the ids of keys, in order.
func keyIDs(ks []store.SigningKey) string {
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	return fmt.Sprint(ids)
}

// Keys are listed newest first on either handle, the active ones and those retired after a
// time; retiring keeps the key named and other algorithms' keys; each change is announced.
func signingKeys(e *env) {
	t0 := e.time()
	for i, k := range []store.SigningKey{{ID: "k1", Alg: "RS256"}, {ID: "k2", Alg: "RS256"}, {ID: "k3", Alg: "ES256"}} {
		e.advance(time.Second)
		k.PrivatePEM = []byte("pem-" + k.ID)
		s := []*store.Store{e.a, e.b}[i%2]
		before := s.Changes().Version(store.SigningKeys)
		e.ok(s.PutSigningKey(e.ctx, k), "put "+k.ID)
		if s.Changes().Version(store.SigningKeys) == before {
			e.Errorf("a new key was not announced")
		}
	}
	if err := e.a.PutSigningKey(e.ctx, store.SigningKey{ID: "k1", Alg: "RS256", PrivatePEM: []byte("again")}); err == nil {
		e.Error("a second key with one id was stored")
	}
	ks, err := e.b.SigningKeys(e.ctx, t0)
	e.ok(err, "list")
	if keyIDs(ks) != "[k3 k2 k1]" {
		e.Fatalf("keys %s, want [k3 k2 k1]", keyIDs(ks))
	}
	if k := ks[2]; k.Alg != "RS256" || string(k.PrivatePEM) != "pem-k1" || !k.CreatedAt.Equal(t0.Add(time.Second)) || !k.RetiredAt.IsZero() {
		e.Fatalf("k1 read as %+v", k)
	}
	e.advance(time.Hour)
	before := e.a.Changes().Version(store.SigningKeys)
	e.ok(e.a.RetireSigningKeys(e.ctx, "RS256", "k2"), "retire")
	if e.a.Changes().Version(store.SigningKeys) == before {
		e.Error("retiring was not announced")
	}
	ks, err = e.b.SigningKeys(e.ctx, e.time().Add(-time.Second))
	e.ok(err, "list with the just retired")
	if keyIDs(ks) != "[k3 k2 k1]" || !ks[2].RetiredAt.Equal(e.time()) || !ks[1].RetiredAt.IsZero() || !ks[0].RetiredAt.IsZero() {
		e.Fatalf("after retiring: %+v", ks)
	}
	e.advance(time.Second)
	ks, err = e.b.SigningKeys(e.ctx, e.time().Add(-time.Second))
	e.ok(err, "list without the retired")
	if keyIDs(ks) != "[k3 k2]" {
		e.Fatalf("keys retired before since listed: %s", keyIDs(ks))
	}
}
