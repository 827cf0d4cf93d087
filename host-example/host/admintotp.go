package host

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The admin's TOTP second factor (RFC 6238: 30-second steps, six digits, SHA-1, what every
// authenticator app reads). The secret is sealed in the store. A code is accepted for its
// step and one step either side (clock skew), and once: the last accepted step is kept and
// no step at or before it is accepted again. Turning the local password off keeps the TOTP:
// it is asked again when the password is on again (and is the proof that turning it on takes).

// Meta keys of the admin TOTP.
const (
	metaTOTPSecret  = "admin_totp_secret"    // sealed: the base32 secret, once confirmed
	metaTOTPPending = "admin_totp_pending"   // sealed: the otpauth URI of an enrolment not yet confirmed
	metaTOTPStep    = "admin_totp_last_step" // the last accepted time step
)

// TOTPPeriod is the length of a TOTP step.
const TOTPPeriod = 30 * time.Second

// TOTPOn reports whether the local admin password has a confirmed TOTP.
func (a *Admin) TOTPOn(ctx context.Context) (bool, error) {
	b, err := a.st.SecretMeta(ctx, metaTOTPSecret)
	if err != nil {
		return false, fmt.Errorf("read the admin TOTP: %w", err)
	}
	return len(b) > 0, nil
}

// TOTPEnrolmentLife is how long an enrolment stays under way before it may be replaced.
const TOTPEnrolmentLife = 15 * time.Minute

// ErrTOTPEnrolmentUnderWay refuses beginning an enrolment while another admin session's is
// under way: it is replaced only when asked for (BeginTOTP's replace), never silently.
var ErrTOTPEnrolmentUnderWay = errors.New("a code is being set up in another admin session")

// ErrTOTPEnrolmentElsewhere refuses confirming an enrolment another admin session began.
var ErrTOTPEnrolmentElsewhere = errors.New("this code set-up was begun in another admin session")

// ErrAdminTOTPOn refuses beginning an enrolment while a code is on: turn it off first.
var ErrAdminTOTPOn = errors.New("a code is on already: turn it off first (with its current code)")

// TOTPEnrolment is an enrolment under way: its key, the admin session that began it (by its
// id) and when.
type TOTPEnrolment struct {
	Key     *otp.Key
	Session string
	Began   time.Time
}

// pendingTOTP is how an enrolment is kept (sealed).
type pendingTOTP struct {
	URI     string `json:"uri"`
	Session string `json:"session"`
	Began   int64  `json:"began"`
}

// BeginTOTP makes a new secret for the admin session session to add to an authenticator
// app and keeps it until ConfirmTOTP; issuer names this site in the app. An enrolment of
// another session under way (not older than TOTPEnrolmentLife) is replaced only when replace
// is true (ErrTOTPEnrolmentUnderWay otherwise); the replaced one is returned, or nil.
func (a *Admin) BeginTOTP(ctx context.Context, issuer, session string, now time.Time, replace bool) (key *otp.Key, replaced *TOTPEnrolment, err error) {
	if on, err := a.TOTPOn(ctx); err != nil || on {
		return nil, nil, cmp.Or(err, ErrAdminTOTPOn)
	}
	key, err = totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: "admin", Period: uint(TOTPPeriod / time.Second)})
	if err != nil {
		return nil, nil, fmt.Errorf("make a TOTP secret: %w", err)
	}
	b, _ := json.Marshal(pendingTOTP{URI: key.String(), Session: session, Began: now.Unix()})
	old, err := a.PendingTOTP(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	if old == nil || old.Session == session || replace {
		if err := a.st.SetSecretMeta(ctx, metaTOTPPending, b); err != nil {
			return nil, nil, fmt.Errorf("keep the TOTP secret: %w", err)
		}
		if old != nil && old.Session == session {
			old = nil // one's own enrolment begun again: nobody else's replaced
		}
		return key, old, nil
	}
	return nil, nil, ErrTOTPEnrolmentUnderWay
}

// PendingTOTP is the enrolment under way at now, or nil (none, or older than
// TOTPEnrolmentLife).
func (a *Admin) PendingTOTP(ctx context.Context, now time.Time) (*TOTPEnrolment, error) {
	b, err := a.st.SecretMeta(ctx, metaTOTPPending)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	var p pendingTOTP
	if json.Unmarshal(b, &p) != nil {
		p = pendingTOTP{URI: string(b)} // kept before enrolments had a session: of none
	}
	if now.Sub(time.Unix(p.Began, 0)) > TOTPEnrolmentLife {
		return nil, nil
	}
	key, err := otp.NewKeyFromURL(p.URI)
	if err != nil {
		return nil, fmt.Errorf("read the TOTP enrolment: %w", err)
	}
	return &TOTPEnrolment{Key: key, Session: p.Session, Began: time.Unix(p.Began, 0)}, nil
}

// ConfirmTOTP turns the pending TOTP on when the admin session session began it and code
// is valid for it at now (the code's step is then used); false when the code is wrong or no
// enrolment is under way, ErrTOTPEnrolmentElsewhere when another session began it.
func (a *Admin) ConfirmTOTP(ctx context.Context, session, code string, now time.Time) (bool, error) {
	e, err := a.PendingTOTP(ctx, now)
	if err != nil || e == nil {
		return false, err
	}
	if e.Session != session {
		return false, ErrTOTPEnrolmentElsewhere
	}
	step, ok := totpStep(e.Key.Secret(), code, now)
	if !ok {
		return false, nil
	}
	if err := a.st.SetSecretMeta(ctx, metaTOTPSecret, []byte(e.Key.Secret())); err != nil {
		return false, fmt.Errorf("turn the admin TOTP on: %w", err)
	}
	if err := a.st.SetMeta(ctx, metaTOTPStep, fmt.Sprint(step)); err != nil {
		return false, err
	}
	return true, a.st.SetMeta(ctx, metaTOTPPending, "")
}

// CheckTOTP reports whether code is the admin's TOTP at now, within one step either side,
// and not of a step already used (it claims the step).
func (a *Admin) CheckTOTP(ctx context.Context, code string, now time.Time) (bool, error) {
	secret, err := a.st.SecretMeta(ctx, metaTOTPSecret)
	if err != nil || len(secret) == 0 {
		return false, err
	}
	step, ok := totpStep(string(secret), code, now)
	if !ok {
		return false, nil
	}
	return a.st.AdvanceMetaStep(ctx, metaTOTPStep, step)
}

// TurnOffTOTP removes the admin TOTP and any enrolment under way.
func (a *Admin) TurnOffTOTP(ctx context.Context) error {
	for _, k := range []string{metaTOTPSecret, metaTOTPPending, metaTOTPStep} {
		if err := a.st.SetMeta(ctx, k, ""); err != nil {
			return err
		}
	}
	return nil
}

// totpStep is the step, of now's and its two neighbours, whose code code is.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	cur := now.Unix() / int64(TOTPPeriod/time.Second)
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		ok, err := hotp.ValidateCustom(code, uint64(step), secret, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return step, true
		}
	}
	return 0, false
}
