package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The changes of the admin's ways in that the security page makes: each asks for the proof
// of the current admin and is recorded (ChangeWaysIn).

// Refusals of a change of the admin's ways in, before its proof is asked.
var (
	// ErrTOTPNeedsPassword refuses beginning a TOTP while the local password is off.
	ErrTOTPNeedsPassword = errors.New("the local password is off: a code is only asked after it")
	// ErrPasswordIsOn refuses turning on the local password when it is on.
	ErrPasswordIsOn = errors.New("the local password is on already")
	// ErrEnrolmentCodeWrong refuses confirming a TOTP enrolment with a wrong code.
	ErrEnrolmentCodeWrong = errors.New("the code is not right for the TOTP enrolment")
	// ErrGrantSourceGone refuses a grant of a source that does not exist.
	ErrGrantSourceGone = errors.New("a grant names a source that does not exist")
)

// EnrolmentElsewhere refuses beginning a TOTP enrolment while another admin session's,
// begun at Began, is under way; it is ErrTOTPEnrolmentUnderWay.
type EnrolmentElsewhere struct{ Began time.Time }

func (e *EnrolmentElsewhere) Error() string { return ErrTOTPEnrolmentUnderWay.Error() }

// Is makes it ErrTOTPEnrolmentUnderWay.
func (e *EnrolmentElsewhere) Is(target error) bool { return target == ErrTOTPEnrolmentUnderWay }

// PasswordRuleError refuses a new admin password that breaks CheckAdminPasswordRules.
type PasswordRuleError struct{ Err error }

func (e *PasswordRuleError) Error() string { return e.Err.Error() }

// Unwrap is the broken rule.
func (e *PasswordRuleError) Unwrap() error { return e.Err }

// SecurityState is the admin's ways in as the security page shows them.
type SecurityState struct {
	PasswordOn, TOTPOn bool
	LastSourceAdmin    *SourceAdminSignIn
	Grants             GrantsView
	// Pending is the TOTP enrolment under way while no code is on (nil: none).
	Pending *TOTPEnrolment
}

// Security reads the admin's ways in at now.
func (a *Admin) Security(ctx context.Context, now time.Time) (SecurityState, error) {
	totpOn, err := a.TOTPOn(ctx)
	if err != nil {
		return SecurityState{}, err
	}
	out := SecurityState{PasswordOn: a.PasswordOn(ctx), TOTPOn: totpOn, LastSourceAdmin: a.LastSourceSignIn(ctx)}
	if out.Grants, err = a.GrantsView(ctx, a.Grants(ctx)); err != nil {
		return SecurityState{}, err
	}
	if e, err := a.PendingTOTP(ctx, now); err == nil && e != nil && !totpOn {
		out.Pending = e
	}
	return out, nil
}

// GrantsView is what the pages show of admin grants: the sources to pick from, who the
// grants admit, and why the saved ones need confirming.
type GrantsView struct {
	Grants  []Grant
	Sources []*store.Source
	// ByID are the sources by id.
	ByID   map[string]*store.Source
	Admins []SourceAdmin
	// Unconfirmed says why the saved grants need the admin's confirmation ("": they do not).
	Unconfirmed string
}

// GrantsView is grants as the pages show them.
func (a *Admin) GrantsView(ctx context.Context, grants []Grant) (GrantsView, error) {
	srcs, err := a.st.Sources(ctx)
	if err != nil {
		return GrantsView{}, fmt.Errorf("read the sources of the admin grants: %w", err)
	}
	out := GrantsView{Grants: grants, Sources: srcs, ByID: map[string]*store.Source{}, Unconfirmed: a.GrantsUnconfirmed(ctx)}
	for _, src := range srcs {
		out.ByID[src.ID] = src
	}
	if out.Admins, err = a.SourceAdmins(ctx, grants); err != nil {
		return GrantsView{}, err
	}
	return out, nil
}

// ProposeGrants are the grants of a form cleaned (CleanGrants: ErrBadGrant), each of a source
// that exists (ErrGrantSourceGone), as the pages show them: who they would admit.
func (a *Admin) ProposeGrants(ctx context.Context, grants []Grant) (GrantsView, error) {
	grants, err := CleanGrants(grants)
	if err != nil {
		return GrantsView{}, err
	}
	view, err := a.GrantsView(ctx, grants)
	if err != nil {
		return GrantsView{}, err
	}
	for _, g := range grants {
		if view.ByID[g.SourceID] == nil && g.SourceID != store.FromAdmin {
			return GrantsView{}, ErrGrantSourceGone
		}
	}
	return view, nil
}

// SetGrantsProven replaces the admin grants by grants (ProposeGrants' cleaned ones) once p
// proves the current admin (ChangeWaysIn); ErrPasswordOff, before the proof, when they would
// leave no way in. byID names the sources in the event.
func (a *Admin) SetGrantsProven(ctx context.Context, p Proof, grants []Grant, byID map[string]*store.Source) error {
	if err := a.CheckGrants(ctx, grants); err != nil {
		return err
	}
	return a.ChangeWaysIn(ctx, p, func(ctx context.Context) (WaysInChange, error) {
		old := a.Grants(ctx)
		if err := a.SetGrants(ctx, grants); err != nil {
			return WaysInChange{}, err
		}
		if len(grants) == 0 {
			return WaysInChange{What: "admin grants " + DescribeGrants(old, byID) + " removed"}, nil
		}
		return WaysInChange{What: "admin grants " + DescribeGrants(old, byID) + " became " + DescribeGrants(grants, byID)}, nil
	})
}

// BeginTOTPProven begins a TOTP enrolment of the admin session p.SessionID (BeginTOTP) once p
// proves the current admin; first it refuses (ErrTOTPNeedsPassword, ErrAdminTOTPOn, or
// *EnrolmentElsewhere unless replace) what BeginTOTP would.
func (a *Admin) BeginTOTPProven(ctx context.Context, p Proof, issuer string, replace bool) error {
	if !a.PasswordOn(ctx) {
		return ErrTOTPNeedsPassword
	}
	if on, err := a.TOTPOn(ctx); err != nil {
		return err
	} else if on {
		return ErrAdminTOTPOn
	}
	if e, err := a.PendingTOTP(ctx, p.Now); err == nil && e != nil && e.Session != p.SessionID && !replace {
		return &EnrolmentElsewhere{Began: e.Began}
	}
	return a.ChangeWaysIn(ctx, p, func(ctx context.Context) (WaysInChange, error) {
		_, replaced, err := a.BeginTOTP(ctx, issuer, p.SessionID, p.Now, replace)
		if err != nil {
			return WaysInChange{}, err
		}
		what := "TOTP enrolment begun"
		if replaced != nil {
			what += ", replacing the enrolment another admin session began at " + replaced.Began.UTC().Format(time.RFC3339)
		}
		return WaysInChange{What: what}, nil
	})
}

// ConfirmTOTPProven turns on the enrolment the session p.SessionID began, with a code of its
// secret (ErrEnrolmentCodeWrong) and the proof again (the password, as the code is not on
// yet): the proof given at the beginning does not cover whoever holds the session later, and
// the code would prove every change after.
func (a *Admin) ConfirmTOTPProven(ctx context.Context, p Proof, code string) error {
	return a.ChangeWaysIn(ctx, p, func(ctx context.Context) (WaysInChange, error) {
		ok, err := a.ConfirmTOTP(ctx, p.SessionID, code, p.Now)
		if err == nil && !ok {
			err = ErrEnrolmentCodeWrong
		}
		return WaysInChange{What: "TOTP code turned on", ProofNote: ", with a code of the new secret of the enrolment begun in this session"}, err
	})
}

// TurnOffTOTPProven removes the admin TOTP once p proves the current admin.
func (a *Admin) TurnOffTOTPProven(ctx context.Context, p Proof) error {
	return a.ChangeWaysIn(ctx, p, func(ctx context.Context) (WaysInChange, error) {
		return WaysInChange{What: "TOTP code turned off"}, a.TurnOffTOTP(ctx)
	})
}

// TurnOffPasswordProven turns the local password off (TurnOffPasswordNow) once p proves the
// current admin.
func (a *Admin) TurnOffPasswordProven(ctx context.Context, p Proof) error {
	return a.ChangeWaysIn(ctx, p, func(ctx context.Context) (WaysInChange, error) {
		return WaysInChange{What: "local admin password turned off"}, a.TurnOffPasswordNow(ctx)
	})
}

// TurnOnPasswordProven sets password as the local password while it is off (ErrPasswordIsOn;
// *PasswordRuleError when it breaks the rules) once p proves the current admin.
func (a *Admin) TurnOnPasswordProven(ctx context.Context, p Proof, password string) error {
	if a.PasswordOn(ctx) {
		return ErrPasswordIsOn
	}
	if err := CheckAdminPasswordRules(password); err != nil {
		return &PasswordRuleError{Err: err}
	}
	return a.ChangeWaysIn(ctx, p, func(ctx context.Context) (WaysInChange, error) {
		return WaysInChange{What: "local admin password turned on"}, a.SetPassword(ctx, password)
	})
}
