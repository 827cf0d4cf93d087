package storetest

import (
	"context"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var handoverChecks = []check{
	{"HandoverCodeClaimedOnceWithItsBinding", handoverCodeClaimedOnce},
	{"HandoverCodeCapKeepsNewest", handoverCodeCap},
	{"RaceClaimHandoverCode", raceClaimHandoverCode},
	{"HandoverCodeSpentByItsFirstPresentation", handoverCodeTakenOnce},
}

// handoverUser is a signed-in user and the binding of a code for it (origin, state).
func (e *env) handoverUser(sub string) store.HandoverCode {
	e.Helper()
	done := e.login(e.a, e.source("s"+sub), sub, "")
	sess, err := e.b.Session(e.ctx, done.Token)
	e.ok(err, "read the login's session")
	return store.HandoverCode{UserID: done.UserID, SessionID: sess.ID, Origin: "https://web.example.test", StateHash: "state-" + sub}
}

// A code minted on one handle is redeemed on the other once, with its origin and state,
// before it expires and while its host session lives; any first presentation uses it up.
func handoverCodeClaimedOnce(e *env) {
	c := e.handoverUser("1")
	mint := func(code string) {
		e.Helper()
		e.ok(e.a.CreateHandoverCode(e.ctx, code, c), "mint "+code)
	}
	mint("code-ok")
	got, err := claimHandoverCode(e.ctx, e.b, "code-ok", c.Origin, c.StateHash)
	e.ok(err, "claim")
	if *got != c {
		e.Fatalf("claimed %+v, want %+v", got, c)
	}
	_, err = claimHandoverCode(e.ctx, e.a, "code-ok", c.Origin, c.StateHash)
	e.is(err, store.ErrNotFound, "the code claimed twice")
	_, err = claimHandoverCode(e.ctx, e.a, "code-unknown", c.Origin, c.StateHash)
	e.is(err, store.ErrNotFound, "an unknown code")

	for name, claim := range map[string][2]string{"another origin": {"https://other.example.test", c.StateHash},
		"another state": {c.Origin, "state-x"}} {
		mint("code-" + name)
		_, err := claimHandoverCode(e.ctx, e.b, "code-"+name, claim[0], claim[1])
		e.is(err, store.ErrNotFound, name)
		_, err = claimHandoverCode(e.ctx, e.b, "code-"+name, c.Origin, c.StateHash)
		e.is(err, store.ErrNotFound, name+", then with its own binding")
	}
	mint("code-late")
	e.advance(store.HandoverCodeLife)
	_, err = claimHandoverCode(e.ctx, e.b, "code-late", c.Origin, c.StateHash)
	e.is(err, store.ErrNotFound, "a late code")

	mint("code-session")
	e.ok(e.a.DeleteSession(e.ctx, c.SessionID), "end the host session")
	_, err = claimHandoverCode(e.ctx, e.b, "code-session", c.Origin, c.StateHash)
	e.is(err, store.ErrNotFound, "a code of an ended host session")
}

// A user keeps the newest MaxHandoverCodes codes: minting more drops the oldest.
func handoverCodeCap(e *env) {
	c := e.handoverUser("1")
	n := store.MaxHandoverCodes + 3
	for i := range n {
		e.ok(e.a.CreateHandoverCode(e.ctx, fmt.Sprint("code-", i), c), "mint")
		e.advance(time.Millisecond)
	}
	for i := range n {
		_, err := claimHandoverCode(e.ctx, e.b, fmt.Sprint("code-", i), c.Origin, c.StateHash)
		if want := i >= n-store.MaxHandoverCodes; want != (err == nil) {
			e.Fatalf("code %d of %d: claimed=%v (%v), want %v", i, n, err == nil, err, want)
		}
	}
}

// Two bridges redeem one code at once: one gets it, the other ErrNotFound.
func raceClaimHandoverCode(e *env) {
	c := e.handoverUser("1")
	for i := range rounds {
		code := fmt.Sprint("code-", i)
		e.ok(e.a.CreateHandoverCode(e.ctx, code, c), "mint")
		got := race(e, func(s *store.Store, _ int) outcome {
			h, err := claimHandoverCode(e.ctx, s, code, c.Origin, c.StateHash)
			return outcome{err == nil && h.UserID == c.UserID, err}
		})
		e.oneWinner(i, "ClaimHandoverCode", got, store.ErrNotFound)
	}
}

// Taking a code spends it on its first presentation, before its binding is checked: taken
// on one handle, it is refused on the other, even with its own origin and state.
func handoverCodeTakenOnce(e *env) {
	c := e.handoverUser("1")
	e.ok(e.a.CreateHandoverCode(e.ctx, "code-taken", c), "mint")
	got, err := e.a.TakeHandoverCode(e.ctx, "code-taken")
	e.ok(err, "take")
	if *got != c {
		e.Fatalf("taken %+v, want %+v", got, c)
	}
	e.is(got.Matches("https://other.example.test", c.StateHash), store.ErrNotFound, "another origin")
	e.is(got.Matches(c.Origin, "state-x"), store.ErrNotFound, "another state")
	e.ok(got.Matches(c.Origin, c.StateHash), "its own binding")
	_, err = e.b.TakeHandoverCode(e.ctx, "code-taken")
	e.is(err, store.ErrNotFound, "the code taken twice")
	_, err = claimHandoverCode(e.ctx, e.b, "code-taken", c.Origin, c.StateHash)
	e.is(err, store.ErrNotFound, "the code claimed after it was taken")
}

// claimHandoverCode redeems code for origin with stateHash as the bridge does: it spends the
// code (TakeHandoverCode), then checks what the code is bound to (Matches).
func claimHandoverCode(ctx context.Context, s *store.Store, code, origin, stateHash string) (*store.HandoverCode, error) {
	c, err := s.TakeHandoverCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := c.Matches(origin, stateHash); err != nil {
		return nil, err
	}
	return c, nil
}
