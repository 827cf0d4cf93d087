package host_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// events are the details of the events of kind, newest first.
func events(t *testing.T, st *store.Store, kind store.EventKind) []string {
	t.Helper()
	page, err := st.EventPage(context.Background(), store.EventFilter{Kinds: []store.EventKind{kind}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Events {
		out = append(out, e.Detail)
	}
	return out
}

// The first admin password is set once through the setup link, and recorded.
func TestAdminSetup(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	tok, err := adm.SetupToken(ctx)
	if err != nil || tok == "" {
		t.Fatalf("setup token: %q %v", tok, err)
	}
	if err := adm.Setup(ctx, "wrong", "a-long-password", "a-long-password"); !errors.Is(err, host.ErrSetupLinkInvalid) {
		t.Fatalf("a wrong token: %v", err)
	}
	if err := adm.Setup(ctx, tok, "short", "short"); !errors.Is(err, host.ErrPasswordTooShort) {
		t.Fatalf("a short password: %v", err)
	}
	long := strings.Repeat("correct horse battery staple ", 3) // 87 bytes: bcrypt would refuse it after the link is spent
	var rule *host.PasswordRuleError
	if err := adm.Setup(ctx, tok, long, long); !errors.As(err, &rule) || !adm.SetupTokenValid(ctx, tok) {
		t.Fatalf("a password over 72 bytes: %v, link still valid %v", err, adm.SetupTokenValid(ctx, tok))
	}
	if err := adm.Setup(ctx, tok, "ééééé", "ééééé"); !errors.Is(err, host.ErrPasswordTooShort) {
		t.Fatalf("five characters in ten bytes: %v", err)
	}
	if err := adm.Setup(ctx, tok, "a-long-password", "a-long-passwort"); !errors.Is(err, host.ErrPasswordsDiffer) {
		t.Fatalf("a confirmation that differs: %v", err)
	}
	if err := adm.Setup(ctx, tok, "a-long-password", "a-long-password"); err != nil {
		t.Fatal(err)
	}
	if err := adm.Setup(ctx, tok, "another-long-password", "another-long-password"); !errors.Is(err, host.ErrSetupLinkInvalid) || !adm.CheckPassword(ctx, "a-long-password") {
		t.Fatalf("the token used again: %v", err)
	}
	page, _ := st.EventPage(ctx, store.EventFilter{Kinds: []store.EventKind{store.EventAdminPasswordSet}, Limit: 5})
	if len(page.Events) != 1 || page.Events[0].Reason != "setup_link" {
		t.Fatalf("the setup recorded: %+v", page.Events)
	}
}

// A sign-in with the password, then its code: the code step is kept for the browser's
// session, allows AdminCodeAttempts wrong codes, is used once, and a reset between the
// password and the code (or before the admin session is written) ends the sign-in.
func TestAdminPasswordAndCodeSignIn(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	at := time.Now()
	who := host.Attempt{Client: "client", ClientIP: "192.0.2.7"}
	if err := adm.SetPassword(ctx, "a-long-password"); err != nil {
		t.Fatal(err)
	}
	signIn := func(session, password string) (host.PasswordChecked, error) {
		return adm.CheckPasswordSignIn(ctx, host.PasswordSignIn{Attempt: who, SessionID: session, Password: password, Now: at})
	}
	if _, err := signIn("s1", "not-the-password"); !errors.Is(err, host.ErrWrongPassword) {
		t.Fatalf("a wrong password: %v", err)
	}
	if got := events(t, st, store.EventAdminLoginFailed); len(got) != 1 || got[0] != "wrong password; client 192.0.2.7" {
		t.Fatalf("the wrong password recorded: %q", got)
	}
	in, err := signIn("s1", "a-long-password")
	if err != nil || in.Code {
		t.Fatalf("without a TOTP: %+v %v", in, err)
	}
	if err := adm.SessionOpened(ctx, "s1", in.Epoch, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if got := events(t, st, store.EventAdminLogin); len(got) != 1 || got[0] != "client 192.0.2.7" {
		t.Fatalf("the sign-in recorded: %q", got)
	}

	secret := enrolTOTP(t, st, at.Add(-10*host.TOTPPeriod))
	code := func(session, c string) (host.CodeChecked, error) {
		return adm.CheckCodeSignIn(ctx, host.CodeSignIn{Attempt: who, SessionID: session, Code: c, Now: at})
	}
	if in, err = signIn("s2", "a-long-password"); err != nil || !in.Code {
		t.Fatalf("with a TOTP: %+v %v", in, err)
	}
	if _, err := code("another-session", codeAt(t, secret, at)); !errors.Is(err, host.ErrCodeStepGone) {
		t.Fatalf("the code step of another session: %v", err)
	}
	for i := 1; i < host.AdminCodeAttempts; i++ {
		if _, err := code("s2", "000000"); !errors.Is(err, host.ErrWrongCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if _, err := code("s2", "000000"); !errors.Is(err, host.ErrTooManyCodes) {
		t.Fatalf("the last wrong code: %v", err)
	}
	if _, err := code("s2", codeAt(t, secret, at)); !errors.Is(err, host.ErrCodeStepGone) {
		t.Fatalf("a code after too many wrong ones: %v", err)
	}
	if in, err = signIn("s2", "a-long-password"); err != nil || !in.Code {
		t.Fatalf("again: %+v %v", in, err)
	}
	done, err := code("s2", codeAt(t, secret, at))
	if err != nil || done.Epoch != in.Epoch {
		t.Fatalf("the right code: %+v %v", done, err)
	}
	if _, err := code("s2", codeAt(t, secret, at)); !errors.Is(err, host.ErrCodeStepGone) {
		t.Fatalf("the step used again: %v", err)
	}

	// A reset between the password and the code, and before the session is written.
	if in, err = signIn("s3", "a-long-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.Reset(ctx, "a-new-long-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := code("s3", codeAt(t, secret, at.Add(host.TOTPPeriod))); !errors.Is(err, host.ErrAdminReset) {
		t.Fatalf("a code after a reset: %v", err)
	}
	if err := adm.SessionOpened(ctx, "s3", in.Epoch, "192.0.2.7"); !errors.Is(err, host.ErrAdminReset) {
		t.Fatalf("a session opened after a reset: %v", err)
	}
}

// A change of the admin's ways in asks for the current password (or code, or a recent sign-in
// through a source while the password is off), and records the change with its proof.
func TestChangeWaysInAsksForTheProof(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	adm := host.NewAdmin(st, nil)
	now := time.Now()
	if err := adm.SetPassword(ctx, "a-long-password"); err != nil {
		t.Fatal(err)
	}
	if o := adm.SignInOffer(ctx); !o.Password || o.Source {
		t.Fatalf("the sign-in offers with the password on and no grant: %+v", o)
	}
	proof := host.Proof{Attempt: host.Attempt{Client: "client", ClientIP: "192.0.2.9"}, SessionID: "s1", Now: now}
	var refused *host.ErrProof
	if err := adm.TurnOffTOTPProven(ctx, proof); !errors.As(err, &refused) || refused.Why != host.ProofMissing || refused.Kind != host.ProofPassword {
		t.Fatalf("without the password: %v", err)
	}
	proof.Password = "not-the-password"
	if err := adm.TurnOffTOTPProven(ctx, proof); !errors.As(err, &refused) || refused.Why != host.ProofWrong {
		t.Fatalf("a wrong password: %v", err)
	}
	if got := events(t, st, store.EventAdminLoginFailed); len(got) != 1 || !strings.Contains(got[0], "wrong password to prove a change") {
		t.Fatalf("the wrong proof recorded: %q", got)
	}
	if got := events(t, st, store.EventAdminSecurityChanged); len(got) != 0 {
		t.Fatalf("a refused change recorded: %q", got)
	}
	proof.Password = "a-long-password"
	if err := adm.TurnOffTOTPProven(ctx, proof); err != nil {
		t.Fatal(err)
	}
	if got := events(t, st, store.EventAdminSecurityChanged); len(got) != 1 ||
		!strings.HasPrefix(got[0], "TOTP code turned off; before: password on, TOTP off") || !strings.Contains(got[0], "proof: password; by the local admin; client 192.0.2.9") {
		t.Fatalf("the change recorded: %q", got)
	}

	// The password off: a source admin's recent sign-in is the proof, an old one is not.
	if err := adm.SetGrants(ctx, []host.Grant{{SourceID: "src", Group: "admins"}}); err != nil {
		t.Fatal(err)
	}
	_ = adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{SourceID: "src", Group: "admins", Name: "alice", At: now})
	if err := adm.TurnOffPassword(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if o := adm.SignInOffer(ctx); o.Password || !o.Source {
		t.Fatalf("the sign-in offers with the password off and a grant: %+v", o)
	}
	source := host.Proof{SessionID: "s2", UserID: 42, AuthTime: now.Add(-host.SourceAdminFreshness - time.Second), Now: now}
	if err := adm.TurnOnPasswordProven(ctx, source, "a-new-long-password"); !errors.As(err, &refused) || refused.Why != host.ProofStale {
		t.Fatalf("an old sign-in through a source: %v", err)
	}
	var rule *host.PasswordRuleError
	if err := adm.TurnOnPasswordProven(ctx, source, "short"); !errors.As(err, &rule) {
		t.Fatalf("a short password: %v", err)
	}
	source.AuthTime = now.Add(-time.Minute)
	if err := adm.TurnOnPasswordProven(ctx, source, "a-new-long-password"); err != nil || !adm.CheckPassword(ctx, "a-new-long-password") {
		t.Fatalf("a recent sign-in through a source: %v", err)
	}
	if err := adm.TurnOnPasswordProven(ctx, source, "a-new-long-password"); !errors.Is(err, host.ErrPasswordIsOn) {
		t.Fatalf("turned on twice: %v", err)
	}
}
