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
	// metaAdminOff is "1" while the local password is turned off (TurnOffPassword).
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

// AdminStore is the persistence of the admin's ways in: the password, its TOTP, the setup
// and recovery links, the admin grants and source admins, the known admin browsers, the
// guess counters of admin attempts, and the events these write.
type AdminStore interface {
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	SecretMeta(ctx context.Context, key string) ([]byte, error)
	SetSecretMeta(ctx context.Context, key string, value []byte) error
	MetaOnce(ctx context.Context, key, value string) (string, error)
	MAC(label, value string) string
	AdvanceMetaStep(ctx context.Context, key string, step int64) (bool, error)
	DeleteAdminSessions(ctx context.Context) (int64, error)
	DeleteSession(ctx context.Context, id string) error
	ForgetAdminDevices(ctx context.Context) error

	// Guesses of admin secrets, counted across replicas.
	ClaimGuess(ctx context.Context, key string, max int, window time.Duration) (*store.Guess, error)
	ForgiveGuess(ctx context.Context, g *store.Guess) error
	ForgetGuesses(ctx context.Context, prefix string) error

	// Known admin browsers.
	AdminDeviceKey(ctx context.Context) (string, error)
	AdminDeviceLocked(ctx context.Context, id string) (bool, error)
	AdminDeviceFailed(ctx context.Context, id string, max int, life time.Duration) (bool, error)
	AdminDeviceSucceeded(ctx context.Context, id string) error

	// The code step of an admin sign-in, kept for the browser's session.
	PutLoginState(ctx context.Context, st store.LoginState) (string, error)
	TakeLoginState(ctx context.Context, sessionID string, kind store.LoginStateKind) (*store.LoginState, error)

	// Who the grants admit, and what happened.
	Users(ctx context.Context) ([]*store.User, error)
	User(ctx context.Context, id int64) (*store.User, error)
	Source(ctx context.Context, id string) (*store.Source, error)
	Sources(ctx context.Context) ([]*store.Source, error)
	SourceUsers(ctx context.Context, sourceID string) ([]*store.User, error)
	EventSources(ctx context.Context, kind store.EventKind, text string) ([]string, error)
	EventPage(ctx context.Context, f store.EventFilter) (store.EventPage, error)
	AddEvent(ctx context.Context, e store.Event) error
	// A person of several sources: which source gave a grant's group at a fresh sign-in.
	Identities(ctx context.Context, userID int64) ([]store.Identity, error)
	UserEvents(ctx context.Context, sourceID, subject string, limit int) ([]store.Event, error)
}

// Admin is the admin's ways in: the local password and its TOTP, the first-start setup link,
// the recovery link, the admin grants of the source admins, the known admin browsers and the
// guess limits of admin attempts, and the proof a change of them asks for.
type Admin struct {
	st      AdminStore
	sources *Sources
}

// NewAdmin returns the admin's ways in over st; sources (nil: none) tells whether a source
// admin's source is usable.
func NewAdmin(st AdminStore, sources *Sources) *Admin { return &Admin{st: st, sources: sources} }

// usable reports whether src can sign people in now.
func (a *Admin) usable(src *store.Source) bool {
	return a.sources != nil && a.sources.Usable(src) != nil
}

// AdminGuessPrefix begins the key of every guess counter of the admin's sign-in and proofs.
const AdminGuessPrefix = "admin/"

var _ AdminStore = (*store.Store)(nil)

// CheckAdminPasswordRules says why password cannot be the admin password, or nil: it has
// MinAdminPassword characters at least and 72 bytes at most (bcrypt reads no further).
func CheckAdminPasswordRules(password string) error {
	switch {
	case len([]rune(password)) < MinAdminPassword:
		return ErrPasswordTooShort
	case len(password) > 72:
		return fmt.Errorf("the admin password must have at most 72 bytes (it has %d)", len(password))
	}
	return nil
}

// SetPassword stores the admin password (bcrypt), turning the local password on if it
// was off, and voids any setup link. Its TOTP, if any, stays.
func (a *Admin) SetPassword(ctx context.Context, password string) error {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash the admin password: %w", err)
	}
	if err := a.st.SetMeta(ctx, metaAdminHash, string(h)); err != nil {
		return err
	}
	if err := a.st.SetMeta(ctx, metaAdminOff, ""); err != nil {
		return err
	}
	return a.voidSetupToken(ctx)
}

// PasswordOn reports whether a local admin password is set (not turned off, not before setup).
func (a *Admin) PasswordOn(ctx context.Context) bool {
	h, err := a.st.Meta(ctx, metaAdminHash)
	return err == nil && h != ""
}

// CheckPassword reports whether password is the admin password.
func (a *Admin) CheckPassword(ctx context.Context, password string) bool {
	h, err := a.st.Meta(ctx, metaAdminHash)
	return err == nil && h != "" && bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) == nil
}

// hasPassword reports whether the admin was set up: a password, or one turned off in
// favour of the source admins (then no setup link may set one).
func (a *Admin) hasPassword(ctx context.Context) bool {
	off, _ := a.st.Meta(ctx, metaAdminOff)
	return a.PasswordOn(ctx) || off == "1"
}

// SetupToken returns the one-time setup token, valid for SetupLifetime from its making, when
// no admin password exists yet ("" otherwise). Replicas starting together get the same
// token; once it expired, or an admin password was set, the next call makes a new one.
func (a *Admin) SetupToken(ctx context.Context) (string, error) {
	if a.hasPassword(ctx) {
		return "", a.voidSetupToken(ctx)
	}
	fresh := func() string {
		return store.RandomID(16) + "." + strconv.FormatInt(time.Now().Add(SetupLifetime).Unix(), 10)
	}
	seed, err := a.st.MetaOnce(ctx, metaSetupSeed, fresh())
	if err != nil {
		return "", err
	}
	_, exp, _ := strings.Cut(seed, ".")
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Now().Unix() >= n {
		if err := a.st.SetMeta(ctx, metaSetupSeed, fresh()); err != nil {
			return "", err
		}
		if seed, err = a.st.Meta(ctx, metaSetupSeed); err != nil {
			return "", err
		}
		_, exp, _ = strings.Cut(seed, ".")
	}
	tok := a.st.MAC("setup-token", seed)[:32]
	h, _ := bcrypt.GenerateFromPassword([]byte(tok), bcrypt.MinCost)
	if err := a.st.SetMeta(ctx, metaSetupExpires, exp); err != nil {
		return "", err
	}
	return tok, a.st.SetMeta(ctx, metaSetupHash, string(h))
}

// voidSetupToken ends the setup token, if any: the next one is new.
func (a *Admin) voidSetupToken(ctx context.Context) error {
	if err := a.st.SetMeta(ctx, metaSetupSeed, ""); err != nil {
		return err
	}
	return a.st.SetMeta(ctx, metaSetupHash, "")
}

// SetupTokenValid reports whether tok is the live setup token: no admin password yet, not
// expired, not used.
func (a *Admin) SetupTokenValid(ctx context.Context, tok string) bool {
	if tok == "" || a.hasPassword(ctx) {
		return false
	}
	h, err := a.st.Meta(ctx, metaSetupHash)
	if err != nil || h == "" {
		return false
	}
	exp, _ := a.st.Meta(ctx, metaSetupExpires)
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Now().Unix() > n {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(h), []byte(tok)) == nil
}

// UseSetupToken takes the live setup token tok for setting the first admin password: true
// for the first caller only, on whichever replica (requests that all saw a valid token race
// here, not in SetPassword). A token is identified by its expiry, which a newer token's
// always passes.
func (a *Admin) UseSetupToken(ctx context.Context, tok string) (bool, error) {
	if !a.SetupTokenValid(ctx, tok) {
		return false, nil
	}
	exp, err := a.st.Meta(ctx, metaSetupExpires)
	if err != nil {
		return false, err
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return false, fmt.Errorf("setup token expiry %q: %w", exp, err)
	}
	return a.st.AdvanceMetaStep(ctx, metaSetupUsed, n)
}

// metaAdminEpoch is the generation of the admin's ways in (Epoch).
const metaAdminEpoch = "admin_epoch"

// Epoch is the generation of the admin's ways in: reset-admin-password moves it after it
// changed the password and the TOTP, and before it ends the admin sessions. A sign-in reads it
// before it checks the password and again once its admin session is written: another value
// means a reset ran meanwhile, so the session it wrote is ended (a check made against the old
// password or TOTP must not outlive the reset that replaced them).
func (a *Admin) Epoch(ctx context.Context) (string, error) {
	v, err := a.st.Meta(ctx, metaAdminEpoch)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // none before the first reset
		return "", fmt.Errorf("read the admin epoch: %w", err)
	}
	return v, nil
}

// AdminReset is what Reset did.
type AdminReset struct {
	// SessionsEnded is how many admin sessions ended.
	SessionsEnded int64
	// Recovery is the token of the recovery link (RecoveryPath + Recovery).
	Recovery string
}

// Reset sets a new admin password (turning it on if it was off), removes its
// TOTP, ends every admin session, forgets every known admin browser and the admin's guess
// counters, and makes a recovery link (the recovery of a locked-out or compromised admin).
func (a *Admin) Reset(ctx context.Context, password string) (AdminReset, error) {
	var done AdminReset
	if err := a.SetPassword(ctx, password); err != nil {
		return done, fmt.Errorf("set the admin password: %w", err)
	}
	if err := a.TurnOffTOTP(ctx); err != nil {
		return done, fmt.Errorf("remove the admin TOTP: %w", err)
	}
	// After the password and TOTP, before the sessions: a sign-in that checked the old ones
	// either wrote its session before this (ended below) or sees the new epoch (Epoch).
	if err := a.st.SetMeta(ctx, metaAdminEpoch, store.RandomID(16)); err != nil {
		return done, fmt.Errorf("move the admin epoch: %w", err)
	}
	n, err := a.st.DeleteAdminSessions(ctx)
	if err != nil {
		return done, fmt.Errorf("end admin sessions: %w", err)
	}
	done.SessionsEnded = n
	if err := a.st.ForgetAdminDevices(ctx); err != nil {
		return done, fmt.Errorf("forget known admin browsers: %w", err)
	}
	if err := a.st.ForgetGuesses(ctx, AdminGuessPrefix); err != nil {
		return done, fmt.Errorf("forget the admin's guess counters: %w", err)
	}
	if done.Recovery, err = a.newRecovery(ctx, time.Now()); err != nil {
		return done, err
	}
	return done, nil
}
