// Package ratelimit holds the host's per-client token buckets (golang.org/x/time/rate):
// a flood from one client is slowed, then refused, while other clients go on. Keys are
// bounded in number; idle ones are evicted.
package ratelimit

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ClientKey is the key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber).
func ClientKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// NetworkOf is the network of a client key (ClientKey's): an IPv4 address's /24, an IPv6
// /64's /48 (one site); a key that is neither is its own network.
func NetworkOf(clientKey string) string {
	if a, err := netip.ParseAddr(clientKey); err == nil {
		p, _ := a.Prefix(24)
		return p.String()
	}
	if p, err := netip.ParsePrefix(clientKey); err == nil && p.Addr().Is6() {
		n, _ := p.Addr().Prefix(48)
		return n.String()
	}
	return clientKey
}

// Buckets is a set of token buckets, one per key, with the same rate and burst.
type Buckets struct {
	limit   rate.Limit
	burst   int
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
	held int // tokens claimed by attempts under way (Claim)
}

// New returns buckets refilling perMinute tokens a minute up to burst, keeping at most maxKeys keys.
func New(perMinute float64, burst, maxKeys int) *Buckets {
	return &Buckets{limit: rate.Limit(perMinute / 60), burst: burst, maxKeys: maxKeys, buckets: map[string]*bucket{}}
}

func (b *Buckets) get(key string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.buckets[key]
	if e == nil {
		if len(b.buckets) >= b.maxKeys {
			b.evict(now)
		}
		e = &bucket{lim: rate.NewLimiter(b.limit, b.burst)}
		b.buckets[key] = e
	}
	e.seen = now
	return e.lim
}

// evict drops buckets that have refilled (idle long enough to be full again), then, if
// still over, the least recently seen half.
func (b *Buckets) evict(now time.Time) {
	full := time.Duration(float64(b.burst) / float64(b.limit) * float64(time.Second))
	for k, e := range b.buckets {
		if now.Sub(e.seen) > full {
			delete(b.buckets, k)
		}
	}
	if len(b.buckets) < b.maxKeys {
		return
	}
	seen := make([]time.Time, 0, len(b.buckets))
	for _, e := range b.buckets {
		seen = append(seen, e.seen)
	}
	cut := meanTime(seen)
	for k, e := range b.buckets {
		if !e.seen.After(cut) {
			delete(b.buckets, k)
		}
	}
}

// meanTime is the mean of ts; it splits the keys roughly in half.
func meanTime(ts []time.Time) time.Time {
	var sum time.Duration
	base := ts[0]
	for _, t := range ts {
		sum += t.Sub(base)
	}
	return base.Add(sum / time.Duration(len(ts)))
}

// Wait takes a token for key, waiting up to maxWait for one (slowing a flood down); it
// reports false, with how long a token would take, when the wait would be longer.
func (b *Buckets) Wait(ctx context.Context, key string, maxWait time.Duration) (bool, time.Duration) {
	now := time.Now()
	r := b.get(key, now).ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	d := r.DelayFrom(now)
	if d > maxWait {
		r.CancelAt(now)
		return false, d
	}
	if d == 0 {
		return true, 0
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true, 0
	case <-ctx.Done():
		r.Cancel()
		return false, d
	}
}

// Has reports whether key has a token left, without taking it.
func (b *Buckets) Has(key string) bool {
	return b.get(key, time.Now()).Tokens() >= 1
}

// Claim holds one of key's tokens for an attempt whose outcome is not known yet (an admin
// password being checked): while held, others' claims see it as gone, so attempts sent at
// once cannot all pass a look at the tokens left. done(true) takes the held token (the
// attempt failed), done(false) frees it; ok is false, and done a no-op, when none is left.
func (b *Buckets) Claim(key string) (ok bool, done func(counts bool)) {
	now := time.Now()
	lim := b.get(key, now)
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.buckets[key]
	if e == nil || lim.TokensAt(now)-float64(e.held) < 1 {
		return false, func(bool) {}
	}
	e.held++
	var once sync.Once
	return true, func(counts bool) {
		once.Do(func() {
			b.mu.Lock()
			e.held--
			b.mu.Unlock()
			if counts {
				lim.Allow()
			}
		})
	}
}

// Take takes a token for key if there is one.
func (b *Buckets) Take(key string) bool {
	return b.get(key, time.Now()).Allow()
}

// Len is how many keys are kept.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buckets)
}
