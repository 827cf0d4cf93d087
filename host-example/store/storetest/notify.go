package storetest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var notifyChecks = []check{
	{"NotifyTargetsKeepSettingsAndSecret", notifyTargets},
	{"NotificationQueueIsBoundedPerTarget", notifyBounded},
	{"NotificationBoundIsPerKind", notifyBoundPerKind},
	{"NotificationClaimedOnce", notifyClaimedOnce},
	{"NotificationBackoffAndGiveUp", notifyBackoff},
	{"ChangeMetaSeenOnce", changeMetaOnce},
}

// hook is a target of the checks receiving kinds.
func hook(id string, kinds ...string) store.NotifyTarget {
	return store.NotifyTarget{ID: id, Name: "Hook " + id, URL: "http://hooks.example.test/" + id, Format: "webhook", Kinds: kinds,
		Secret: []byte("secret-of-" + id)}
}

// A target is read back with its settings and secret on the other handle; saving it again
// keeps its delivery state; deleting it deletes its queue.
func notifyTargets(e *env) {
	e.ok(e.a.PutNotifyTarget(e.ctx, hook("t1", "refusal", "first_sign_in")), "put")
	t, err := e.b.NotifyTarget(e.ctx, "t1")
	e.ok(err, "read")
	if string(t.Secret) != "secret-of-t1" || !slices.Equal(t.Kinds, []string{"refusal", "first_sign_in"}) || t.Names || t.URL != "http://hooks.example.test/t1" {
		e.Fatalf("read back %+v", t)
	}
	_, _, err = e.a.EnqueueNotification(e.ctx, "refusal", "{}", 10)
	e.ok(err, "enqueue")
	got, err := e.b.ClaimNotifications(e.ctx, 10, time.Minute)
	e.ok(err, "claim")
	e.ok(e.a.NotificationFailed(e.ctx, got[0], "connection refused", time.Minute, 5), "failed")
	nt := hook("t1", "health")
	nt.Names, nt.Secret = true, nil
	e.ok(e.a.PutNotifyTarget(e.ctx, nt), "save again")
	t, err = e.b.NotifyTarget(e.ctx, "t1")
	e.ok(err, "read again")
	if t.Secret != nil || !t.Names || t.Status != "failed" || t.LastError != "connection refused" || t.Failures != 1 || t.Queued != 1 {
		e.Fatalf("saved again %+v", t)
	}
	e.ok(e.b.DeleteNotifyTarget(e.ctx, "t1"), "delete")
	e.is(e.a.DeleteNotifyTarget(e.ctx, "t1"), store.ErrNotFound, "delete again")
	if _, err := e.a.NotifyTarget(e.ctx, "t1"); !errors.Is(err, store.ErrNotFound) {
		e.Fatalf("deleted target read: %v", err)
	}
	if ns, err := e.a.ClaimNotifications(e.ctx, 10, time.Minute); err != nil || len(ns) != 0 {
		e.Fatalf("the deleted target's queue: %v %v", ns, err)
	}
}

// A message is queued for the targets that receive its kind only; each target keeps the
// newest bound messages and counts those dropped.
func notifyBounded(e *env) {
	e.ok(e.a.PutNotifyTarget(e.ctx, hook("all", "refusal", "health")), "put all")
	e.ok(e.a.PutNotifyTarget(e.ctx, hook("health", "health")), "put health")
	for i := range 7 {
		s := []*store.Store{e.a, e.b}[i%2]
		queued, dropped, err := s.EnqueueNotification(e.ctx, "refusal", fmt.Sprint(i), 3)
		e.ok(err, "enqueue")
		if want := max(0, min(1, i-2)); queued != 1 || dropped != want {
			e.Fatalf("message %d: queued for %d, dropped %d, want 1 and %d", i, queued, dropped, want)
		}
	}
	all, err := e.b.NotifyTarget(e.ctx, "all")
	e.ok(err, "read")
	if all.Queued != 3 || all.Dropped != 4 {
		e.Fatalf("queued %d dropped %d, want 3 and 4", all.Queued, all.Dropped)
	}
	ns, err := e.a.ClaimNotifications(e.ctx, 10, time.Minute)
	e.ok(err, "claim")
	var bodies []string
	for _, n := range ns {
		bodies = append(bodies, n.Body)
	}
	if !slices.Equal(bodies, []string{"4", "5", "6"}) {
		e.Fatalf("kept %v, want the newest three in order", bodies)
	}
	if h, err := e.b.NotifyTarget(e.ctx, "health"); err != nil || h.Queued != 0 || h.Dropped != 0 {
		e.Fatalf("the target of other kinds: %+v %v", h, err)
	}
}

// The bound is per kind: a flood of refusals drops the oldest refusals, never a message of
// another kind queued before it (a change of the admin's ways in).
func notifyBoundPerKind(e *env) {
	e.ok(e.a.PutNotifyTarget(e.ctx, hook("k", "refusal", "admin_ways_changed")), "put")
	_, _, err := e.a.EnqueueNotification(e.ctx, "admin_ways_changed", "ways", 2)
	e.ok(err, "enqueue")
	for i := range 5 {
		_, _, err := []*store.Store{e.a, e.b}[i%2].EnqueueNotification(e.ctx, "refusal", fmt.Sprint(i), 2)
		e.ok(err, "enqueue")
	}
	k, err := e.b.NotifyTarget(e.ctx, "k")
	e.ok(err, "read")
	if k.Queued != 3 || k.Dropped != 3 {
		e.Fatalf("queued %d dropped %d, want 3 and 3", k.Queued, k.Dropped)
	}
	ns, err := e.a.ClaimNotifications(e.ctx, 10, time.Minute)
	e.ok(err, "claim")
	var bodies []string
	for _, n := range ns {
		bodies = append(bodies, n.Body)
	}
	if !slices.Equal(bodies, []string{"ways", "3", "4"}) {
		e.Fatalf("kept %v, want the ways-in message and the newest two refusals", bodies)
	}
}

// Two senders claiming at once never take the same message; a claimed message is taken
// again only once its lease ends; a sent one never.
func notifyClaimedOnce(e *env) {
	e.ok(e.a.PutNotifyTarget(e.ctx, hook("t", "refusal")), "put")
	for round := range rounds {
		for i := range 4 {
			_, _, err := e.a.EnqueueNotification(e.ctx, "refusal", fmt.Sprint(round, "/", i), 100)
			e.ok(err, "enqueue")
		}
		got := race(e, func(s *store.Store, _ int) []store.Notification {
			ns, err := s.ClaimNotifications(e.ctx, 3, time.Minute)
			if err != nil {
				e.Errorf("claim: %v", err)
			}
			return ns
		})
		seen := map[int64]bool{}
		for _, ns := range got {
			for _, n := range ns {
				if seen[n.ID] {
					e.Fatalf("round %d: message %d claimed twice", round, n.ID)
				}
				seen[n.ID] = true
			}
		}
		if ns, _ := e.b.ClaimNotifications(e.ctx, 10, time.Minute); len(ns)+len(seen) != 4 {
			e.Fatalf("round %d: %d claimed by the race, %d after it, want 4 in all", round, len(seen), len(ns))
		}
		e.advance(2 * time.Minute) // every lease ends
		ns, err := e.a.ClaimNotifications(e.ctx, 10, time.Minute)
		e.ok(err, "claim after the leases")
		if len(ns) != 4 {
			e.Fatalf("round %d: %d messages again after their leases, want 4", round, len(ns))
		}
		for _, n := range ns {
			e.ok(e.b.NotificationSent(e.ctx, n), "sent")
		}
		e.advance(2 * time.Minute)
		if ns, _ := e.a.ClaimNotifications(e.ctx, 10, time.Minute); len(ns) != 0 {
			e.Fatalf("round %d: sent messages claimed again: %v", round, ns)
		}
	}
	if t, err := e.b.NotifyTarget(e.ctx, "t"); err != nil || t.Status != "ok" || t.Queued != 0 {
		e.Fatalf("target after sending: %+v %v", t, err)
	}
}

// A failed delivery holds the target's messages back for the back-off, then lets the
// message be tried again; after the last attempt it is dropped and counted.
func notifyBackoff(e *env) {
	e.ok(e.a.PutNotifyTarget(e.ctx, hook("t", "refusal")), "put")
	_, _, err := e.a.EnqueueNotification(e.ctx, "refusal", "one", 100)
	e.ok(err, "enqueue")
	for attempt := 1; attempt <= 3; attempt++ {
		ns, err := e.b.ClaimNotifications(e.ctx, 10, time.Hour)
		e.ok(err, "claim")
		if len(ns) != 1 || ns[0].Attempts != attempt-1 {
			e.Fatalf("attempt %d: claimed %+v", attempt, ns)
		}
		e.ok(e.a.NotificationFailed(e.ctx, ns[0], "HTTP 503", 10*time.Minute, 3), "failed")
		if ns, _ := e.b.ClaimNotifications(e.ctx, 10, time.Hour); len(ns) != 0 {
			e.Fatalf("attempt %d: claimed during the back-off: %+v", attempt, ns)
		}
		e.advance(11 * time.Minute)
	}
	t, err := e.b.NotifyTarget(e.ctx, "t")
	e.ok(err, "read")
	if t.Queued != 0 || t.Dropped != 1 || t.Failures != 3 || t.Status != "failed" {
		e.Fatalf("after the last attempt: %+v", t)
	}
	_, _, err = e.a.EnqueueNotification(e.ctx, "refusal", "two", 100)
	e.ok(err, "enqueue again")
	ns, err := e.b.ClaimNotifications(e.ctx, 10, time.Hour)
	e.ok(err, "claim again")
	e.ok(e.a.NotificationSent(e.ctx, ns[0]), "sent")
	if t, err := e.b.NotifyTarget(e.ctx, "t"); err != nil || t.Failures != 0 || t.Status != "ok" || !t.RetryAt.IsZero() {
		e.Fatalf("after a delivery: %+v %v", t, err)
	}
}

// Of two handles writing the same new value at once, one sees it change; writing it again
// changes nothing; another value changes it again.
func changeMetaOnce(e *env) {
	for round := range rounds {
		v := fmt.Sprint("state-", round)
		got := race(e, func(s *store.Store, _ int) bool {
			changed, err := s.ChangeMeta(e.ctx, "health:x", v)
			if err != nil {
				e.Errorf("change: %v", err)
			}
			return changed
		})
		if got[0] == got[1] {
			e.Fatalf("round %d: changed %v", round, got)
		}
		if changed, err := e.b.ChangeMeta(e.ctx, "health:x", v); err != nil || changed {
			e.Fatalf("round %d: the same value again changed %v (%v)", round, changed, err)
		}
	}
}
