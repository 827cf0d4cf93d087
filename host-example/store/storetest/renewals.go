package storetest

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var renewalChecks = []check{
	{"RenewalSchedule", renewalSchedule},
	{"RenewalClaimedOnce", renewalClaimedOnce},
	{"ConfigSavedAtItsVersion", configSavedAtItsVersion},
}

// A source's renewal is scheduled (the nearer time wins), claimed only when due and
// unclaimed, and its outcome read back on the other handle with its credentials; deleting
// the source deletes its schedule.
func renewalSchedule(e *env) {
	src := e.source("renewing")
	_, err := e.b.SourceRenewal(e.ctx, src.ID)
	e.is(err, store.ErrNotFound, "no schedule yet")
	e.ok(e.a.RenewBy(e.ctx, src.ID, e.time().Add(time.Hour)), "schedule in an hour")
	e.ok(e.a.RenewBy(e.ctx, src.ID, e.time().Add(2*time.Hour)), "schedule later")
	r, err := e.b.SourceRenewal(e.ctx, src.ID)
	e.ok(err, "read the schedule")
	if !r.RenewAfter.Equal(e.time().Add(time.Hour)) || len(r.Credentials) != 0 {
		e.Fatalf("schedule %+v, want the nearer time", r)
	}
	if ok, err := e.b.ClaimRenewal(e.ctx, src.ID, time.Minute); err != nil || ok {
		e.Fatalf("claimed before it is due: %v %v", ok, err)
	}
	e.advance(time.Hour)
	if ok, err := e.b.ClaimRenewal(e.ctx, src.ID, time.Minute); err != nil || !ok {
		e.Fatalf("a due renewal not claimed: %v %v", ok, err)
	}
	if ok, _ := e.a.ClaimRenewal(e.ctx, src.ID, time.Minute); ok {
		e.Fatal("a claimed renewal was claimed again")
	}
	creds := []store.RenewalCredential{{Field: "lease", Label: "the lease", ExpiresAt: e.time().Add(time.Hour).Unix(), RenewedAt: e.time().Unix(),
		Since: e.time().Unix()}, {Field: "other", Label: "another", Error: "Connect again.", Refused: true}}
	e.ok(e.b.FinishRenewal(e.ctx, store.SourceRenewal{SourceID: src.ID, ConfigVersion: 3, RenewAfter: e.time().Add(30 * time.Minute), Attempts: 2,
		LastRenewedAt: e.time(), Credentials: creds}), "finish")
	r, err = e.a.SourceRenewal(e.ctx, src.ID)
	e.ok(err, "read the outcome")
	if r.ConfigVersion != 3 || r.Attempts != 2 || !r.LeaseUntil.IsZero() || !r.LastRenewedAt.Equal(e.time()) ||
		!r.RenewAfter.Equal(e.time().Add(30*time.Minute)) || len(r.Credentials) != 2 || r.Credentials[0] != creds[0] || r.Credentials[1] != creds[1] {
		e.Fatalf("outcome %+v", r)
	}
	e.ok(e.a.RenewBy(e.ctx, src.ID, e.time()), "due now")
	if ok, _ := e.b.ClaimRenewal(e.ctx, src.ID, time.Minute); !ok {
		e.Fatal("a renewal made due now after its lease ended was not claimed")
	}
	all, err := e.b.SourceRenewals(e.ctx)
	if err != nil || len(all) != 1 || all[0].SourceID != src.ID {
		e.Fatalf("all schedules: %+v %v", all, err)
	}
	e.ok(e.a.DeleteSource(e.ctx, src.ID), "delete the source")
	e.ok(e.b.FinishRenewal(e.ctx, store.SourceRenewal{SourceID: src.ID, RenewAfter: e.time()}), "finish a renewal of a deleted source")
	_, err = e.b.SourceRenewal(e.ctx, src.ID)
	e.is(err, store.ErrNotFound, "the schedule of a deleted source")
}

// Two replicas claiming one due renewal at once: one gets it.
func renewalClaimedOnce(e *env) {
	src := e.source("raced")
	e.ok(e.a.RenewBy(e.ctx, src.ID, e.time()), "due now")
	var won atomic.Int32
	var wg sync.WaitGroup
	for _, s := range []*store.Store{e.a, e.b, e.a, e.b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.ClaimRenewal(e.ctx, src.ID, time.Minute); err == nil && ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		e.Fatalf("%d claims of one renewal, want 1", won.Load())
	}
}

// A save at a version is refused once another save moved it; a renewal keeps the draft,
// rebased, and an admin's save at its version clears it.
func configSavedAtItsVersion(e *env) {
	src := e.source("versioned")
	v, err := e.a.SaveConfig(e.ctx, src.ID, json.RawMessage(`{"token":"a"}`))
	e.ok(err, "save")
	e.ok(e.a.SaveDraft(e.ctx, src.ID, json.RawMessage(`{"token":"a","name":"draft"}`)), "draft")
	v2, err := e.b.RenewConfig(e.ctx, src.ID, v, json.RawMessage(`{"token":"b"}`), func(d json.RawMessage) json.RawMessage {
		return json.RawMessage(`{"token":"b","name":"draft"}`)
	})
	e.ok(err, "renew at the version")
	if _, err := e.a.RenewConfig(e.ctx, src.ID, v, json.RawMessage(`{"token":"c"}`), func(d json.RawMessage) json.RawMessage { return d }); err == nil {
		e.Fatal("a renewal at a version that moved was saved")
	} else {
		e.is(err, store.ErrVersionMoved, "renewal at an old version")
	}
	got, err := e.b.Source(e.ctx, src.ID)
	e.ok(err, "read")
	if got.ConfigVersion != v2 || string(got.Config) != `{"token":"b"}` || string(got.Draft) != `{"token":"b","name":"draft"}` {
		e.Fatalf("after the renewal: v%d %s draft %s", got.ConfigVersion, got.Config, got.Draft)
	}
	_, err = e.a.SaveConfigAt(e.ctx, src.ID, v, json.RawMessage(`{"token":"a"}`))
	e.is(err, store.ErrVersionMoved, "an admin save at an old version")
	v3, err := e.a.SaveConfigAt(e.ctx, src.ID, v2, json.RawMessage(`{"token":"b","name":"x"}`))
	e.ok(err, "an admin save at the version")
	if got, _ := e.b.Source(e.ctx, src.ID); got == nil || got.ConfigVersion != v3 || got.Draft != nil {
		e.Fatalf("after the admin save: %+v", got)
	}
}
