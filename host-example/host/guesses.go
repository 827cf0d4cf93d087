package host

import (
	"context"
	"fmt"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Words of a guess refusal whose guard has none of its own.
const (
	guessLimitReason = "guess_limit_reached"
	guessLimitText   = "Too many wrong answers. Please wait a while and try again."
)

// guessKey is the store's key of a guard's count: per source, so two sources of one plugin
// never share a count.
func guessKey(sourceID string, g *source.GuessGuard) string {
	return "source/" + sourceID + "/" + g.Key
}

// claimedGuess is one guess counted in the store before the plugin checks it; guess is nil
// when the answer was no guess (its choice has no usable guard).
type claimedGuess struct{ guess *store.Guess }

// claimGuess counts the answer to a guarded choice as a guess before the plugin checks it,
// in the store, so every replica (and a restarted plugin) sees the same count. Once the
// guard's limit is reached it answers the guard's refusal (recorded as a failed login)
// without the plugin being asked. A guard the host cannot keep is logged and ignored: the
// plugin still has its own limit.
func (l *Logins) claimGuess(ctx context.Context, src *store.Source, g *source.GuessGuard) (claimedGuess, error) {
	if g == nil {
		return claimedGuess{}, nil
	}
	if err := g.Check(); err != nil {
		l.log.Warn("login step: guess guard ignored", "source", src.ID, "error", err)
		return claimedGuess{}, nil
	}
	key := guessKey(src.ID, g)
	counted, err := l.store.ClaimGuess(ctx, key, g.Max, g.Window)
	if err != nil {
		return claimedGuess{}, fmt.Errorf("login step: %w", err)
	}
	if counted == nil {
		refusal := &source.Error{Kind: source.KindRateLimited, ReasonCode: g.ReasonCode, UserText: g.UserText,
			AdminDetail: fmt.Sprintf("guess limit reached: %d wrong guesses within %s under %q; the plugin was not asked", g.Max, g.Window, g.Key)}
		if refusal.ReasonCode == "" {
			refusal.ReasonCode = guessLimitReason
		}
		if refusal.UserText == "" {
			refusal.UserText = guessLimitText
		}
		return claimedGuess{}, l.failed(ctx, src, refusal, false)
	}
	return claimedGuess{guess: counted}, nil
}

// settle keeps a counted guess the plugin said was wrong and takes back any other (a right
// guess, or one the plugin could not check).
func (c claimedGuess) settle(ctx context.Context, l *Logins, wrong bool) {
	if c.guess == nil || wrong {
		return
	}
	if err := l.store.ForgiveGuess(context.WithoutCancel(ctx), c.guess); err != nil {
		l.log.Warn("login step: a guess was not taken back", "error", err)
	}
}
