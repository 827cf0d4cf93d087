package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Each race runs rounds times: two goroutines, one on each handle, released together on the
// same single-use or compare-and-swap operation. Exactly one wins; the other gets the
// method's documented losing answer (false, ErrNotFound, ErrRefreshReused), never a raw
// database error; no update is lost.

var raceChecks = []check{
	{"RaceClaimCode", raceClaimCode},
	{"RaceTakeLoginState", raceTakeLoginState},
	{"RaceClaimLoginState", raceClaimLoginState},
	{"RaceRotateRefreshToken", raceRotateRefreshToken},
	{"RaceCompleteAuthRequest", raceCompleteAuthRequest},
	{"RaceSaveAuthCode", raceSaveAuthCode},
	{"RaceAdvanceMetaStep", raceAdvanceMetaStep},
	{"RaceFinishLoginNewUser", raceFinishLoginNewUser},
	{"RaceFinishLoginSameUsername", raceFinishLoginSameUsername},
	{"RaceAdminDeviceFailed", raceAdminDeviceFailed},
	{"RaceAdminDeviceKey", raceAdminDeviceKey},
	{"RacePutLoginStateCap", racePutLoginStateCap},
	{"RaceForwardSessionCap", raceForwardSessionCap},
	{"RaceSignInBurst", raceSignInBurst},
	{"RaceClaimGuess", raceClaimGuess},
	{"RaceMetaOnce", raceMetaOnce},
}

// outcome is one side's answer in a race: whether it won, and its error.
type outcome struct {
	won bool
	err error
}

// oneWinner fails the round unless exactly one side won with no error and the other lost with
// lost (nil: a plain false); it answers the winning side.
func (e *env) oneWinner(round int, what string, got [2]outcome, lost error) int {
	e.Helper()
	winner := -1
	for side, o := range got {
		switch {
		case o.won && o.err == nil:
			if winner >= 0 {
				e.Fatalf("round %d: %s: both sides won", round, what)
			}
			winner = side
		case !o.won && errors.Is(o.err, lost):
		default:
			e.Fatalf("round %d: %s: side %d answered won=%v err=%v, want the win or %v", round, what, side, o.won, o.err, lost)
		}
	}
	if winner < 0 {
		e.Fatalf("round %d: %s: neither side won", round, what)
	}
	return winner
}

// Two exchanges of one code: one claims it, the other loses (false, no error) and revokes the
// grant.
func raceClaimCode(e *env) {
	src := e.source("s")
	for i := range rounds {
		g := e.issue(src, fmt.Sprint("g", i))
		got := race(e, func(s *store.Store, _ int) outcome {
			ok, err := s.ClaimCode(e.ctx, g.code, store.CodeTokens{})
			return outcome{ok, err}
		})
		e.oneWinner(i, "ClaimCode", got, nil)
		if !e.revoked(e.a, g) {
			e.Fatalf("round %d: the losing claim left the grant live", i)
		}
	}
}

// Two callbacks take one state: one gets it, the other ErrNotFound.
func raceTakeLoginState(e *env) {
	for i := range rounds {
		session := fmt.Sprint("sess", i)
		e.putState(e.a, session, store.StateLogin, "s")
		got := race(e, func(s *store.Store, _ int) outcome {
			st, err := s.TakeLoginState(e.ctx, session, store.StateLogin)
			return outcome{err == nil && string(st.State) == "s", err}
		})
		e.oneWinner(i, "TakeLoginState", got, store.ErrNotFound)
	}
}

// Two callbacks claim one state: one holds it, the other ErrNotFound.
func raceClaimLoginState(e *env) {
	for i := range rounds {
		id := e.putState(e.a, "sess", store.StateLogin, fmt.Sprint(i))
		got := race(e, func(s *store.Store, _ int) outcome {
			st, err := s.ClaimLoginState(e.ctx, "sess", store.StateLogin, id, time.Minute)
			return outcome{err == nil && st.ID == id, err}
		})
		e.oneWinner(i, "ClaimLoginState", got, store.ErrNotFound)
	}
}

// Two refreshes with one token, each with its own next token: one rotates, the other is a
// reuse (ErrRefreshReused) that revokes the family, the winner's new tokens included; the
// loser's next token is not stored.
func raceRotateRefreshToken(e *env) {
	src := e.source("s")
	uid := e.login(e.a, src, "1", "").UserID
	for i := range rounds {
		r0 := e.refreshFamily(fmt.Sprint("r", i), fmt.Sprint("f", i), "g", uid)
		hashes := [2]string{fmt.Sprint("a", i), fmt.Sprint("b", i)}
		got := race(e, func(s *store.Store, side int) outcome {
			n, _ := next(r0, hashes[side])
			err := s.RotateRefreshToken(e.ctx, r0.Hash, n)
			return outcome{err == nil, err}
		})
		w := e.oneWinner(i, "RotateRefreshToken", got, store.ErrRefreshReused)
		if st := e.refreshState(e.b, hashes[w]); st != "revoked" {
			e.Fatalf("round %d: the winner's token is %s after a reuse", i, st)
		}
		if e.accessLive(e.b, "at-"+hashes[w]) {
			e.Fatalf("round %d: the winner's access token outlived a reuse", i)
		}
		if st := e.refreshState(e.b, hashes[1-w]); st != "missing" {
			e.Fatalf("round %d: the loser's token is %s", i, st)
		}
	}
}

// Two browsers complete one request: one does, the other gets ErrNotFound, and the request
// keeps the winner's user.
func raceCompleteAuthRequest(e *env) {
	src := e.source("s")
	users := [2]int64{e.login(e.a, src, "1", "").UserID, e.login(e.a, src, "2", "").UserID}
	for i := range rounds {
		id := fmt.Sprint("r", i)
		e.authRequest(e.a, id, "ck")
		got := race(e, func(s *store.Store, side int) outcome {
			err := s.CompleteAuthRequest(e.ctx, id, users[side], "", e.time())
			return outcome{err == nil, err}
		})
		w := e.oneWinner(i, "CompleteAuthRequest", got, store.ErrNotFound)
		if ar, err := e.b.AuthRequestByID(e.ctx, id); err != nil || ar.UserID != users[w] {
			e.Fatalf("round %d: completed by side %d, stored %+v %v", i, w, ar, err)
		}
	}
}

// Two codes for one request: one is bound, the other gets ErrNotFound and finds nothing.
func raceSaveAuthCode(e *env) {
	uid := e.login(e.a, e.source("s"), "1", "").UserID
	for i := range rounds {
		id := fmt.Sprint("r", i)
		e.authRequest(e.a, id, "ck")
		e.ok(e.a.CompleteAuthRequest(e.ctx, id, uid, "", e.time()), "complete")
		codes := [2]string{fmt.Sprint("x", i), fmt.Sprint("y", i)}
		got := race(e, func(s *store.Store, side int) outcome {
			err := s.SaveAuthCode(e.ctx, id, codes[side], e.time().Add(time.Minute))
			return outcome{err == nil, err}
		})
		w := e.oneWinner(i, "SaveAuthCode", got, store.ErrNotFound)
		if ar, err := e.b.AuthRequestByCode(e.ctx, codes[w]); err != nil || ar.ID != id {
			e.Fatalf("round %d: the bound code: %+v %v", i, ar, err)
		}
		if _, err := e.b.AuthRequestByCode(e.ctx, codes[1-w]); !errors.Is(err, store.ErrNotFound) {
			e.Fatalf("round %d: the refused code: %v", i, err)
		}
	}
}

// Two requests with one time step: exactly one advances it, whether the key is new (even
// rounds) or kept (odd rounds).
func raceAdvanceMetaStep(e *env) {
	for i := range rounds {
		key, step := "step", int64(i+1)
		if i%2 == 0 {
			key = fmt.Sprint("new", i)
		}
		got := race(e, func(s *store.Store, _ int) outcome {
			ok, err := s.AdvanceMetaStep(e.ctx, key, step)
			return outcome{ok, err}
		})
		e.oneWinner(i, "AdvanceMetaStep", got, nil)
		if v, err := e.b.Meta(e.ctx, key); err != nil || v != fmt.Sprint(step) {
			e.Fatalf("round %d: kept %q %v", i, v, err)
		}
	}
}
