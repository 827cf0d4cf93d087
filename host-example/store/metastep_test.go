package store

import (
	"context"
	"testing"
)

// A step is claimed once: a lower or equal step after it is refused, a higher one is
// claimed; an emptied value (a reset) claims again.
func TestAdvanceMetaStep(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	for i, c := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}, {5, false}} {
		got, err := s.AdvanceMetaStep(ctx, "k", c.step)
		if err != nil || got != c.want {
			t.Fatalf("%d: step %d: %v %v, want %v", i, c.step, got, err, c.want)
		}
	}
	if err := s.SetMeta(ctx, "k", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AdvanceMetaStep(ctx, "k", 7); err != nil || !got {
		t.Fatalf("after a reset: %v %v", got, err)
	}
	if v, _ := s.Meta(ctx, "k"); v != "7" {
		t.Fatalf("kept %q", v)
	}
}
