// Package auditlog writes the lines an operator follows in the log (admin actions, token
// grants, forward-auth denials, every recorded event), each kind limited to a rate so that a
// flood of denials cannot flood the log; the next line of a kind says how many were left out.
package auditlog

import (
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/ratelimit"
)

// DefaultPerMinute is how many lines of one kind a minute are written at most (a burst of a
// sixth of it): enough to follow a person, not a flood.
const DefaultPerMinute = 600

// Log is a rate-limited info log by kind.
type Log struct {
	log     hclog.Logger
	buckets *ratelimit.Buckets
	mu      sync.Mutex
	dropped map[string]int
}

// New writes to l at most perMinute lines of each kind a minute (0: DefaultPerMinute).
func New(l hclog.Logger, perMinute int) *Log {
	if perMinute <= 0 {
		perMinute = DefaultPerMinute
	}
	if l == nil {
		l = hclog.NewNullLogger()
	}
	return &Log{log: l, buckets: ratelimit.New(float64(perMinute), perMinute/6+1, 1000), dropped: map[string]int{}}
}

// Info writes msg with args under kind, unless the kind is over its rate.
func (a *Log) Info(kind, msg string, args ...any) {
	if a == nil {
		return
	}
	a.mu.Lock()
	if !a.buckets.Take(kind) {
		a.dropped[kind]++
		a.mu.Unlock()
		return
	}
	n := a.dropped[kind]
	delete(a.dropped, kind)
	a.mu.Unlock()
	args = append([]any{"kind", kind}, args...)
	if n > 0 {
		args = append(args, "left_out_before", n)
	}
	a.log.Info(msg, args...)
}
