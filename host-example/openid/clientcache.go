package openid

import (
	"context"
	"sync"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// clientCache reads clients through a copy in memory (every token request asks for its
// client several times); the copy is dropped when the store announces a change of clients
// (store.OIDCClients).
type clientCache struct {
	st Store

	mu      sync.Mutex
	version uint64 // the store's OIDCClients version the copies were read at
	m       map[string]*store.OIDCClient
}

// byID is the client of id (a copy the caller may change).
func (c *clientCache) byID(ctx context.Context, id string) (*store.OIDCClient, error) {
	v := c.st.Changes().Version(store.OIDCClients)
	c.mu.Lock()
	if c.m == nil || c.version != v {
		c.m, c.version = map[string]*store.OIDCClient{}, v
	}
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
