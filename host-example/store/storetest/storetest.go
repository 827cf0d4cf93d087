// Package storetest is host-example's storage conformance suite: the behaviour every store
// (SQLite, PostgreSQL) must show, its single-use and compare-and-swap methods raced from two
// handles onto one database. A store's own tests run it with an Opener.
package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Opener returns two handles onto one fresh, empty, migrated database (two connection pools
// where the store has them, as two replicas have; the same handle twice where production
// runs one process); it closes them when t ends.
type Opener func(t *testing.T) (a, b *store.Store)

// check is one conformance check, given a fresh database.
type check struct {
	name string
	fn   func(*env)
}

// checks are the suite's checks, by area (one file each).
func checks() [][]check {
	return [][]check{sourceChecks, userChecks, sessionChecks, loginStateChecks, oidcChecks, tokenChecks, refreshAccessChecks,
		keyChecks, forwardChecks, handoverChecks, metaChecks, purgeChecks, raceChecks, adminGroupChecks, displayChecks, notifyChecks, renewalChecks, identityChecks}
}

// Run runs the suite on the database open gives, a fresh one for each check.
func Run(t *testing.T, open Opener) {
	for _, area := range checks() {
		runChecks(t, area, open)
	}
}

// runChecks runs each of checks as a subtest, on a fresh database of open.
func runChecks(t *testing.T, checks []check, open Opener) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(newEnv(t, open)) })
	}
}

// env is one check's database: two handles (a writes, b reads back, as two replicas would)
// sharing one clock the check moves.
type env struct {
	*testing.T
	a, b *store.Store
	ctx  context.Context
	now  atomic.Int64 // unix nanoseconds
}

func newEnv(t *testing.T, open Opener) *env {
	a, b := open(t)
	e := &env{T: t, a: a, b: b, ctx: context.Background()}
	e.now.Store(time.Now().Truncate(time.Second).UnixNano())
	clock := func() time.Time { return time.Unix(0, e.now.Load()) }
	a.SetClock(clock)
	b.SetClock(clock)
	return e
}

// time is the stores' current time.
func (e *env) time() time.Time { return time.Unix(0, e.now.Load()) }

// advance moves the stores' clock on by d.
func (e *env) advance(d time.Duration) { e.now.Add(int64(d)) }

// ok fails the check at once on an error.
func (e *env) ok(err error, what string) {
	e.Helper()
	if err != nil {
		e.Fatalf("%s: %v", what, err)
	}
}

// is fails the check unless err is want (errors.Is).
func (e *env) is(err, want error, what string) {
	e.Helper()
	if !errors.Is(err, want) {
		e.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// source is a new source, turned on (FinishLogin refuses others).
func (e *env) source(slug string) *store.Source {
	e.Helper()
	src, err := e.a.CreateSource(e.ctx, "plugin", slug, slug)
	e.ok(err, "create source")
	e.ok(e.b.SetEnabled(e.ctx, src.ID, true), "enable source")
	return src
}

// login finishes a login of (source, sub) with a mapped username on s, with no prior session.
func (e *env) login(s *store.Store, src *store.Source, sub, username string) *store.LoginDone {
	e.Helper()
	done, err := s.FinishLogin(e.ctx, store.User{SourceID: src.ID, Subject: sub, Username: username},
		store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: sub, Name: username}, "", time.Hour)
	e.ok(err, "finish login of "+sub)
	return done
}

// sessionLive reports whether a cookie token's session is live, read on s.
func (e *env) sessionLive(s *store.Store, token string) bool {
	e.Helper()
	_, err := s.Session(e.ctx, token)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.Fatalf("read session: %v", err)
	}
	return err == nil
}

// rounds is how many times each race runs.
const rounds = 50

// race runs f on a and on b at once (two goroutines released together) and answers their
// results, a's first.
func race[T any](e *env, f func(s *store.Store, side int) T) [2]T {
	var out [2]T
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range []*store.Store{e.a, e.b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(s, i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}
