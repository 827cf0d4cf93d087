package host

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// When a person's session was last seen is written at most every few minutes and never on
// the request that saw it: loading a session (Sessions.Of) only notes it in memory, and a
// timer writes the notes of a few seconds in one batch (store.TouchSessions), which slides
// the expiry of the sessions that slide. Forward-auth's decisions never load a host session,
// so the hot path writes nothing. An admin session is never noted: its expiry is fixed from
// its sign-in.

const (
	// seenEvery is how stale a session's last seen may get before a load notes it again.
	seenEvery = 5 * time.Minute
	// seenFlushAfter is how long notes wait to be written together.
	seenFlushAfter = 5 * time.Second
	// seenMax bounds the notes kept between writes (more are dropped until the next write).
	seenMax = 10000
)

// lastSeen are the notes of sessions seen, waiting for their batch.
type lastSeen struct {
	store      SessionStore
	flushAfter time.Duration

	mu      sync.Mutex
	pending map[string]time.Time
	timer   bool
}

// every is how stale sess's last seen may get: seenEvery, or a tenth of its slide when that
// is shorter (an idle timeout of 20 minutes is kept to within 2).
func every(sess *store.Session) time.Duration {
	if sess.Slide > 0 && sess.Slide/10 < seenEvery {
		return sess.Slide / 10
	}
	return seenEvery
}

// note notes that sess, a loaded stored session, was seen now, when it is a person's session
// whose last seen is stale; the write comes later (flush).
func (l *lastSeen) note(sess *store.Session) {
	if sess == nil || sess.UserID == 0 || sess.Admin {
		return
	}
	now := l.store.Now()
	if now.Sub(sess.LastSeen) < every(sess) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		l.pending = map[string]time.Time{}
	}
	if len(l.pending) >= seenMax {
		return
	}
	l.pending[sess.ID] = now
	if !l.timer && l.flushAfter > 0 {
		l.timer = true
		time.AfterFunc(l.flushAfter, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = l.flush(ctx) // a failed batch is noted again by the next load
		})
	}
}

// flush writes the notes waiting.
func (l *lastSeen) flush(ctx context.Context) error {
	l.mu.Lock()
	batch := make([]store.SessionSeen, 0, len(l.pending))
	for id, at := range l.pending {
		batch = append(batch, store.SessionSeen{ID: id, At: at})
	}
	l.pending, l.timer = nil, false
	l.mu.Unlock()
	return l.store.TouchSessions(ctx, batch)
}

// FlushLastSeen writes the last-seen notes waiting now (a timer writes them a few seconds
// after they are made; tests and a stopping host call this).
func (s *Sessions) FlushLastSeen(ctx context.Context) error {
	if err := s.seen.flush(ctx); err != nil {
		return fmt.Errorf("write when sessions were last seen: %w", err)
	}
	return nil
}
