package openid

import (
	"context"
	"net/url"
	"sync"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// clientCache reads clients through a copy in memory (every token request asks for its
// client several times); the copy is dropped when the store announces a change of clients
// (store.OIDCClients).
type clientCache struct {
	st ClientStore

	mu      sync.Mutex
	version uint64 // the store's OIDCClients version the copies were read at
	m       map[string]*store.OIDCClient
	// origins are the origins (scheme://host) of every registered redirect URI; nil: not read.
	origins map[string]bool
}

// fresh drops the copies when the clients changed since they were read; c.mu is held.
func (c *clientCache) fresh(v uint64) {
	if c.m == nil || c.version != v {
		c.m, c.origins, c.version = map[string]*store.OIDCClient{}, nil, v
	}
}

// allowsOrigin reports whether origin is the origin of a registered redirect URI (CORS). The
// set is read once per change of clients, not at every cross-origin request.
func (c *clientCache) allowsOrigin(ctx context.Context, origin string) bool {
	v := c.st.Changes().Version(store.OIDCClients)
	c.mu.Lock()
	c.fresh(v)
	origins := c.origins
	c.mu.Unlock()
	if origins == nil {
		clients, err := c.st.OIDCClients(ctx)
		if err != nil {
			return false
		}
		origins = map[string]bool{}
		for _, cl := range clients {
			for _, ru := range cl.RedirectURIs {
				if u, err := url.Parse(ru); err == nil {
					origins[u.Scheme+"://"+u.Host] = true
				}
			}
		}
		c.mu.Lock()
		if c.version == v {
			c.origins = origins
		}
		c.mu.Unlock()
	}
	return origins[origin]
}

// byID is the client of id (a copy the caller may change).
func (c *clientCache) byID(ctx context.Context, id string) (*store.OIDCClient, error) {
	v := c.st.Changes().Version(store.OIDCClients)
	c.mu.Lock()
	c.fresh(v)
	cached, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		cp := *cached
		return &cp, nil
	}
	cl, err := c.st.OIDCClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cp := *cl
	c.mu.Lock()
	if c.version == v {
		c.m[id] = &cp
	}
	c.mu.Unlock()
	return cl, nil
}
