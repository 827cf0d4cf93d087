package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestClientKeyIPv6By64(t *testing.T) {
	a := ClientKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	b := ClientKey(netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	c := ClientKey(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Fatalf("keys %s %s %s", a, b, c)
	}
	if k := ClientKey(netip.MustParseAddr("::ffff:192.0.2.7")); k != "192.0.2.7" {
		t.Fatalf("mapped IPv4: %s", k)
	}
}

// A client key's network is its IPv4 /24 or its IPv6 /48.
func TestNetworkOf(t *testing.T) {
	for key, want := range map[string]string{
		"192.0.2.7": "192.0.2.0/24", "192.0.2.250": "192.0.2.0/24", "198.51.100.1": "198.51.100.0/24",
		ClientKey(netip.MustParseAddr("2001:db8:1:2::1")): "2001:db8:1::/48", ClientKey(netip.MustParseAddr("2001:db8:1:ffff::1")): "2001:db8:1::/48",
		ClientKey(netip.MustParseAddr("2001:db8:2::1")): "2001:db8:2::/48", "not an address": "not an address",
	} {
		if got := NetworkOf(key); got != want {
			t.Errorf("NetworkOf(%q) = %q, want %q", key, got, want)
		}
	}
}

// One flooding client runs out of tokens; another client still gets in.
func TestBucketsPerClient(t *testing.T) {
	b := New(60, 3, 100)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if ok, _ := b.Wait(ctx, "flood", 0); !ok {
			t.Fatalf("burst %d refused", i)
		}
	}
	if ok, after := b.Wait(ctx, "flood", 0); ok || after <= 0 {
		t.Fatalf("over the burst: %v %v", ok, after)
	}
	// A short wait is granted: at 1/s the next token comes within about a second.
	if ok, _ := b.Wait(ctx, "flood", 2*time.Second); !ok {
		t.Fatal("not slowed down but refused")
	}
	if ok, _ := b.Wait(ctx, "other", 0); !ok {
		t.Fatal("another client refused")
	}
	if !b.Has("fresh") || !b.Take("fresh") {
		t.Fatal("fresh key")
	}
}

func TestBucketsBounded(t *testing.T) {
	b := New(60, 1, 1000)
	for i := 0; i < 50000; i++ {
		b.Take(fmt.Sprint("k", i))
	}
	if n := b.Len(); n > 1000 {
		t.Fatalf("%d keys kept", n)
	}
}

// A claimed token is gone for other claims until done: done(true) takes it, done(false)
// frees it; a refused claim holds nothing.
func TestClaimHoldsUntilDone(t *testing.T) {
	b := New(1, 2, 10) // one a minute: nothing refills during the test
	ok1, done1 := b.Claim("k")
	ok2, done2 := b.Claim("k")
	if !ok1 || !ok2 {
		t.Fatal("claims within the burst refused")
	}
	if ok, done := b.Claim("k"); ok {
		t.Fatal("a claim over the burst passed while two are under way")
	} else {
		done(true) // a no-op
	}
	done2(false)
	ok3, done3 := b.Claim("k")
	if !ok3 {
		t.Fatal("a freed claim's token cannot be claimed")
	}
	done1(true)
	done3(true)
	done3(true) // once only
	if b.Has("k") {
		t.Fatal("two failed attempts left a token of a burst of two")
	}
}
