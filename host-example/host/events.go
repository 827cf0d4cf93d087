package host

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// EventStore is the persistence the events query reads.
type EventStore interface {
	EventPage(ctx context.Context, f store.EventFilter) (store.EventPage, error)
	UserEvents(ctx context.Context, sourceID, subject string, limit int) ([]store.Event, error)
	EventCounts(ctx context.Context, since time.Time) (map[string]map[store.EventKind]int, error)
	LastEvent(ctx context.Context, sourceID string, kind store.EventKind) (*store.Event, error)
	Identities(ctx context.Context, userID int64) ([]store.Identity, error)
}

var _ EventStore = (*store.Store)(nil)

// Events is the audit trail as the admin reads it: pages of events, a person's events, the
// counts per source and the last event of a kind.
type Events struct{ store EventStore }

// NewEvents returns the events query over st.
func NewEvents(st EventStore) *Events { return &Events{store: st} }

// Page is a page of the events f keeps, newest first (store.EventFilter's bounds page on).
func (e *Events) Page(ctx context.Context, f store.EventFilter) (store.EventPage, error) {
	page, err := e.store.EventPage(ctx, f)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("events page: %w", err)
	}
	return page, nil
}

// OfPerson are the newest n events about the person u (their source's subject).
func (e *Events) OfPerson(ctx context.Context, u *store.User, n int) ([]store.Event, error) {
	evs, err := e.store.UserEvents(ctx, u.SourceID, u.Subject, n)
	if err != nil {
		return nil, fmt.Errorf("events of person %d: %w", u.ID, err)
	}
	// A person known through other sources too (one account, contract 1.6): theirs as well.
	ids, err := e.store.Identities(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("identities of person %d: %w", u.ID, err)
	}
	for _, i := range ids {
		more, err := e.store.UserEvents(ctx, i.SourceID, i.Subject, n)
		if err != nil {
			return nil, fmt.Errorf("events of person %d through %s: %w", u.ID, i.SourceID, err)
		}
		evs = append(evs, more...)
	}
	if len(ids) > 0 {
		slices.SortStableFunc(evs, func(a, b store.Event) int { return b.At.Compare(a.At) })
		evs = evs[:min(len(evs), n)]
	}
	return evs, nil
}

// Counts count the events since a time by source id and kind.
func (e *Events) Counts(ctx context.Context, since time.Time) (map[string]map[store.EventKind]int, error) {
	n, err := e.store.EventCounts(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("count the events since %s: %w", since.Format(time.RFC3339), err)
	}
	return n, nil
}

// Last is the newest event of a kind of a source (store.ErrNotFound when there is none).
func (e *Events) Last(ctx context.Context, sourceID string, kind store.EventKind) (*store.Event, error) {
	ev, err := e.store.LastEvent(ctx, sourceID, kind)
	if err != nil {
		return nil, fmt.Errorf("last %s event of source %s: %w", kind, sourceID, err)
	}
	return ev, nil
}
