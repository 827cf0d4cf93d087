package access

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// entry is one cached owner-side list.
type entry struct {
	value   any
	fetched time.Time
	err     error
	errAt   time.Time
}

// Cache holds owner-side lists per (owner token, list), fetched once per TTL however many
// logins ask at once, and served stale when a refresh fails.
type Cache struct {
	TTL time.Duration
	// ErrorHold is how long a failure without a stale value is answered from memory.
	ErrorHold time.Duration
	now       func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	group   singleflight.Group
}

// NewCache returns a cache with the given TTL.
func NewCache(ttl time.Duration) *Cache {
	return &Cache{TTL: ttl, ErrorHold: 5 * time.Second, now: time.Now, entries: map[string]*entry{}}
}

// SetTTL changes the TTL (a config change) while logins may be reading.
func (c *Cache) SetTTL(ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.TTL = ttl
}

// Lookup is a cached value with its age and, when it is stale, why.
type Lookup struct {
	Value any
	Age   time.Duration
	// StaleErr is the error of the failed refresh when Value is stale.
	StaleErr error
}

// key never holds a token in clear.
func cacheKey(token, list string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:8]) + "/" + list
}

// Get returns the list, fetching it when missing or older than the TTL.
func (c *Cache) Get(ctx context.Context, token, list string, fetch func(context.Context) (any, error)) (Lookup, error) {
	k := cacheKey(token, list)
	c.mu.Lock()
	e := c.entries[k]
	now := c.now()
	if e != nil && e.value != nil && now.Sub(e.fetched) < c.TTL {
		c.mu.Unlock()
		return Lookup{Value: e.value, Age: now.Sub(e.fetched)}, nil
	}
	if e != nil && e.value == nil && e.err != nil && now.Sub(e.errAt) < c.ErrorHold {
		err := e.err
		c.mu.Unlock()
		return Lookup{}, err
	}
	c.mu.Unlock()
	ch := c.group.DoChan(k, func() (any, error) {
		// Detached from one caller's cancellation: the result serves every waiter.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		v, err := fetch(fctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		cur := c.entries[k]
		if cur == nil {
			cur = &entry{}
			c.entries[k] = cur
		}
		if err != nil {
			cur.err, cur.errAt = err, c.now()
			return nil, err
		}
		cur.value, cur.fetched, cur.err = v, c.now(), nil
		return v, nil
	})
	select {
	case <-ctx.Done():
		return Lookup{}, ctx.Err()
	case r := <-ch:
		if r.Err == nil {
			return Lookup{Value: r.Val}, nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if cur := c.entries[k]; cur != nil && cur.value != nil {
			return Lookup{Value: cur.value, Age: c.now().Sub(cur.fetched), StaleErr: r.Err}, nil
		}
		return Lookup{}, r.Err
	}
}
