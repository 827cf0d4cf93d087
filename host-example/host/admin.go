package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Meta keys of the admin password and the first-start setup link.
const (
	metaAdminHash = "admin_password_hash"
	// metaAdminOff is "1" while the local password is turned off (TurnOffAdminPassword).
	metaAdminOff     = "admin_password_off"
	metaSetupHash    = "setup_token_hash"
	metaSetupExpires = "setup_token_expires"
	// metaSetupSeed is "<random>.<expiry>": the setup token is its MAC, so replicas starting
	// together print the same link.
	metaSetupSeed = "setup_token_seed"
	// metaSetupUsed is the expiry of the last setup token used: a token is used once, by the
	// first request (on any replica) to advance it (AdvanceMetaStep).
	metaSetupUsed = "setup_token_used"
)

// SetupLifetime is how long a first-start setup link works.
const SetupLifetime = time.Hour

// MinAdminPassword is the shortest admin password accepted.
const MinAdminPassword = 10

// AdminStore is the persistence of the admin password, its TOTP and the source admins.
type AdminStore interface {
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	SecretMeta(ctx context.Context, key string) ([]byte, error)
	SetSecretMeta(ctx context.Context, key string, value []byte) error
	MetaOnce(ctx context.Context, key, value string) (string, error)
	MAC(label, value string) string
	AdvanceMetaStep(ctx context.Context, key string, step int64) (bool, error)
	DeleteAdminSessions(ctx context.Context) (int64, error)
	ForgetAdminDevices(ctx context.Context) error
	ForgetGuesses(ctx context.Context, prefix string) error
}

// AdminGuessPrefix begins the key of every guess counter of the admin's sign-in and proofs.
const AdminGuessPrefix = "admin/"

var _ AdminStore = (*store.Store)(nil)

// CheckAdminPasswordRules says why password cannot be the admin password, or nil: it has
// MinAdminPassword characters at least and 72 bytes at most (bcrypt reads no further).
func CheckAdminPasswordRules(password string) error {
	switch {
	case len([]rune(password)) < MinAdminPassword:
		return fmt.Errorf("the admin password must have at least %d characters", MinAdminPassword)
	case len(password) > 72:
		return fmt.Errorf("the admin password must have at most 72 bytes (it has %d)", len(password))
	}
	return nil
}

// SetAdminPassword stores the admin password (bcrypt), turning the local password on if it
// was off, and voids any setup link. Its TOTP, if any, stays.
func SetAdminPassword(ctx context.Context, st AdminStore, password string) error {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash the admin password: %w", err)
	}
	if err := st.SetMeta(ctx, metaAdminHash, string(h)); err != nil {
		return err
	}
	if err := st.SetMeta(ctx, metaAdminOff, ""); err != nil {
		return err
	}
	return voidSetupToken(ctx, st)
}

// AdminPasswordOn reports whether a local admin password is set (not turned off, not before setup).
func AdminPasswordOn(ctx context.Context, st AdminStore) bool {
	h, err := st.Meta(ctx, metaAdminHash)
	return err == nil && h != ""
}

// CheckAdminPassword reports whether password is the admin password.
func CheckAdminPassword(ctx context.Context, st AdminStore, password string) bool {
	h, err := st.Meta(ctx, metaAdminHash)
	return err == nil && h != "" && bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) == nil
}

// hasAdminPassword reports whether the admin was set up: a password, or one turned off in
// favour of the source admins (then no setup link may set one).
func hasAdminPassword(ctx context.Context, st AdminStore) bool {
	off, _ := st.Meta(ctx, metaAdminOff)
	return AdminPasswordOn(ctx, st) || off == "1"
}

// SetupToken returns the one-time setup token, valid for SetupLifetime from its making, when
// no admin password exists yet ("" otherwise). Replicas starting together get the same
// token; once it expired, or an admin password was set, the next call makes a new one.
func SetupToken(ctx context.Context, st AdminStore) (string, error) {
	if hasAdminPassword(ctx, st) {
		return "", voidSetupToken(ctx, st)
	}
	fresh := func() string {
		return store.RandomID(16) + "." + strconv.FormatInt(time.Now().Add(SetupLifetime).Unix(), 10)
	}
	seed, err := st.MetaOnce(ctx, metaSetupSeed, fresh())
	if err != nil {
		return "", err
	}
	_, exp, _ := strings.Cut(seed, ".")
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Now().Unix() >= n {
		if err := st.SetMeta(ctx, metaSetupSeed, fresh()); err != nil {
			return "", err
		}
		if seed, err = st.Meta(ctx, metaSetupSeed); err != nil {
			return "", err
		}
		_, exp, _ = strings.Cut(seed, ".")
	}
	tok := st.MAC("setup-token", seed)[:32]
	h, _ := bcrypt.GenerateFromPassword([]byte(tok), bcrypt.MinCost)
	if err := st.SetMeta(ctx, metaSetupExpires, exp); err != nil {
		return "", err
	}
	return tok, st.SetMeta(ctx, metaSetupHash, string(h))
}

// voidSetupToken ends the setup token, if any: the next one is new.
func voidSetupToken(ctx context.Context, st AdminStore) error {
	if err := st.SetMeta(ctx, metaSetupSeed, ""); err != nil {
		return err
	}
	return st.SetMeta(ctx, metaSetupHash, "")
}

// SetupTokenValid reports whether tok is the live setup token: no admin password yet, not
// expired, not used.
func SetupTokenValid(ctx context.Context, st AdminStore, tok string) bool {
	if tok == "" || hasAdminPassword(ctx, st) {
		return false
	}
	h, err := st.Meta(ctx, metaSetupHash)
	if err != nil || h == "" {
		return false
	}
	exp, _ := st.Meta(ctx, metaSetupExpires)
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Now().Unix() > n {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(h), []byte(tok)) == nil
}

// UseSetupToken takes the live setup token tok for setting the first admin password: true
// for the first caller only, on whichever replica (requests that all saw a valid token race
// here, not in SetAdminPassword). A token is identified by its expiry, which a newer token's
// always passes.
func UseSetupToken(ctx context.Context, st AdminStore, tok string) (bool, error) {
	if !SetupTokenValid(ctx, st, tok) {
		return false, nil
	}
	exp, err := st.Meta(ctx, metaSetupExpires)
	if err != nil {
		return false, err
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return false, fmt.Errorf("setup token expiry %q: %w", exp, err)
	}
	return st.AdvanceMetaStep(ctx, metaSetupUsed, n)
}

// metaAdminEpoch is the generation of the admin's ways in (AdminEpoch).
const metaAdminEpoch = "admin_epoch"

// AdminEpoch is the generation of the admin's ways in: reset-admin-password moves it after it
// changed the password and the TOTP, and before it ends the admin sessions. A sign-in reads it
// before it checks the password and again once its admin session is written: another value
// means a reset ran meanwhile, so the session it wrote is ended (a check made against the old
// password or TOTP must not outlive the reset that replaced them).
func AdminEpoch(ctx context.Context, st AdminStore) (string, error) {
	v, err := st.Meta(ctx, metaAdminEpoch)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // none before the first reset
		return "", fmt.Errorf("read the admin epoch: %w", err)
	}
	return v, nil
}

// AdminReset is what ResetAdminPassword did.
type AdminReset struct {
	// SessionsEnded is how many admin sessions ended.
	SessionsEnded int64
	// Recovery is the token of the recovery link (RecoveryPath + Recovery).
	Recovery string
}

// ResetAdminPassword sets a new admin password (turning it on if it was off), removes its
// TOTP, ends every admin session, forgets every known admin browser and the admin's guess
// counters, and makes a recovery link (the recovery of a locked-out or compromised admin).
func ResetAdminPassword(ctx context.Context, st AdminStore, password string) (AdminReset, error) {
	var done AdminReset
	if err := SetAdminPassword(ctx, st, password); err != nil {
		return done, fmt.Errorf("set the admin password: %w", err)
	}
	if err := TurnOffAdminTOTP(ctx, st); err != nil {
		return done, fmt.Errorf("remove the admin TOTP: %w", err)
	}
	// After the password and TOTP, before the sessions: a sign-in that checked the old ones
	// either wrote its session before this (ended below) or sees the new epoch (AdminEpoch).
	if err := st.SetMeta(ctx, metaAdminEpoch, store.RandomID(16)); err != nil {
		return done, fmt.Errorf("move the admin epoch: %w", err)
	}
	n, err := st.DeleteAdminSessions(ctx)
	if err != nil {
		return done, fmt.Errorf("end admin sessions: %w", err)
	}
	done.SessionsEnded = n
	if err := st.ForgetAdminDevices(ctx); err != nil {
		return done, fmt.Errorf("forget known admin browsers: %w", err)
	}
	if err := st.ForgetGuesses(ctx, AdminGuessPrefix); err != nil {
		return done, fmt.Errorf("forget the admin's guess counters: %w", err)
	}
	if done.Recovery, err = newAdminRecovery(ctx, st, time.Now()); err != nil {
		return done, err
	}
	return done, nil
}
