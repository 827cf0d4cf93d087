package store

import (
	"context"
	"testing"
	"time"
)

// Guesses count up to their max within a window, refuse beyond it, start again after it,
// and a forgiven guess frees its place.
func TestClaimGuessWindow(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	s.SetClock(func() time.Time { return now })
	var last *Guess
	claim := func() bool {
		g, err := s.ClaimGuess(ctx, "k", 3, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if g != nil {
			last = g
		}
		return g != nil
	}
	for i := 0; i < 3; i++ {
		if !claim() {
			t.Fatalf("guess %d refused", i+1)
		}
	}
	if claim() {
		t.Fatal("a fourth guess within the window was counted")
	}
	if n, _ := s.Guesses(ctx, "k"); n != 3 {
		t.Fatalf("%d guesses counted, want 3", n)
	}
	if err := s.ForgiveGuess(ctx, last); err != nil {
		t.Fatal(err)
	}
	if !claim() || claim() {
		t.Fatal("a forgiven guess did not free exactly one place")
	}
	old := last
	now = now.Add(time.Minute)
	if !claim() {
		t.Fatal("a guess after the window was refused")
	}
	if n, _ := s.Guesses(ctx, "k"); n != 1 {
		t.Fatalf("the new window counts %d, want 1", n)
	}
	// A guess of the old window, taken back late, does not free a place in the new one.
	if err := s.ForgiveGuess(ctx, old); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Guesses(ctx, "k"); n != 1 {
		t.Fatalf("a late take-back changed the new window: %d, want 1", n)
	}
	// A counter taken back to nothing goes: refused floods leave no rows.
	if err := s.ForgiveGuess(ctx, last); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM attempts`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d counter rows after the last guess was taken back (%v)", rows, err)
	}
}
