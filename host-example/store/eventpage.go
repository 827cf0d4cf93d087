package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// EventFilter chooses events and a page of them.
type EventFilter struct {
	// Kinds keeps events of these kinds; Health also keeps every health check's event. With
	// neither, every kind is kept.
	Kinds  []EventKind
	Health bool
	// SourceID keeps the events of one source ("" every source).
	SourceID string
	// Person keeps the events whose subject is it or whose name is it (case-insensitive).
	Person string
	// Query keeps events whose name or subject is it, or whose name, reason or detail
	// contains it (case-insensitive; % and _ are taken literally).
	Query string
	// Before keeps events older than that event id, After those newer (0: from the newest).
	Before, After int64
	// Limit is the page size (at least 1).
	Limit int
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events []Event
	// Older and Newer say whether more events match beyond the page's ends.
	Older, Newer bool
}

// EventPage lists a page of the events f keeps, newest first: the newest, or those just
// before f.Before, or those just after f.After (keyset pagination on the event id).
func (s *Store) EventPage(ctx context.Context, f EventFilter) (EventPage, error) {
	where, args := f.where()
	limit := max(f.Limit, 1)
	order := "DESC"
	switch {
	case f.After > 0:
		where, args, order = append(where, "id > ?"), append(args, f.After), "ASC"
	case f.Before > 0:
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	q := `SELECT id, at, source_id, kind, subject, name, reason, detail FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	evs, err := s.queryEvents(ctx, q+" ORDER BY id "+order+" LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return EventPage{}, fmt.Errorf("events: %w", err)
	}
	more := len(evs) > limit
	if more {
		evs = evs[:limit]
	}
	page := EventPage{Events: evs, Older: more, Newer: f.Before > 0}
	if f.After > 0 {
		slices.Reverse(page.Events)
		page.Older, page.Newer = true, more
	}
	return page, nil
}

// where is the filter's conditions (joined by AND) and their arguments.
func (f EventFilter) where() ([]string, []any) {
	var where []string
	var args []any
	if len(f.Kinds) > 0 || f.Health {
		var or []string
		if len(f.Kinds) > 0 {
			or = append(or, "kind IN (?"+strings.Repeat(", ?", len(f.Kinds)-1)+")")
			for _, k := range f.Kinds {
				args = append(args, string(k))
			}
		}
		if f.Health {
			or, args = append(or, "kind LIKE ? ESCAPE '\\'"), append(args, likeEscape(healthPrefix)+"%")
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if f.SourceID != "" {
		where, args = append(where, "source_id = ?"), append(args, f.SourceID)
	}
	if p := strings.TrimSpace(f.Person); p != "" {
		where, args = append(where, "(subject = ? OR lower(name) = ?)"), append(args, p, strings.ToLower(p))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + likeEscape(strings.ToLower(q)) + "%"
		where = append(where, `(subject = ? OR lower(name) LIKE ? ESCAPE '\' OR lower(reason) LIKE ? ESCAPE '\' OR lower(detail) LIKE ? ESCAPE '\')`)
		args = append(args, q, like, like, like)
	}
	return where, args
}

// likeEscape takes s literally in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// queryEvents runs a query of events' columns (id first).
func (s *Store) queryEvents(ctx context.Context, q string, args ...any) ([]Event, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.SourceID, &e.Kind, &e.Subject, &e.Name, &e.Reason, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventPerson is the newest event of a source about a person named who (their subject, or
// their name, case-insensitive): how a person refused before their first login is found by
// the name the events show. ErrNotFound when there is none.
func (s *Store) EventPerson(ctx context.Context, sourceID, who string) (Event, error) {
	who = strings.TrimSpace(who)
	evs, err := s.queryEvents(ctx, `SELECT id, at, source_id, kind, subject, name, reason, detail FROM events
		WHERE source_id = ? AND subject != '' AND (subject = ? OR lower(name) = ?) ORDER BY id DESC LIMIT 1`, sourceID, who, strings.ToLower(who))
	switch {
	case err != nil:
		return Event{}, fmt.Errorf("event of %q: %w", who, err)
	case len(evs) == 0 || who == "":
		return Event{}, ErrNotFound
	}
	return evs[0], nil
}
