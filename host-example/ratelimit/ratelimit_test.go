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
