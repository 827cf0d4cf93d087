package storetest

import (
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var metaChecks = []check{
	{"MetaValues", metaValues},
	{"MetaStepAdvancesOnlyUp", metaStepAdvancesOnlyUp},
	{"AdminDeviceKey", adminDeviceKey},
	{"AdminDeviceFailuresLock", adminDeviceFailuresLock},
	{"Events", events},
	{"ForgetGuesses", forgetGuesses},
}

// Meta values, plain and sealed, are written on one handle and read on the other.
func metaValues(e *env) {
	_, err := e.b.Meta(e.ctx, "k")
	e.is(err, store.ErrNotFound, "missing value")
	e.ok(e.a.SetMeta(e.ctx, "k", "v1"), "set")
	e.ok(e.a.SetMeta(e.ctx, "k", "v2"), "overwrite")
	if v, err := e.b.Meta(e.ctx, "k"); err != nil || v != "v2" {
		e.Fatalf("read %q %v", v, err)
	}
	if v, err := e.b.SecretMeta(e.ctx, "secret"); err != nil || v != nil {
		e.Fatalf("missing secret: %q %v", v, err)
	}
	e.ok(e.a.SetSecretMeta(e.ctx, "secret", []byte("s3cret")), "set secret")
	if v, err := e.b.SecretMeta(e.ctx, "secret"); err != nil || string(v) != "s3cret" {
		e.Fatalf("secret read %q %v", v, err)
	}
	if v, _ := e.b.Meta(e.ctx, "secret"); v == "" || v == "s3cret" {
		e.Fatalf("secret kept as %q", v)
	}
}

// A step is advanced only to a greater one, from either handle, or over an emptied value.
func metaStepAdvancesOnlyUp(e *env) {
	for i, c := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}, {5, false}, {1000, true}} {
		s := []*store.Store{e.a, e.b}[i%2]
		if got, err := s.AdvanceMetaStep(e.ctx, "step", c.step); err != nil || got != c.want {
			e.Fatalf("%d: step %d: %v %v, want %v", i, c.step, got, err, c.want)
		}
	}
	if v, err := e.b.Meta(e.ctx, "step"); err != nil || v != "1000" {
		e.Fatalf("kept %q %v", v, err)
	}
	e.ok(e.a.SetMeta(e.ctx, "step", ""), "empty")
	if got, err := e.b.AdvanceMetaStep(e.ctx, "step", 3); err != nil || !got {
		e.Fatalf("over an empty value: %v %v", got, err)
	}
}

// The known-device key is made once and is the same on every handle until forgotten.
func adminDeviceKey(e *env) {
	k, err := e.a.AdminDeviceKey(e.ctx)
	e.ok(err, "key")
	if k2, err := e.b.AdminDeviceKey(e.ctx); err != nil || k2 != k || k == "" {
		e.Fatalf("keys %q and %q (%v)", k, k2, err)
	}
	e.ok(e.b.ForgetAdminDevices(e.ctx), "forget")
	if k3, err := e.a.AdminDeviceKey(e.ctx); err != nil || k3 == k || k3 == "" {
		e.Fatalf("key after forgetting: %q %v", k3, err)
	}
}

// Wrong passwords are counted per device across handles and lock it at max in a row; a
// success clears an unlocked device's count; an idle device's count lapses; forgetting the
// devices unlocks them.
func adminDeviceFailuresLock(e *env) {
	const max, life = 3, 24 * time.Hour
	fail := func(s *store.Store, id string, want bool) {
		e.Helper()
		if locked, err := s.AdminDeviceFailed(e.ctx, id, max, life); err != nil || locked != want {
			e.Fatalf("failure of %s: locked %v (%v), want %v", id, locked, err, want)
		}
	}
	locked := func(id string) bool {
		e.Helper()
		l, err := e.b.AdminDeviceLocked(e.ctx, id)
		e.ok(err, "locked")
		return l
	}
	if locked("d1") {
		e.Fatal("an unknown device is locked")
	}
	fail(e.a, "d1", false)
	fail(e.b, "d1", false)
	fail(e.a, "d2", false)
	if locked("d1") {
		e.Fatal("locked early")
	}
	fail(e.b, "d1", true)
	fail(e.a, "d1", true)
	e.ok(e.a.AdminDeviceSucceeded(e.ctx, "d1"), "success on a locked device")
	if !locked("d1") {
		e.Fatal("a success unlocked a locked device")
	}
	fail(e.a, "d2", false)
	e.ok(e.b.AdminDeviceSucceeded(e.ctx, "d2"), "success")
	fail(e.a, "d2", false)
	fail(e.b, "d2", false)
	e.advance(life + time.Second)
	fail(e.a, "d2", false) // the count lapsed: one, not three
	fail(e.a, "d2", false)
	fail(e.b, "d2", true)
	e.ok(e.a.ForgetAdminDevices(e.ctx), "forget")
	if locked("d1") || locked("d2") {
		e.Fatal("forgetting the devices left one locked")
	}
}

// Events are recorded on either handle and read newest first, paged by id.
func events(e *env) {
	for i, kind := range []store.EventKind{store.EventAdminLogin, store.EventLoginAllowed, store.EventLoginDenied} {
		e.advance(time.Second)
		s := []*store.Store{e.a, e.b}[i%2]
		e.ok(s.AddEvent(e.ctx, store.Event{SourceID: "src", Kind: kind, Subject: "42", Name: "alice", Reason: "r", Detail: "d"}), "add")
	}
	page, err := e.b.EventPage(e.ctx, store.EventFilter{Limit: 2})
	e.ok(err, "page")
	if len(page.Events) != 2 || page.Events[0].Kind != store.EventLoginDenied || page.Events[1].Kind != store.EventLoginAllowed ||
		!page.Older || page.Newer || page.Events[0].ID <= page.Events[1].ID || !page.Events[0].At.Equal(e.time()) ||
		page.Events[0].Name != "alice" || page.Events[0].Subject != "42" || page.Events[0].SourceID != "src" {
		e.Fatalf("newest page: %+v", page)
	}
	older, err := e.a.EventPage(e.ctx, store.EventFilter{Limit: 2, Before: page.Events[1].ID})
	e.ok(err, "older page")
	if len(older.Events) != 1 || older.Events[0].Kind != store.EventAdminLogin || older.Older || !older.Newer {
		e.Fatalf("older page: %+v", older)
	}
	if evs, err := e.a.Events(e.ctx, 10, "ALICE"); err != nil || len(evs) != 3 {
		e.Fatalf("search: %d %v", len(evs), err)
	}
}
