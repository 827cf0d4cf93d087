package host

import (
	"context"
	"fmt"
	"strings"
)

// AdminWaysIn is the state of the admin's ways in at one moment: what a change of them
// records as its old and new state.
type AdminWaysIn struct {
	PasswordOn bool
	// TOTPOn is whether a confirmed TOTP is kept; while the local password is off it is
	// kept, and asked again once the password is on.
	TOTPOn bool
	// TOTPPending is whether an enrolment is under way.
	TOTPPending bool
	// Grants are the admin grants of the source admins (none: nobody).
	Grants []Grant
}

// WaysIn reads the admin's ways in.
func (a *Admin) WaysIn(ctx context.Context) (AdminWaysIn, error) {
	totpOn, err := a.TOTPOn(ctx)
	if err != nil {
		return AdminWaysIn{}, err
	}
	pending, err := a.st.SecretMeta(ctx, metaTOTPPending)
	if err != nil {
		return AdminWaysIn{}, fmt.Errorf("read the admin TOTP enrolment: %w", err)
	}
	return AdminWaysIn{PasswordOn: a.PasswordOn(ctx), TOTPOn: totpOn, TOTPPending: len(pending) > 0,
		Grants: a.Grants(ctx)}, nil
}

// String is the state in words, as events record it.
func (w AdminWaysIn) String() string {
	onOff := map[bool]string{true: "on", false: "off"}
	parts := []string{"password " + onOff[w.PasswordOn], "TOTP " + onOff[w.TOTPOn]}
	if w.TOTPPending {
		parts = append(parts, "TOTP enrolment under way")
	}
	grants := make([]string, 0, len(w.Grants))
	for _, g := range w.Grants {
		grants = append(grants, fmt.Sprintf("%q of source %q", g.Group, g.SourceID))
	}
	if len(grants) == 0 {
		grants = append(grants, "none")
	}
	return strings.Join(append(parts, "admin grants "+strings.Join(grants, " and ")), ", ")
}
