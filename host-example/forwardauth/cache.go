package forwardauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// identity is what a protected app learns of a user: the Remote-* headers.
type identity struct {
	userID            int64
	id                string // the public id (Remote-Id)
	user, name, email string
	groups            []string
	// headers are the Remote-* header values, made once when the session is cached: every
	// allowed answer puts these slices into its header map as they are (nothing writes into
	// them), so a cached hit allocates none of them.
	headers remoteHeaders
}

// remoteHeaders are the values of the Remote-* headers, in the form of an http.Header value.
type remoteHeaders struct {
	id, user, name, email, groups []string
}

// anonymousHeaders are the Remote-* values of an allowed answer without an identity (an app
// path open to all): each empty, so a value a client sent is never passed on.
var anonymousHeaders = remoteHeaders{id: []string{""}, user: []string{""}, name: []string{""}, email: []string{""}, groups: []string{""}}

// set puts the values into h under their canonical names, replacing what h had.
func (v *remoteHeaders) set(h http.Header) {
	h[HeaderID] = v.id
	h[HeaderUser] = v.user
	h[HeaderName] = v.name
	h[HeaderEmail] = v.email
	h[HeaderGroups] = v.groups
}

// entry is a cached answer for one session id: a live session (ident set) or none.
type entry struct {
	ident   *identity
	expires time.Time // the session's own end
	checked time.Time // when the store last said so
	gen     uint64    // the store's AccessRevoked version when checked
}

// sessionCache answers "whose session is this?" from memory. An answer is used until the
// bound (ttl) passes or the store announces a revocation (store.AccessRevoked), then asked
// again: an announced revocation is seen at once, any other change within ttl.
type sessionCache struct {
	store Store
	ttl   time.Duration
	now   func() time.Time
	max   int64

	m     sync.Map // cookie token → *entry (a hit costs no hashing)
	size  atomic.Int64
	group singleflight.Group
}

// lookup is the identity of a forward-auth cookie token, or nil for none (forged, unknown,
// expired, revoked). Only a cache miss or a stale entry reads the store.
func (c *sessionCache) lookup(ctx context.Context, token string) (*identity, error) {
	now := c.now()
	gen := c.store.Changes().Version(store.AccessRevoked)
	if v, ok := c.m.Load(token); ok {
		e := v.(*entry)
		if e.gen == gen && now.Sub(e.checked) < c.ttl {
			if e.ident != nil && !now.Before(e.expires) {
				return nil, nil
			}
			return e.ident, nil
		}
	}
	id := SessionID(c.store, token)
	if id == "" {
		return nil, nil // forged: never cached, never read
	}
	v, err, _ := c.group.Do(id, func() (any, error) {
		u, exp, err := c.store.ForwardSession(ctx, id)
		e := &entry{checked: now, gen: gen, expires: exp}
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			e.ident = identityOf(u)
		}
		c.put(token, e)
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*entry).ident, nil
}

// put stores an entry; a full cache first drops what is stale, then, if still full, all.
func (c *sessionCache) put(token string, e *entry) {
	if _, loaded := c.m.Swap(token, e); loaded {
		return
	}
	if c.size.Add(1) <= c.max {
		return
	}
	now := c.now()
	c.m.Range(func(k, v any) bool {
		if old := v.(*entry); now.Sub(old.checked) >= c.ttl || (old.ident != nil && !now.Before(old.expires)) {
			c.forget(k.(string))
		}
		return true
	})
	if c.size.Load() > c.max {
		c.m.Range(func(k, _ any) bool { c.forget(k.(string)); return true })
	}
}

func (c *sessionCache) forget(token string) {
	if _, ok := c.m.LoadAndDelete(token); ok {
		c.size.Add(-1)
	}
}

// identityOf is the identity headers of u; a group whose name holds a comma (the header's
// separator) or a control character is left out rather than split.
func identityOf(u *store.User) *identity {
	id := &identity{userID: u.ID, id: headerSafe(u.PublicID), user: headerSafe(u.Username), name: headerSafe(u.Name), email: headerSafe(u.Email)}
	for _, g := range u.Groups {
		if g != "" && g == headerSafe(g) && !strings.Contains(g, ",") {
			id.groups = append(id.groups, g)
		}
	}
	id.headers = remoteHeaders{id: []string{id.id}, user: []string{id.user}, name: []string{id.name}, email: []string{id.email},
		groups: []string{strings.Join(id.groups, ",")}}
	return id
}

// headerSafe drops control characters (a header value must not carry them).
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
