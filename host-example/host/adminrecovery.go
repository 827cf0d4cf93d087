package host

import (
	"context"
	"crypto/hmac"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The recovery link of the break-glass (Reset): it opens the admin sign-in
// exempt from the guess limit shared by unknown browsers (so the admin gets in during a
// guessing attack) and makes that browser a known one once the new password is accepted. It
// signs in by itself to nothing. It is kept in the database as a MAC (any replica checks
// it), works for RecoveryLifetime, and once: the first sign-in through it uses it.

// Meta keys of the recovery link.
const (
	metaRecovery     = "admin_recovery"      // "<MAC of the token>.<expiry in Unix nanoseconds>"
	metaRecoveryUsed = "admin_recovery_used" // the expiry of the last link used (AdvanceMetaStep)
)

// RecoveryLifetime is how long a recovery link works.
const RecoveryLifetime = time.Hour

// RecoveryPath is the path of the recovery link, before its token.
const RecoveryPath = "/admin/login?recovery="

// newRecovery makes the recovery link's token, replacing any earlier one.
func (a *Admin) newRecovery(ctx context.Context, now time.Time) (string, error) {
	tok := store.RandomID(32)
	v := a.st.MAC("admin-recovery", tok) + "." + strconv.FormatInt(now.Add(RecoveryLifetime).UnixNano(), 10)
	if err := a.st.SetMeta(ctx, metaRecovery, v); err != nil {
		return "", fmt.Errorf("keep the recovery link: %w", err)
	}
	return tok, nil
}

// recovery is the expiry of the recovery link whose token is tok, when it is the live
// one at now (not expired, not used); ok is false otherwise.
func (a *Admin) recovery(ctx context.Context, tok string, now time.Time) (expiry int64, ok bool) {
	if tok == "" || len(tok) > 100 {
		return 0, false
	}
	v, err := a.st.Meta(ctx, metaRecovery)
	mac, exp, found := strings.Cut(v, ".")
	if err != nil || !found || !hmac.Equal([]byte(mac), []byte(a.st.MAC("admin-recovery", tok))) {
		return 0, false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.UnixNano() >= n {
		return 0, false
	}
	used, _ := a.st.Meta(ctx, metaRecoveryUsed)
	if u, err := strconv.ParseInt(used, 10, 64); err == nil && u >= n {
		return 0, false
	}
	return n, true
}

// RecoveryValid reports whether tok is the live recovery link at now.
func (a *Admin) RecoveryValid(ctx context.Context, tok string, now time.Time) bool {
	_, ok := a.recovery(ctx, tok, now)
	return ok
}

// UseRecovery uses the live recovery link tok: true for the first caller only, on
// whichever replica.
func (a *Admin) UseRecovery(ctx context.Context, tok string, now time.Time) (bool, error) {
	n, ok := a.recovery(ctx, tok, now)
	if !ok {
		return false, nil
	}
	return a.st.AdvanceMetaStep(ctx, metaRecoveryUsed, n)
}
