package store

import (
	"context"
	"testing"
	"time"
)

// Two rotations at once (-rotate-keys on two replicas) whose halves interleave, both keys
// stored before either retires the others, leave a key that signs once they are due: the
// one due last (of one due at the same time, the greater id), not none.
func TestRotationsAtOnceLeaveASigningKey(t *testing.T) {
	for _, gap := range []time.Duration{0, time.Minute} {
		s, _ := open(t)
		ctx := context.Background()
		if err := s.PutSigningKey(ctx, SigningKey{ID: "k0", Alg: "RS256", PrivatePEM: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		a1 := time.Now().Add(15 * time.Minute).Truncate(time.Second)
		a2 := a1.Add(gap)
		for _, k := range []SigningKey{{ID: "k1", ActiveAt: a1}, {ID: "k2", ActiveAt: a2}} {
			k.Alg, k.PrivatePEM = "RS256", []byte("x")
			if err := s.PutSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RetireSigningKeysAt(ctx, "RS256", "k1", a1); err != nil {
			t.Fatal(err)
		}
		if err := s.RetireSigningKeysAt(ctx, "RS256", "k2", a2); err != nil {
			t.Fatal(err)
		}
		keys, err := s.SigningKeys(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		later := a2.Add(time.Second)
		var signing []string
		for _, k := range keys {
			if !k.ActiveAt.After(later) && (k.RetiredAt.IsZero() || k.RetiredAt.After(later)) {
				signing = append(signing, k.ID)
			}
		}
		if len(signing) != 1 || signing[0] != "k2" {
			t.Fatalf("gap %s: keys able to sign after both rotations are due: %v (want k2)", gap, signing)
		}
	}
}
