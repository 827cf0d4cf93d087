package store

import (
	"testing"
	"time"
)

// A transaction that keeps losing waits longer and longer, at random up to a ceiling that
// doubles from 2 ms and stops at 128 ms: contenders spread out (the burst of sign-ins that
// lost 20 times in a row on PostgreSQL with a pause that grew only linearly).
func TestRetryPauseGrowsAndIsBounded(t *testing.T) {
	for attempt := 1; attempt < maxTxAttempts; attempt++ {
		ceiling := 2 * time.Millisecond << min(attempt-1, 6)
		var longest time.Duration
		for range 2000 {
			p := retryPause(attempt)
			if p <= 0 || p > ceiling {
				t.Fatalf("attempt %d: pause %v, want in (0, %v]", attempt, p, ceiling)
			}
			longest = max(longest, p)
		}
		if longest < ceiling*3/4 { // 2,000 draws: missing the top quarter has odds of 0.75^2000
			t.Errorf("attempt %d: longest of 2,000 pauses %v, want near %v (full jitter)", attempt, longest, ceiling)
		}
	}
	if total := func() (d time.Duration) {
		for a := 1; a < maxTxAttempts; a++ {
			d += 2 * time.Millisecond << min(a-1, 6)
		}
		return d
	}(); total > 3*time.Second {
		t.Errorf("a transaction that loses every attempt may wait %v in all; want at most 3 s", total)
	}
}
