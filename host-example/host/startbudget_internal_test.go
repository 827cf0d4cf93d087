package host

import (
	"fmt"
	"testing"
)

// With the default limits, 3,000 starts from 3,000 /64s of one /48 take the network's share
// and the shared part (about 200, not the whole budget); another network, and a signed-in
// person or a known browser of the flooding one, still start from the reserve.
func TestStartBudgetKeepsTheReserveForQuietClients(t *testing.T) {
	l := StartLimits{}.withDefaults()
	b := newStartBudget(l)
	granted := 0
	for i := range 3000 {
		if b.take(quietKey(fmt.Sprintf("2001:db8:1:%x::/64", i), 0, ""), true) {
			granted++
		}
	}
	if granted < l.PerMinute-l.Reserve || granted >= l.PerMinute {
		t.Fatalf("the flood got %d starts of a budget of %d with %d reserved", granted, l.PerMinute, l.Reserve)
	}
	if !b.take(quietKey("198.51.100.7", 0, ""), true) || !b.take(quietKey("2001:db8:1:5::/64", 42, ""), true) ||
		!b.take(quietKey("2001:db8:1:6::/64", 0, "a-known-browser"), true) {
		t.Fatal("a quiet network, or a signed-in person or known browser of the flooding one, was refused")
	}
}

// While the shared part is closed (the upstream asked us to slow down), a network past its
// share starts nothing even with the budget full, and a quiet one still starts.
func TestStartBudgetClosedSharedPartServesOnlyQuietClients(t *testing.T) {
	l := StartLimits{}.withDefaults()
	b := newStartBudget(l)
	for i := range l.PerNetwork {
		if !b.take(quietKey(fmt.Sprintf("2001:db8:1:%x::/64", i), 0, ""), true) {
			t.Fatalf("start %d of the network's share refused", i)
		}
	}
	if b.take(quietKey("2001:db8:1:ffff::/64", 0, ""), false) {
		t.Fatal("a busy network started while the shared part was closed")
	}
	if !b.take(quietKey("2001:db8:1:ffff::/64", 0, ""), true) {
		t.Fatal("a busy network refused while the shared part is open and the budget full")
	}
	if !b.take(quietKey("198.51.100.7", 0, ""), false) {
		t.Fatal("a quiet network refused while the shared part was closed")
	}
}
