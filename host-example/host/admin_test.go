package host_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// codeAt is the TOTP code of secret at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP sets a password, enrols a TOTP and confirms it with the code of at; it returns the secret.
func enrolTOTP(t *testing.T, st *store.Store, at time.Time) string {
	adm := host.NewAdmin(st, nil)
	t.Helper()
	ctx := context.Background()
	if err := adm.SetPassword(ctx, "a-long-password"); err != nil {
		t.Fatal(err)
	}
	key, _, err := adm.BeginTOTP(ctx, "example.test", "session-a", at, false)
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := adm.TOTPOn(ctx); on {
		t.Fatal("TOTP on before its confirmation")
	}
	if ok, err := adm.ConfirmTOTP(ctx, "session-a", "000000x", at); ok || err != nil {
		t.Fatalf("a malformed code confirmed the enrolment: %v %v", ok, err)
	}
	if ok, err := adm.ConfirmTOTP(ctx, "session-a", codeAt(t, key.Secret(), at), at); !ok || err != nil {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	if on, _ := adm.TOTPOn(ctx); !on {
		t.Fatal("TOTP not on after its confirmation")
	}
	return key.Secret()
}

// A code is accepted once; the codes of the steps either side are accepted, two steps away
// are not; a step before the last accepted one is refused.
func TestAdminTOTP(t *testing.T) {
	ctx := context.Background()
	// Each case has its own store: a step accepted in one would make the next case's older step a reuse.
	at := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name   string
		offset time.Duration
		want   bool
	}{
		{"the step now", 0, true},
		{"one step behind", -host.TOTPPeriod, true},
		{"one step ahead", host.TOTPPeriod, true},
		{"two steps behind", -2 * host.TOTPPeriod, false},
		{"two steps ahead", 2 * host.TOTPPeriod, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			adm := host.NewAdmin(st, nil)
			secret := enrolTOTP(t, st, at.Add(-10*host.TOTPPeriod))
			ok, err := adm.CheckTOTP(ctx, codeAt(t, secret, at.Add(c.offset)), at)
			if err != nil || ok != c.want {
				t.Fatalf("got %v %v, want %v", ok, err, c.want)
			}
		})
	}

	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	secret := enrolTOTP(t, st, at.Add(-10*host.TOTPPeriod))
	now := codeAt(t, secret, at)
	if ok, _ := adm.CheckTOTP(ctx, now, at); !ok {
		t.Fatal("the current code refused")
	}
	if ok, _ := adm.CheckTOTP(ctx, now, at.Add(5*time.Second)); ok {
		t.Fatal("a reused code accepted")
	}
	if ok, _ := adm.CheckTOTP(ctx, codeAt(t, secret, at.Add(-host.TOTPPeriod)), at); ok {
		t.Fatal("the code of a step before the used one accepted")
	}
	if ok, _ := adm.CheckTOTP(ctx, codeAt(t, secret, at.Add(host.TOTPPeriod)), at.Add(host.TOTPPeriod)); !ok {
		t.Fatal("the next step's code refused")
	}
}

// The code that confirmed the enrolment cannot sign in too.
func TestAdminTOTPEnrolmentCodeIsUsed(t *testing.T) {
	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	at := time.Unix(1_700_000_000, 0)
	ctx := context.Background()
	if err := adm.SetPassword(ctx, "a-long-password"); err != nil {
		t.Fatal(err)
	}
	key, _, _ := adm.BeginTOTP(ctx, "example.test", "session-a", at, false)
	code := codeAt(t, key.Secret(), at)
	if ok, _ := adm.ConfirmTOTP(ctx, "session-a", code, at); !ok {
		t.Fatal("confirm")
	}
	if ok, _ := adm.CheckTOTP(ctx, code, at); ok {
		t.Fatal("the enrolment's code signed in")
	}
}

// reset-admin-password's function removes the TOTP, and turns a password that was off on.
func TestResetAdminPasswordClearsTOTPAndTurnsThePasswordOn(t *testing.T) {
	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	ctx := context.Background()
	enrolTOTP(t, st, time.Now())
	if _, err := adm.Reset(ctx, "another-long-password"); err != nil {
		t.Fatal(err)
	}
	if on, _ := adm.TOTPOn(ctx); on {
		t.Fatal("TOTP still on after the reset")
	}

	if err := adm.SetGrants(ctx, []host.Grant{{SourceID: "src", Group: "admins"}}); err != nil {
		t.Fatal(err)
	}
	if err := adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{SourceID: "src", Group: "admins", Name: "alice", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := adm.TurnOffPassword(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.Reset(ctx, "a-third-long-password"); err != nil {
		t.Fatal(err)
	}
	if !adm.PasswordOn(ctx) || !adm.CheckPassword(ctx, "a-third-long-password") {
		t.Fatal("the reset did not turn the password on")
	}
}

// The local password turns off only after someone signed in through a source with a current
// admin grant; while off, no setup link is made, the password checks nothing, and the grants
// keep the one that person signed in with.
func TestTurnOffAdminPassword(t *testing.T) {
	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	ctx := context.Background()
	if err := adm.SetPassword(ctx, "a-long-password"); err != nil {
		t.Fatal(err)
	}
	if err := adm.TurnOffPassword(ctx, nil); !errors.Is(err, host.ErrAdminGroupUnset) {
		t.Fatalf("without an admin group: %v", err)
	}
	grants := []host.Grant{{SourceID: "src", Group: "admins"}, {SourceID: "ldap", Group: "ops"}}
	if err := adm.SetGrants(ctx, grants); err != nil {
		t.Fatal(err)
	}
	if err := adm.TurnOffPassword(ctx, nil); !errors.Is(err, host.ErrNoSourceAdminYet) {
		t.Fatalf("before a source admin signed in: %v", err)
	}
	_ = adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{SourceID: "src", Group: "old-admins", Name: "alice", At: time.Now()})
	if err := adm.TurnOffPassword(ctx, nil); !errors.Is(err, host.ErrNoSourceAdminYet) {
		t.Fatalf("after a sign-in under another group: %v", err)
	}
	_ = adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{SourceID: "other", Group: "admins", Name: "alice", At: time.Now()})
	if err := adm.TurnOffPassword(ctx, nil); !errors.Is(err, host.ErrNoSourceAdminYet) {
		t.Fatalf("after a sign-in with the group of another source: %v", err)
	}
	_ = adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{SourceID: "src", Group: "admins", Name: "alice", At: time.Now()})
	if err := adm.TurnOffPassword(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if adm.PasswordOn(ctx) || adm.CheckPassword(ctx, "a-long-password") {
		t.Fatal("the password still works")
	}
	if tok, err := adm.SetupToken(ctx); err != nil || tok != "" {
		t.Fatalf("a setup link while the password is off: %q %v", tok, err)
	}
	if err := adm.SetGrants(ctx, nil); !errors.Is(err, host.ErrPasswordOff) {
		t.Fatalf("admin grants removed while the password is off: %v", err)
	}
	if err := adm.SetGrants(ctx, grants[1:]); !errors.Is(err, host.ErrPasswordOff) {
		t.Fatalf("the last source admin's grant removed while the password is off: %v", err)
	}
	if err := adm.SetGrants(ctx, grants[:1]); err != nil {
		t.Fatalf("a grant other than the last source admin's removed while the password is off: %v", err)
	}
	if got := adm.Grants(ctx); len(got) != 1 || got[0] != grants[0] {
		t.Fatalf("grants %+v", got)
	}
}

// A grant admits a person only through the group the named source's mapping gave them: the
// same group from another source, or given by an admin, does not count; nor does a disabled person.
func TestIsSourceAdminMatchesTheGrantsSource(t *testing.T) {
	grants := []host.Grant{{SourceID: "src", Group: "admins"}}
	from := func(ms ...store.Membership) *store.User { return &store.User{SourceID: "src", Memberships: ms} }
	if !host.IsSourceAdmin(from(store.Membership{Group: "x", From: "src"}, store.Membership{Group: "admins", From: "src"}), grants) {
		t.Error("the granted source's group does not admit")
	}
	for name, u := range map[string]*store.User{
		"another source's group": from(store.Membership{Group: "admins", From: "friend"}),
		"an admin-set group":     from(store.Membership{Group: "admins", From: store.FromAdmin}),
		"another group":          from(store.Membership{Group: "admin", From: "src"}),
		"a disabled person":      {Memberships: []store.Membership{{Group: "admins", From: "src"}}, Disabled: true},
	} {
		if host.IsSourceAdmin(u, grants) {
			t.Errorf("%s admits", name)
		}
	}
	if host.IsSourceAdmin(from(store.Membership{Group: "", From: ""}), []host.Grant{{}}) {
		t.Error("an empty grant admits")
	}
}

// A setup token sets one admin password: of requests that all found it valid (on any
// replica, before any of them set a password), only the first may use it.
func TestSetupTokenIsUsedOnce(t *testing.T) {
	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	ctx := context.Background()
	tok, err := adm.SetupToken(ctx)
	if err != nil || tok == "" {
		t.Fatalf("setup token %q %v", tok, err)
	}
	if !adm.SetupTokenValid(ctx, tok) || !adm.SetupTokenValid(ctx, tok) {
		t.Fatal("a fresh setup token is not valid")
	}
	if ok, err := adm.UseSetupToken(ctx, "wrong"); ok || err != nil {
		t.Fatalf("a wrong token was used: %v %v", ok, err)
	}
	used := 0
	for i := 0; i < 3; i++ {
		ok, err := adm.UseSetupToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			used++
		}
	}
	if used != 1 {
		t.Fatalf("the setup token was used %d times before a password was set", used)
	}
}
