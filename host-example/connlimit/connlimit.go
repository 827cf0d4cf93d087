// Package connlimit caps the connections a listener keeps open, in total and per client
// address, so that idle connections from one client cannot use up the host's file
// descriptors. A connection over a cap is closed at once.
package connlimit

import (
	"net"
	"net/netip"
	"sync"

	"github.com/plexlogin/plexlogin/host-example/ratelimit"
)

// Listener wraps a listener with the caps.
type Listener struct {
	net.Listener
	total, perClient int
	// exempt reports addresses with no per-client cap (trusted reverse proxies).
	exempt func(netip.Addr) bool

	mu       sync.Mutex
	open     int
	byClient map[string]int
}

// New caps ln at total open connections and perClient per client (IPv6 by /64); exempt
// addresses (may be nil) count only towards the total.
func New(ln net.Listener, total, perClient int, exempt func(netip.Addr) bool) *Listener {
	if exempt == nil {
		exempt = func(netip.Addr) bool { return false }
	}
	return &Listener{Listener: ln, total: total, perClient: perClient, exempt: exempt, byClient: map[string]int{}}
}

// Accept returns the next connection within the caps, closing those over them.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := remoteAddr(c)
		key := ratelimit.ClientKey(addr)
		capped := addr.IsValid() && !l.exempt(addr)
		l.mu.Lock()
		if l.open >= l.total || (capped && l.byClient[key] >= l.perClient) {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open++
		if capped {
			l.byClient[key]++
		}
		l.mu.Unlock()
		return &conn{Conn: c, release: func() { l.release(key, capped) }}, nil
	}
}

func (l *Listener) release(key string, capped bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if capped {
		if l.byClient[key]--; l.byClient[key] <= 0 {
			delete(l.byClient, key)
		}
	}
}

// Open is how many connections are open.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

func remoteAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(ta.IP)
		return a.Unmap()
	}
	return netip.Addr{}
}

type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
