package host

import (
	"context"
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
// no step at or before it is accepted again.

// Meta keys of the admin TOTP.
const (
	metaTOTPSecret  = "admin_totp_secret"    // sealed: the base32 secret, once confirmed
	metaTOTPPending = "admin_totp_pending"   // sealed: the otpauth URI of an enrolment not yet confirmed
	metaTOTPStep    = "admin_totp_last_step" // the last accepted time step
)

// TOTPPeriod is the length of a TOTP step.
const TOTPPeriod = 30 * time.Second

// AdminTOTPOn reports whether the local admin password has a confirmed TOTP.
func AdminTOTPOn(ctx context.Context, st AdminStore) (bool, error) {
	b, err := st.SecretMeta(ctx, metaTOTPSecret)
	if err != nil {
		return false, fmt.Errorf("read the admin TOTP: %w", err)
	}
	return len(b) > 0, nil
}

// BeginAdminTOTP makes a new secret for the admin to add to an authenticator app and keeps
// it until ConfirmAdminTOTP; issuer names this site in the app.
func BeginAdminTOTP(ctx context.Context, st AdminStore, issuer string) (*otp.Key, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: "admin", Period: uint(TOTPPeriod / time.Second)})
	if err != nil {
		return nil, fmt.Errorf("make a TOTP secret: %w", err)
	}
	if err := st.SetSecretMeta(ctx, metaTOTPPending, []byte(key.String())); err != nil {
		return nil, fmt.Errorf("keep the TOTP secret: %w", err)
	}
	return key, nil
}

// PendingAdminTOTP is the enrolment under way, or nil.
func PendingAdminTOTP(ctx context.Context, st AdminStore) (*otp.Key, error) {
	b, err := st.SecretMeta(ctx, metaTOTPPending)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	return otp.NewKeyFromURL(string(b))
}

// ConfirmAdminTOTP turns the pending TOTP on when code is valid for it at now (the code's step
// is then used); false when the code is wrong or no enrolment is under way.
func ConfirmAdminTOTP(ctx context.Context, st AdminStore, code string, now time.Time) (bool, error) {
	key, err := PendingAdminTOTP(ctx, st)
	if err != nil || key == nil {
		return false, err
	}
	step, ok := totpStep(key.Secret(), code, now)
	if !ok {
		return false, nil
	}
	if err := st.SetSecretMeta(ctx, metaTOTPSecret, []byte(key.Secret())); err != nil {
		return false, fmt.Errorf("turn the admin TOTP on: %w", err)
	}
	if err := st.SetMeta(ctx, metaTOTPStep, fmt.Sprint(step)); err != nil {
		return false, err
	}
	return true, st.SetMeta(ctx, metaTOTPPending, "")
}

// CheckAdminTOTP reports whether code is the admin's TOTP at now, within one step either side,
// and not of a step already used (it claims the step).
func CheckAdminTOTP(ctx context.Context, st AdminStore, code string, now time.Time) (bool, error) {
	secret, err := st.SecretMeta(ctx, metaTOTPSecret)
	if err != nil || len(secret) == 0 {
		return false, err
	}
	step, ok := totpStep(string(secret), code, now)
	if !ok {
		return false, nil
	}
	return st.AdvanceMetaStep(ctx, metaTOTPStep, step)
}

// TurnOffAdminTOTP removes the admin TOTP and any enrolment under way.
func TurnOffAdminTOTP(ctx context.Context, st AdminStore) error {
	for _, k := range []string{metaTOTPSecret, metaTOTPPending, metaTOTPStep} {
		if err := st.SetMeta(ctx, k, ""); err != nil {
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
