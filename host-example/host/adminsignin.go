package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's sign-in: the first-start setup, the local password, its TOTP code, and the
// sign-in through a source of a person whom an admin grant admits (sourceadmin.go).

const (
	// adminCodeLife is how long the code may take after the right password.
	adminCodeLife = 5 * time.Minute
	// AdminCodeAttempts is how many wrong codes one right password allows.
	AdminCodeAttempts = 3
	// SourceAdminFreshness is how recent a sign-in through a source must be to become an
	// admin session, or to be the proof of a change.
	SourceAdminFreshness = 5 * time.Minute
)

// Refusals of the admin's sign-in.
var (
	// ErrSetupLinkInvalid refuses a setup link that expired, was used, or came after an admin password.
	ErrSetupLinkInvalid = errors.New("the setup link is not valid")
	// ErrPasswordTooShort refuses a first admin password shorter than MinAdminPassword.
	ErrPasswordTooShort = fmt.Errorf("the admin password must have at least %d characters", MinAdminPassword)
	// ErrPasswordsDiffer refuses a first admin password whose confirmation differs.
	ErrPasswordsDiffer = errors.New("the two passwords differ")
	// ErrWrongPassword is a wrong admin password (counted).
	ErrWrongPassword = errors.New("wrong admin password")
	// ErrWrongCode is a wrong or reused TOTP code of a sign-in (counted); another may be tried.
	ErrWrongCode = errors.New("wrong or reused TOTP code")
	// ErrTooManyCodes ends a sign-in after AdminCodeAttempts wrong codes: the password again.
	ErrTooManyCodes = errors.New("too many wrong TOTP codes")
	// ErrCodeStepGone refuses a code whose sign-in took too long or was used already.
	ErrCodeStepGone = errors.New("the sign-in of this code expired or was used")
	// ErrAdminReset refuses a sign-in whose password or code was checked before a reset of
	// the admin password (the admin epoch moved).
	ErrAdminReset = errors.New("the admin password was reset during the sign-in")
)

// Setup sets the first admin password through the live setup link token (once, on whichever
// replica) and records it; confirm is the password typed again. A password that breaks
// CheckAdminPasswordRules is a *PasswordRuleError (ErrPasswordTooShort when too short), and
// leaves the link unspent.
func (a *Admin) Setup(ctx context.Context, token, password, confirm string) error {
	if !a.SetupTokenValid(ctx, token) {
		return ErrSetupLinkInvalid
	}
	if password != confirm {
		return ErrPasswordsDiffer
	}
	if err := CheckAdminPasswordRules(password); err != nil { // before the link is spent: SetPassword cannot refuse it then
		return &PasswordRuleError{Err: err}
	}
	if used, err := a.UseSetupToken(ctx, token); err != nil || !used {
		return ErrSetupLinkInvalid
	}
	if err := a.SetPassword(ctx, password); err != nil {
		return fmt.Errorf("set the first admin password: %w", err)
	}
	_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminPasswordSet, Reason: "setup_link"})
	return nil
}

// PasswordSignIn is an admin sign-in with the local password.
type PasswordSignIn struct {
	Attempt
	// SessionID is the browser's session, which keeps the code step when a TOTP is on.
	SessionID string
	Password  string
	// RecoveryToken is the recovery link's token the sign-in came by ("": none).
	RecoveryToken string
	Now           time.Time
}

// PasswordChecked is an admin password accepted (or, with ErrWrongPassword, refused).
type PasswordChecked struct {
	// Epoch is the admin epoch read before the password was checked (SessionOpened).
	Epoch string
	// Recovery is the recovery token still in effect ("": none, not needed by a known
	// browser, or no longer valid).
	Recovery string
	// Code is set when the TOTP code is asked next; its step is kept for the session.
	Code bool
	// RememberDevice is set when the recovery link was used and the code follows: the browser
	// becomes a known admin browser now, so the code step is exempt too.
	RememberDevice bool
	// Failed is what a wrong password did.
	Failed Failed
}

// codeStep is an admin sign-in whose password was right, kept for the browser's session.
type codeStep struct {
	Attempts int `json:"attempts"`
	// Epoch is the admin epoch read before the password was checked (Epoch).
	Epoch string `json:"epoch"`
}

// CheckPasswordSignIn checks the admin password of a sign-in (the attempt prelude once,
// Guess): ErrAdminLockedOut at a guess limit, ErrWrongPassword (counted, recorded) when
// wrong. A right one used the recovery link it came by (recorded), and, when a TOTP is on,
// keeps the code step for the session.
func (a *Admin) CheckPasswordSignIn(ctx context.Context, in PasswordSignIn) (PasswordChecked, error) {
	var out PasswordChecked
	epoch, err := a.Epoch(ctx) // before the password is checked: SessionOpened
	if err != nil {
		return out, err
	}
	out.Epoch = epoch
	if in.RecoveryToken != "" && in.Device == "" && a.RecoveryValid(ctx, in.RecoveryToken, in.Now) {
		out.Recovery = in.RecoveryToken // a known browser needs none; a link no longer valid exempts nothing
	}
	at := in.Attempt
	at.Recovery = out.Recovery != ""
	right, failed, err := a.Guess(ctx, at, "wrong password", func() (bool, error) { return a.CheckPassword(ctx, in.Password), nil })
	out.Failed = failed
	switch {
	case err != nil:
		return out, err
	case !right:
		return out, ErrWrongPassword
	}
	totpOn, err := a.TOTPOn(ctx)
	if err != nil {
		return out, err
	}
	if out.Recovery != "" {
		if used, err := a.UseRecovery(ctx, out.Recovery, in.Now); err != nil || !used {
			out.Recovery = "" // used by another request meanwhile: this one exempted nothing more
		} else {
			_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminSecurityChanged, Detail: "recovery link of reset-admin-password used: " +
				"the new password was accepted and this browser is a known admin browser; client " + in.ClientIP})
		}
	}
	if totpOn {
		out.Code, out.RememberDevice = true, out.Recovery != ""
		return out, a.keepCodeStep(ctx, in.SessionID, codeStep{Epoch: epoch}, in.Now)
	}
	return out, nil
}

// keepCodeStep keeps the code step cs of an admin sign-in for the session sessionID.
func (a *Admin) keepCodeStep(ctx context.Context, sessionID string, cs codeStep, now time.Time) error {
	b, _ := json.Marshal(cs)
	if _, err := a.st.PutLoginState(ctx, store.LoginState{SessionID: sessionID, Kind: store.StateAdminCode, State: b,
		ExpiresAt: now.Add(adminCodeLife)}); err != nil {
		return fmt.Errorf("keep the admin code step: %w", err)
	}
	return nil
}

// CodeSignIn is the TOTP code of an admin sign-in whose password was right.
type CodeSignIn struct {
	Attempt
	SessionID, Code string
	Now             time.Time
}

// CodeChecked is a code of an admin sign-in accepted (or, with an error, refused).
type CodeChecked struct {
	// Epoch is the admin epoch read before the password was checked (SessionOpened).
	Epoch string
	// Failed is what a wrong code did.
	Failed Failed
}

// CheckCodeSignIn checks the TOTP code of a sign-in whose password was right, bound to the
// browser's session, counted like wrong passwords (the attempt prelude once, Guess), a used
// code refused: ErrAdminLockedOut, ErrCodeStepGone, ErrAdminReset, ErrWrongCode (the step is
// kept for another code) or ErrTooManyCodes.
func (a *Admin) CheckCodeSignIn(ctx context.Context, in CodeSignIn) (CodeChecked, error) {
	var out CodeChecked
	var cs codeStep
	right, failed, err := a.Guess(ctx, in.Attempt, "wrong or reused TOTP code", func() (bool, error) {
		st, err := a.st.TakeLoginState(ctx, in.SessionID, store.StateAdminCode)
		if errors.Is(err, store.ErrNotFound) {
			return false, ErrCodeStepGone
		}
		if err != nil {
			return false, fmt.Errorf("take the admin code step: %w", err)
		}
		_ = json.Unmarshal(st.State, &cs)
		if epoch, err := a.Epoch(ctx); err != nil {
			return false, err
		} else if epoch != cs.Epoch {
			return false, ErrAdminReset
		}
		return a.CheckTOTP(ctx, in.Code, in.Now)
	})
	out.Epoch, out.Failed = cs.Epoch, failed
	switch {
	case err != nil:
		return out, err
	case right:
		return out, nil
	}
	if cs.Attempts++; cs.Attempts < AdminCodeAttempts {
		if err := a.keepCodeStep(ctx, in.SessionID, cs, in.Now); err != nil {
			return out, err
		}
		return out, ErrWrongCode
	}
	return out, ErrTooManyCodes
}

// SessionOpened finishes an admin sign-in once its admin session sessionID is written: the
// password (and code) were checked against epoch, read before; a reset since then ended the
// admin sessions it saw, maybe before this one was written, so this one ends too
// (ErrAdminReset). Otherwise the sign-in is recorded.
func (a *Admin) SessionOpened(ctx context.Context, sessionID, epoch, clientIP string) error {
	if now, err := a.Epoch(ctx); err != nil || now != epoch {
		_ = a.st.DeleteSession(ctx, sessionID)
		if err != nil {
			return err
		}
		return ErrAdminReset
	}
	_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminLogin, Detail: "client " + clientIP})
	return nil
}

// SignInOffer is what the admin sign-in offers: the local password while it is on, and the
// sign-in through a source while an admin grant is set.
type SignInOffer struct{ Password, Source bool }

// SignInOffer is what the admin sign-in offers now.
func (a *Admin) SignInOffer(ctx context.Context) SignInOffer {
	return SignInOffer{Password: a.PasswordOn(ctx), Source: len(a.Grants(ctx)) > 0}
}
