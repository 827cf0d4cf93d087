package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Races of read-modify-write methods whose every caller should succeed: logins, failure
// counts, made-once keys, bounded lists.

// loginResult is one side's FinishLogin.
type loginResult struct {
	done *store.LoginDone
	err  error
}

// raceLogins races FinishLogin of subs[0] on a and subs[1] on b, both mapped to username.
func (e *env) raceLogins(src *store.Source, subs [2]string, username string) [2]loginResult {
	return race(e, func(s *store.Store, side int) loginResult {
		done, err := s.FinishLogin(e.ctx, store.User{SourceID: src.ID, Subject: subs[side], Username: username},
			store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: subs[side]}, "", time.Hour)
		return loginResult{done, err}
	})
}

// loginsOK fails the round unless at least one side logged in (a live session); a side that
// failed is logged (FinishLogin promises no losing answer: a failure must be a clear error).
func (e *env) loginsOK(round int, got [2]loginResult) {
	e.Helper()
	ok := 0
	for side, r := range got {
		if r.err != nil {
			e.Logf("round %d: side %d: FinishLogin failed: %v", round, side, r.err)
			continue
		}
		if r.done.Disabled || !e.sessionLive(e.a, r.done.Token) {
			e.Fatalf("round %d: side %d: a login without a live session: %+v", round, side, r.done)
		}
		ok++
	}
	if ok == 0 {
		e.Fatalf("round %d: both racing logins failed: %v; %v", round, got[0].err, got[1].err)
	}
}

// One new user logs in on both replicas at once: one user row, one id for both logins, the
// mapped name reserved for that user.
func raceFinishLoginNewUser(e *env) {
	src := e.source("s")
	for i := range rounds {
		sub, name := fmt.Sprint("sub", i), fmt.Sprint("name", i)
		got := e.raceLogins(src, [2]string{sub, sub}, name)
		e.loginsOK(i, got)
		if n, err := e.b.CountUsers(e.ctx, src.ID, sub); err != nil || n != 1 {
			e.Fatalf("round %d: %d users (%v), want 1", i, n, err)
		}
		u, err := e.b.FindUser(e.ctx, src.ID, sub)
		e.ok(err, "find user")
		for side, r := range got {
			if r.err == nil && (r.done.UserID != u.ID || r.done.Username != name) {
				e.Fatalf("round %d: side %d logged in as %d %q, stored %d %q", i, side, r.done.UserID, r.done.Username, u.ID, u.Username)
			}
		}
		if holder, err := e.b.UsernameHolder(e.ctx, name); err != nil || holder != u.ID || u.Username != name {
			e.Fatalf("round %d: %q held by %d (%v), user %d named %q", i, name, holder, err, u.ID, u.Username)
		}
	}
}

// Two new users mapped to one name log in at once: each gets a distinct name (the name and
// its first suffix), reserved for that user; a side that failed stored nothing.
func raceFinishLoginSameUsername(e *env) {
	src := e.source("s")
	for i := range rounds {
		subs, name := [2]string{fmt.Sprint("x", i), fmt.Sprint("y", i)}, fmt.Sprint("dup", i)
		got := e.raceLogins(src, subs, name)
		e.loginsOK(i, got)
		var names []string
		for side, r := range got {
			n, err := e.b.CountUsers(e.ctx, src.ID, subs[side])
			e.ok(err, "count users")
			if r.err != nil {
				if n != 0 {
					e.Fatalf("round %d: a failed login stored its user", i)
				}
				continue
			}
			u, err := e.b.User(e.ctx, r.done.UserID)
			e.ok(err, "read user")
			if n != 1 || u.Username != r.done.Username {
				e.Fatalf("round %d: side %d: %d users, named %q, given %q", i, side, n, u.Username, r.done.Username)
			}
			if holder, err := e.b.UsernameHolder(e.ctx, u.Username); err != nil || holder != u.ID {
				e.Fatalf("round %d: %q held by %d (%v), not %d", i, u.Username, holder, err, u.ID)
			}
			names = append(names, u.Username)
		}
		slices.Sort(names)
		if want := []string{name, name + "-2"}; len(names) == 2 && !slices.Equal(names, want) {
			e.Fatalf("round %d: names %v, want %v", i, names, want)
		}
	}
}

// Wrong passwords sent at once from both replicas are all counted: with max equal to the
// calls, exactly the last locks the device; with one more allowed, none does until one more.
func raceAdminDeviceFailed(e *env) {
	const perSide = 5
	for i := range rounds {
		id, max := fmt.Sprint("d", i), 2*perSide+i%2
		var locks atomic.Int32
		got := race(e, func(s *store.Store, _ int) error {
			for range perSide {
				locked, err := s.AdminDeviceFailed(e.ctx, id, max, time.Hour)
				if err != nil {
					return err
				}
				if locked {
					locks.Add(1)
				}
			}
			return nil
		})
		e.ok(got[0], "AdminDeviceFailed on a")
		e.ok(got[1], "AdminDeviceFailed on b")
		locked, err := e.b.AdminDeviceLocked(e.ctx, id)
		e.ok(err, "locked")
		if wantLocks := int32(1 - i%2); locks.Load() != wantLocks || locked != (wantLocks == 1) {
			e.Fatalf("round %d: %d calls with max %d: %d answered locked, device locked %v", i, 2*perSide, max, locks.Load(), locked)
		}
		if i%2 == 1 {
			if locked, err := e.a.AdminDeviceFailed(e.ctx, id, max, time.Hour); err != nil || !locked {
				e.Fatalf("round %d: the call after %d did not lock: %v %v", i, 2*perSide, locked, err)
			}
		}
	}
}

// Two replicas make the known-device key at once: both answer the same one.
func raceAdminDeviceKey(e *env) {
	type answer struct {
		key string
		err error
	}
	got := race(e, func(s *store.Store, _ int) answer {
		k, err := s.AdminDeviceKey(e.ctx)
		return answer{k, err}
	})
	e.ok(got[0].err, "key on a")
	e.ok(got[1].err, "key on b")
	if got[0].key != got[1].key || got[0].key == "" {
		e.Fatalf("two keys: %q and %q", got[0].key, got[1].key)
	}
}

// Two tabs begin a login at once on a session one short of the cap: the session keeps
// MaxLoginStates, the two new ones and the newest before them.
func racePutLoginStateCap(e *env) {
	for i := range rounds {
		session := fmt.Sprint("sess", i)
		var older []string
		for j := range store.MaxLoginStates - 1 {
			e.advance(time.Second) // the older states are older: this race is about the cap, not ties
			s := fmt.Sprint("old", j)
			e.putState(e.a, session, store.StateLogin, s)
			older = append([]string{s}, older...)
		}
		e.advance(time.Second)
		got := race(e, func(s *store.Store, side int) error {
			_, err := s.PutLoginState(e.ctx, store.LoginState{SessionID: session, Kind: store.StateLogin,
				State: []byte(fmt.Sprint("new", side)), ExpiresAt: e.time().Add(time.Minute)})
			return err
		})
		e.ok(got[0], "PutLoginState on a")
		e.ok(got[1], "PutLoginState on b")
		kept := e.takeAll(e.b, session, store.StateLogin)
		if len(kept) != store.MaxLoginStates {
			e.Fatalf("round %d: kept %v, %d states, want %d", i, kept, len(kept), store.MaxLoginStates)
		}
		newest := slices.Clone(kept[:2])
		slices.Sort(newest)
		if !slices.Equal(newest, []string{"new0", "new1"}) || !slices.Equal(kept[2:], older[:store.MaxLoginStates-2]) {
			e.Fatalf("round %d: kept %v, want new0 and new1 then %v", i, kept, older[:store.MaxLoginStates-2])
		}
	}
}

// Two forward-auth sessions are minted at once for a user one short of the cap: the user keeps
// MaxForwardSessions, the two new ones and the newest before them.
func raceForwardSessionCap(e *env) {
	sid := e.login(e.a, e.source("s"), "1", "").SessionID
	for i := range rounds {
		var older []string
		for j := range store.MaxForwardSessions - 1 {
			e.advance(time.Second)
			id := fmt.Sprint("old", i, "-", j)
			_, _, err := e.a.CreateForwardSession(e.ctx, id, sid, time.Hour)
			e.ok(err, "forward-auth session")
			older = append(older, id)
		}
		e.advance(time.Second)
		ids := [2]string{fmt.Sprint("new", i, "-a"), fmt.Sprint("new", i, "-b")}
		got := race(e, func(s *store.Store, side int) error {
			_, _, err := s.CreateForwardSession(e.ctx, ids[side], sid, time.Hour)
			return err
		})
		e.ok(got[0], "CreateForwardSession on a")
		e.ok(got[1], "CreateForwardSession on b")
		var live []string
		for _, id := range append(older, ids[:]...) {
			if e.forwardLive(e.b, id) {
				live = append(live, id)
			}
		}
		if want := append(older[1:], ids[:]...); !slices.Equal(live, want) {
			e.Fatalf("round %d: live %v, want %v", i, live, want)
		}
	}
}

// A burst of sign-ins: eight people at once, on both replicas, each signs in and gets a
// forward-auth session, again and again. Every one succeeds: PostgreSQL refuses many of these
// transactions for one another (on small tables its reads lock whole relations), and the
// retries must spread them out rather than let one lose every attempt.
func raceSignInBurst(e *env) {
	src := e.source("burst")
	const people, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, people)
	for p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := [2]*store.Store{e.a, e.b}[p%2]
			for k := range each {
				sub := fmt.Sprint("burst-", p, "-", k)
				done, err := s.FinishLogin(e.ctx, store.User{SourceID: src.ID, Subject: sub, Username: "u" + sub},
					store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: sub}, "", time.Hour)
				if err == nil {
					_, _, err = s.CreateForwardSession(e.ctx, "f-"+sub, done.SessionID, time.Hour)
				}
				if err != nil {
					errs <- fmt.Errorf("person %d, sign-in %d: %w", p, k, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.Errorf("%v", err)
	}
}
