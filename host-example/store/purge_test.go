package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// An authorization request is completed once: a second browser cannot change its user.
func TestAuthRequestCompletesOnce(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	if err := s.CreateAuthRequest(ctx, AuthRequest{ID: "r1", ClientID: "c", Data: []byte(`{}`), BindingHash: "b",
		ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteAuthRequest(ctx, "r1", 1, "s1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteAuthRequest(ctx, "r1", 2, "s2", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second completion: %v, want ErrNotFound", err)
	}
	ar, err := s.AuthRequestByID(ctx, "r1")
	if err != nil || ar.UserID != 1 || ar.SessionID != "s1" || ar.BindingHash != "b" {
		t.Fatalf("request after a second completion: %+v %v", ar, err)
	}
}

// Events older than the retention go at the purge; the rest stay.
func TestEventsRetention(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	start := time.Now()
	s.SetClock(func() time.Time { return start })
	if err := s.AddEvent(ctx, Event{Kind: "old"}); err != nil {
		t.Fatal(err)
	}
	s.SetClock(func() time.Time { return start.Add(EventsKeep - time.Hour) })
	if err := s.AddEvent(ctx, Event{Kind: "recent"}); err != nil {
		t.Fatal(err)
	}
	s.SetClock(func() time.Time { return start.Add(EventsKeep + time.Minute) })
	if _, err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, 10, "")
	if err != nil || len(evs) != 1 || evs[0].Kind != "recent" {
		t.Fatalf("events after the purge: %+v %v", evs, err)
	}
}

// The cost of one authorization request's bound check with 20,000 open requests from 2,000
// clients (the bound reached: every call drops a batch or nothing).
func BenchmarkBoundOpenAuthRequests(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	add := func(i int) {
		if err := s.CreateAuthRequest(ctx, AuthRequest{ID: RandomID(16), ClientID: "c", Data: []byte(`{}`), ClientKey: fmt.Sprint(i % 2000),
			ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 20000; i++ {
		add(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		add(i)
		if _, err := s.BoundOpenAuthRequests(ctx, fmt.Sprint(i%2000), 10, 20000); err != nil {
			b.Fatal(err)
		}
	}
}
