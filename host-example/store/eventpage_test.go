package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventSubjects are the subjects of a page's events, in order.
func eventSubjects(p EventPage) string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Subject)
	}
	return strings.Join(out, ",")
}

// Events filter by kind (and every health check), source and person, and page newest first
// both ways with the filter kept.
func TestEventPageFiltersAndPages(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	for i := 1; i <= 7; i++ {
		kind, src := EventLoginAllowed, "a"
		if i%2 == 0 {
			kind, src = EventLoginDenied, "b"
		}
		if err := s.AddEvent(ctx, Event{Kind: kind, SourceID: src, Subject: fmt.Sprint(i), Name: fmt.Sprintf("P%d", i%3)}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.AddEvent(ctx, Event{Kind: HealthEvent("owner_token"), SourceID: "a", Subject: "h"})
	_ = s.AddEvent(ctx, Event{Kind: EventAdminLogin, Subject: "x"})
	for _, c := range []struct {
		f    EventFilter
		want string
	}{
		{EventFilter{Limit: 20}, "x,h,7,6,5,4,3,2,1"},
		{EventFilter{Kinds: []EventKind{EventLoginDenied}, Limit: 20}, "6,4,2"},
		{EventFilter{Health: true, Limit: 20}, "h"},
		{EventFilter{Kinds: []EventKind{EventAdminLogin}, Health: true, Limit: 20}, "x,h"},
		{EventFilter{SourceID: "a", Limit: 20}, "h,7,5,3,1"},
		{EventFilter{Person: "p1", Limit: 20}, "7,4,1"},
		{EventFilter{Person: "5", Limit: 20}, "5"},
		{EventFilter{SourceID: "a", Person: "P1", Kinds: []EventKind{EventLoginAllowed}, Limit: 20}, "7,1"},
	} {
		p, err := s.EventPage(ctx, c.f)
		if err != nil || eventSubjects(p) != c.want || p.Older || p.Newer {
			t.Errorf("%+v: %q older %v newer %v (%v), want %q", c.f, eventSubjects(p), p.Older, p.Newer, err, c.want)
		}
	}
	// Pages of 2 of the source a's events, older and back newer.
	f := EventFilter{SourceID: "a", Limit: 2}
	var seen []string
	p, _ := s.EventPage(ctx, f)
	for {
		seen = append(seen, eventSubjects(p))
		if !p.Older {
			break
		}
		if p.Events[0].ID <= p.Events[1].ID {
			t.Fatal("a page is not newest first")
		}
		f.Before, f.After = p.Events[len(p.Events)-1].ID, 0
		p, _ = s.EventPage(ctx, f)
		if !p.Newer {
			t.Fatalf("page %q does not know newer events", eventSubjects(p))
		}
	}
	if got := strings.Join(seen, " "); got != "h,7 5,3 1" {
		t.Fatalf("older pages %q", got)
	}
	f.Before, f.After = 0, p.Events[0].ID
	p, _ = s.EventPage(ctx, f)
	if eventSubjects(p) != "5,3" || !p.Older || !p.Newer {
		t.Fatalf("newer page %q older %v newer %v", eventSubjects(p), p.Older, p.Newer)
	}
	f.After = p.Events[0].ID
	if p, _ = s.EventPage(ctx, f); eventSubjects(p) != "h,7" || p.Newer || !p.Older {
		t.Fatalf("newest page going back %q older %v newer %v", eventSubjects(p), p.Older, p.Newer)
	}
}

// A person refused before any login is found by the name or subject of their newest event at the source.
func TestEventPerson(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	_ = s.AddEvent(ctx, Event{Kind: EventLoginDenied, SourceID: "a", Subject: "5005", Name: "Paula"})
	_ = s.AddEvent(ctx, Event{Kind: EventLoginDenied, SourceID: "b", Subject: "6006", Name: "paula"})
	_ = s.AddEvent(ctx, Event{Kind: EventAdminLogin, SourceID: "a", Name: "nosub"})
	for who, want := range map[string]string{"paula": "5005", "PAULA": "5005", "5005": "5005", "6006": "", "nosub": "", "": "", "paul": ""} {
		e, err := s.EventPerson(ctx, "a", who)
		if e.Subject != want || (want == "") != (err == ErrNotFound) {
			t.Errorf("%q: subject %q (%v), want %q", who, e.Subject, err, want)
		}
	}
}

// The groups and attribute names logins gave are listed once each, sorted.
func TestSeenNames(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src := enabledSource(t, s, "p")
	for i, g := range [][]string{{"plex-friend", "plex-server:Living Room"}, {"plex-home", "plex-friend"}, nil} {
		attrs, _ := json.Marshal(map[string]any{fmt.Sprintf("a%d", i): 1, "plex_pass": true})
		if _, err := s.FinishLogin(ctx, User{SourceID: src.ID, Subject: fmt.Sprint(i), Groups: g, Attributes: attrs},
			Event{Kind: EventLoginAllowed}, "", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	groups, attrs, err := s.SeenNames(ctx)
	if err != nil || !slices.Equal(groups, []string{"plex-friend", "plex-home", "plex-server:Living Room"}) ||
		!slices.Equal(attrs, []string{"a0", "a1", "a2", "plex_pass"}) {
		t.Fatalf("groups %q attributes %q (%v)", groups, attrs, err)
	}
}
