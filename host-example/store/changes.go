package store

import "sync/atomic"

// Topic is one kind of stored data that consumers keep copies of (caches).
type Topic uint8

// The topics the store announces.
const (
	// AccessRevoked: someone's access ended (a user or a source disabled, forward-auth
	// sessions ended); caches of sessions recheck.
	AccessRevoked Topic = iota
	// ForwardRules: a forward-auth rule was added, changed or deleted.
	ForwardRules
	// OIDCClients: an OpenID Connect client was added, changed or deleted.
	OIDCClients
	// SigningKeys: a provider signing key was added or retired.
	SigningKeys

	topicCount // the number of topics
)

// Changes is the store's one change-notification mechanism: every method of the store that
// changes data of a topic calls Notify after its change is committed, and a consumer that
// keeps a copy of such data notes Version when it reads and reads again once Version moved.
// A version never moves backwards and reading it is one atomic load.
//
// Notify is also the entry for changes made elsewhere: a store shared by several processes
// (PostgreSQL) calls Notify(topic) for each notification it receives from the others
// (LISTEN/NOTIFY, one channel per topic); consumers are unchanged. Until then changes made
// by another process show within each consumer's own time bound.
type Changes struct {
	versions [topicCount]atomic.Uint64
}

// Notify announces a committed change of topic.
func (c *Changes) Notify(t Topic) { c.versions[t].Add(1) }

// Version is the count of changes of topic announced so far.
func (c *Changes) Version(t Topic) uint64 { return c.versions[t].Load() }
