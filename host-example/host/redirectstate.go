package host

import (
	"context"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// redirectStates keep what the host needs between sending a browser away (a login's or an
// admin action's redirect) and its callback, with one policy for both: the callback claims
// the state for its one call (a second callback racing finds nothing), then the state ends,
// unless the plugin's answer was retryable ("not yet", "try again"): then the claim is
// released and the same link can be tried again.
type redirectStates struct{ store Store }

// put keeps st; it answers the state's id (st.ID when given).
func (rs redirectStates) put(ctx context.Context, st store.LoginState) (string, error) {
	return rs.store.PutLoginState(ctx, st)
}

// claim claims the session's state id of kind for one call, or answers ErrStale.
func (rs redirectStates) claim(ctx context.Context, sessionID string, kind store.LoginStateKind, id string) (*store.LoginState, error) {
	if id == "" {
		return nil, ErrStale
	}
	ls, err := rs.store.ClaimLoginState(ctx, sessionID, kind, id, claimHold)
	if err != nil {
		return nil, ErrStale
	}
	return ls, nil
}

// settle ends a claimed state after the plugin's answer err: released when err is
// retryable, deleted otherwise (a success or a final refusal). It reports whether the state
// stays.
func (rs redirectStates) settle(ctx context.Context, ls *store.LoginState, err error) bool {
	if err != nil && source.AsError(err).Retryable {
		_ = rs.store.ReleaseLoginState(ctx, ls.ID)
		return true
	}
	rs.drop(ctx, ls)
	return false
}

// drop ends a claimed state whatever comes next (its source is gone).
func (rs redirectStates) drop(ctx context.Context, ls *store.LoginState) {
	_ = rs.store.DeleteLoginState(ctx, ls.ID)
}
