package main

import "testing"

// The stated workload: 2,000 users with 5 sessions each, a fifth of them making 80 % of the
// requests; every session is asked at least once.
func TestSkewedAsksEverySessionAndTheHotMost(t *testing.T) {
	const users, per = 2000, 5
	order := skewed(users, per, 0.2, 0.8)
	seen := make([]int, users*per)
	hot := 0
	for _, k := range order {
		seen[k]++
		if k/per < users/5 {
			hot++
		}
	}
	for k, n := range seen {
		if n == 0 {
			t.Fatalf("session %d (user %d) is never asked", k, k/per)
		}
	}
	if share := float64(hot) / float64(len(order)); share < 0.79 || share > 0.81 {
		t.Fatalf("the hot fifth makes %.3f of %d requests, want 0.8", share, len(order))
	}
}
