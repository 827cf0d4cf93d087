package storetest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// endWait bounds how long a claim waits, between its check and its writes, for an end of
// access it started to finish: a store that cannot run the end there (SQLite's one writer)
// goes on after it, and the end runs once the claim commits. The checks' outcome does not
// depend on it; it only lets a store that can interleave do so.
const endWait = 500 * time.Millisecond

// endOfAccess is one way an admin ends a person's access, and its undoing (nil: none).
type endOfAccess struct {
	name      string
	end, undo func(e *env, src *store.Source, g grant) error
}

var endsOfAccess = []endOfAccess{
	{"sign out everywhere", func(e *env, _ *store.Source, g grant) error { return e.b.SignOutEverywhere(e.ctx, g.userID) }, nil},
	{"disable",
		func(e *env, _ *store.Source, g grant) error {
			return e.b.SetDisabled(e.ctx, g.userID, true, store.DisabledByAdmin)
		},
		func(e *env, _ *store.Source, g grant) error { return e.b.SetDisabled(e.ctx, g.userID, false, "") }},
	{"turn the source off",
		func(e *env, src *store.Source, _ grant) error { return e.b.SetEnabled(e.ctx, src.ID, false) },
		func(e *env, src *store.Source, _ grant) error { return e.b.SetEnabled(e.ctx, src.ID, true) }},
}

// A code exchange racing an end of access (sign out everywhere, disable, source off) on the
// other handle, run where the race hurts: after the claim checked the session, user and
// source, before the code's tokens are written (AfterClaim). Whatever order the store lets
// them take, no token of the exchange is live afterwards, nor once the person or source is on
// again: the claim is refused (ErrAccessEnded) and writes nothing, or the tokens it wrote
// are revoked. Written after a separate claim, the tokens outlived the end (review B, LOW 1).
func codeClaimRacingEndOfAccess(e *env) {
	for i, c := range endsOfAccess {
		src := e.source(fmt.Sprint("race-", i))
		g := e.minted(src, fmt.Sprint("race-", i))
		ended := make(chan error, 1)
		var once sync.Once
		started := false
		e.a.AfterClaim(func() {
			once.Do(func() {
				started = true
				go func() { ended <- c.end(e, src, g) }()
				select {
				case err := <-ended:
					ended <- err
				case <-time.After(endWait):
				}
			})
		})
		ok, err := e.a.ClaimCode(e.ctx, g.code, e.tokens(g))
		e.a.AfterClaim(nil)
		if !started {
			e.Fatalf("%s: the claim never reached its writes (%v %v)", c.name, ok, err)
		}
		e.ok(<-ended, c.name)
		if c.undo != nil {
			e.ok(c.undo(e, src, g), "undo "+c.name)
		}
		switch {
		case ok && err == nil:
			e.Logf("%s: the claim won, then the end ran", c.name)
			if !e.revoked(e.b, g) {
				e.Errorf("%s committed between the claim and the tokens: the tokens the claim wrote are live", c.name)
			}
		case errors.Is(err, store.ErrAccessEnded):
			e.Logf("%s: the end ran first, the claim was refused", c.name)
			if _, err := e.b.RefreshTokenByHash(e.ctx, g.refresh); !errors.Is(err, store.ErrNotFound) {
				e.Errorf("%s: a refused claim stored its refresh token (%v)", c.name, err)
			}
			if e.accessLive(e.b, g.access) {
				e.Errorf("%s: a refused claim stored a live access token", c.name)
			}
		default:
			e.Fatalf("%s: claim %v %v, want the code (tokens revoked) or ErrAccessEnded", c.name, ok, err)
		}
		if ok, _ := e.b.ClaimCode(e.ctx, g.code, store.CodeTokens{}); ok {
			e.Errorf("%s: the code claims again", c.name)
		}
	}
}
