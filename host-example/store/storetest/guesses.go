package storetest

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Guesses claimed at once on both replicas are counted exactly: of more calls than the
// limit, exactly max are counted (a limit shared by replicas gives no replica extra guesses).
func raceClaimGuess(e *env) {
	const perSide = 6
	for i := range rounds {
		key, max := fmt.Sprint("g", i), 5+i%4
		var counted atomic.Int32
		got := race(e, func(s *store.Store, _ int) error {
			for range perSide {
				g, err := s.ClaimGuess(e.ctx, key, max, time.Hour)
				if err != nil {
					return err
				}
				if g != nil {
					counted.Add(1)
				}
			}
			return nil
		})
		e.ok(got[0], "ClaimGuess on a")
		e.ok(got[1], "ClaimGuess on b")
		n, err := e.b.Guesses(e.ctx, key)
		e.ok(err, "Guesses")
		if int(counted.Load()) != max || n != max {
			e.Fatalf("round %d: %d calls with max %d: %d counted, %d stored", i, 2*perSide, max, counted.Load(), n)
		}
	}
}

// Two replicas write a made-once value at once: both answer the same one, the first's.
func raceMetaOnce(e *env) {
	for i := range rounds {
		key := fmt.Sprint("once", i)
		got := race(e, func(s *store.Store, side int) string {
			v, err := s.MetaOnce(e.ctx, key, fmt.Sprint("side", side))
			e.ok(err, "MetaOnce")
			return v
		})
		if got[0] != got[1] || got[0] == "" {
			e.Fatalf("round %d: the replicas disagree: %q, %q", i, got[0], got[1])
		}
	}
}

// Forgetting the guesses of one door drops every counter under its prefix, on every handle,
// and keeps the others.
func forgetGuesses(e *env) {
	for _, key := range []string{"admin/all", "admin/client/a", "source/s/pin", "admins"} {
		g, err := e.a.ClaimGuess(e.ctx, key, 5, time.Hour)
		e.ok(err, "ClaimGuess")
		if g == nil {
			e.Fatalf("%s not counted", key)
		}
	}
	e.ok(e.b.ForgetGuesses(e.ctx, "admin/"), "ForgetGuesses")
	for key, want := range map[string]int{"admin/all": 0, "admin/client/a": 0, "source/s/pin": 1, "admins": 1} {
		if n, err := e.a.Guesses(e.ctx, key); err != nil || n != want {
			e.Fatalf("%s after forgetting admin/: %d %v, want %d", key, n, err, want)
		}
	}
	if err := e.a.ForgetGuesses(e.ctx, ""); err == nil {
		e.Fatal("forgetting every guess with an empty prefix")
	}
}
