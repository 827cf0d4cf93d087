package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/source"
)

const ownerUUID = "0a1b2c3d4e5f6071"

// A Home member offered "Who is watching?" cannot answer with the owner's profile.
func TestStepRefusesChoiceNotOffered(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig(`,"home_profiles":true`)
	for _, pin := range []string{"4321", ""} {
		id, err := e.login(inst, "homemember")
		if err != nil || id.Step == nil {
			t.Fatalf("no profile step for the Home member: %+v %v", id, err)
		}
		for _, c := range id.Step.Choices {
			if c.Value == ownerUUID {
				t.Fatal("the owner's profile was offered")
			}
		}
		got, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: ownerUUID, Values: map[string]string{"pin": pin}})
		if se := source.AsError(err); se.ReasonCode != "choice_not_offered" || got.Subject != "" {
			t.Fatalf("owner's uuid with PIN %q: %+v %v", pin, got, err)
		}
	}
	id, _ := e.login(inst, "homemember")
	if _, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: ""}); source.AsError(err).ReasonCode != "choice_not_offered" {
		t.Fatalf("empty choice: %v", err)
	}
}

// Wrong profile PINs are limited per login and per profile, not only per IP.
func TestProfilePINGuessesLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig(`,"home_profiles":true`)
	const kid = "60718293a4b5c6d7"
	guess := func(state []byte, pin string) (source.Identity, error) {
		return e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: state, Choice: kid, Values: map[string]string{"pin": pin}})
	}
	// Per login: the third wrong PIN ends the login.
	id, _ := e.login(inst, "owner")
	st := id.Step.State
	for i := 1; i <= 3; i++ {
		got, err := guess(st, "0000")
		if i < 3 {
			if err != nil || got.Step == nil {
				t.Fatalf("wrong PIN %d: %v", i, err)
			}
			st = got.Step.State
			continue
		}
		if source.AsError(err).ReasonCode != "profile_pin_tries_exhausted" {
			t.Fatalf("third wrong PIN: %+v %v", got, err)
		}
	}
	// Per profile, across logins: after five wrong PINs even the right one waits.
	for i := 0; i < 3; i++ {
		id, _ := e.login(inst, "owner")
		_, _ = guess(id.Step.State, "9999")
	}
	id, _ = e.login(inst, "owner")
	if _, err := guess(id.Step.State, "1234"); source.AsError(err).ReasonCode != "profile_pin_locked" {
		t.Fatalf("profile not locked after 6 wrong PINs: %v", err)
	}
}

// Forged, altered and foreign states are refused; step states do not carry the token in clear.
func TestStatesAreSealed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig(`,"home_profiles":true`)
	id, err := e.login(inst, "owner")
	if err != nil || id.Step == nil {
		t.Fatal(err)
	}
	if strings.Contains(string(id.Step.State), e.sim.Token("owner")[:8]) || strings.Contains(string(id.Step.State), "token") {
		t.Fatal("step state carries the token in clear")
	}
	altered := append([]byte{}, id.Step.State...)
	altered[len(altered)-1] ^= 1
	if _, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: altered, Choice: "self"}); source.AsError(err).ReasonCode != "bad_login_state" {
		t.Fatalf("altered step state: %v", err)
	}
	forged := []byte(`{"v":1,"instance":"plex-test","pin_id":1,"client_id":"x","exp":99999999999}`)
	if _, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: forged}); source.AsError(err).ReasonCode != "bad_login_state" {
		t.Fatalf("forged login state: %v", err)
	}
	// Another instance with its own key cannot open this instance's states.
	other := e.membersConfig(`,"home_profiles":true`)
	other.ID = inst.ID
	if _, err := e.plugin.ContinueLogin(ctx, other, source.ContinueLogin{State: id.Step.State, Choice: "self"}); source.AsError(err).ReasonCode != "bad_login_state" {
		t.Fatalf("state under another key: %v", err)
	}
}

// A plex.tv fault after the PIN check is retryable, and the same state then completes.
func TestRetryableAnswerCanBeRetried(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig(`,"request_timeout_seconds":1`)
	st, err := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := plexsim.ForwardURL(st.RedirectURL)
	if _, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State}); source.KindOf(err) != source.KindPending {
		t.Fatalf("not yet approved: %v", err)
	}
	_ = e.sim.Claim(code, "noshare")
	e.sim.Inject("resources", plexsim.Fault503, 3)
	_, err = e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State})
	if se := source.AsError(err); !se.Retryable {
		t.Fatalf("resources down: %v", err)
	}
	_, err = e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State})
	if source.AsError(err).ReasonCode != "not_a_member" {
		t.Fatalf("retry after the fault: %v", err)
	}
	// A refusal is final: the same state is now a replay.
	if _, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State}); source.KindOf(err) != source.KindReplayed {
		t.Fatalf("after a refusal: %v", err)
	}
}

func TestCallbackAndRevalidationStateChecked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig("")
	for _, cb := range []string{"javascript:alert(1)", "/callback", "data:text/html,x", "http:///x", "https://user:pw@evil.example/"} {
		if _, err := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: cb}); source.AsError(err).ReasonCode != "bad_callback" {
			t.Errorf("callback %q: %v", cb, err)
		}
	}
	for _, st := range []string{"garbage", `{"id":9999}`} {
		_, err := e.plugin.Revalidate(ctx, inst, source.RevalidateRequest{Subject: "2001", State: []byte(st)})
		if source.AsError(err).ReasonCode != "bad_revalidation_state" {
			t.Errorf("state %q: %v", st, err)
		}
	}
}

// A 429 on the user's resources call is "rate limited", not "unavailable".
func TestResourcesRateLimited(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig(`,"request_timeout_seconds":1`)
	e.sim.Inject("resources", plexsim.FaultRateLimit, -1)
	_, err := e.login(inst, "noshare")
	if se := source.AsError(err); se.Kind != source.KindRateLimited || !se.Retryable {
		t.Fatalf("got %v", err)
	}
}

// The first login of a process pays 4 plex.tv calls (create, check, account, resources):
// the owner's account id and lists were read when the config was validated.
func TestFirstLoginCallsAndProduct(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig("")
	e.sim.ResetCounts()
	t0 := time.Now()
	st, err := e.plugin.BeginLogin(context.Background(), inst, source.BeginLogin{CallbackURL: "https://idp.example.test/callback"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.RedirectURL, "product%5D=idp.example.test") {
		t.Fatalf("Plex is not shown the site's own name: %s", st.RedirectURL)
	}
	if st.ExpiresAt.Sub(t0) > 10*time.Minute+time.Second {
		t.Fatalf("PIN lives until %v", st.ExpiresAt)
	}
	if _, err := e.login(inst, "friend"); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range e.sim.Counts() {
		total += n
	}
	// Two begins (one above, one in e.login), one completion.
	if c := e.sim.Counts(); c["pins.create"] != 2 || total-2 != 3 {
		t.Fatalf("calls of a first login: %v", c)
	}
}

// A preview sample beyond the declared sizes is refused before any evaluation.
func TestPreviewRefusesOversizedSample(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig("")
	for name, sample := range map[string]string{
		"long string": `{"id":1,"username":"` + strings.Repeat("a", 1<<20) + `"}`,
		"long list":   `{"id":1,"list":[` + strings.Repeat("1,", 5000) + `1]}`,
		"deep":        `{"id":1,"x":` + strings.Repeat(`{"x":`, 40) + `1` + strings.Repeat("}", 40) + `}`,
	} {
		_, err := e.plugin.PreviewMapping(context.Background(), inst, source.PreviewRequest{Sample: []byte(sample)})
		if se := source.AsError(err); se.ReasonCode != "sample_too_large" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if res, err := e.plugin.PreviewMapping(context.Background(), inst, source.PreviewRequest{Sample: []byte(`{"id":1,"username":"ok"}`)}); err != nil || res.Identity.PreferredUsername != "ok" {
		t.Fatalf("a normal sample: %+v %v", res, err)
	}
}

// The manifest's capabilities are Describe's: the signed one (generated) and the tracked template.
func TestManifestCapabilitiesAreDescribes(t *testing.T) {
	e := newEnv(t)
	d, err := e.plugin.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(d.Capabilities, ",")
	for _, path := range []string{manifestPath, "../plugin.json"} {
		m, err := loader.ReadManifest(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(m.Capabilities, ","); got != want {
			t.Errorf("%s lists %s; Describe lists %s", path, got, want)
		}
	}
}

// A protected profile's choice carries a guess guard across the wire (the host counts its
// wrong PINs in its database); the account itself and a profile without a PIN carry none.
// A wrong PIN says so on the step that asks again and on the error that ends the login; a
// right one does not.
func TestPINChoicesCarryAGuard(t *testing.T) {
	w := plexsim.DefaultWorld()
	w.Personas = append(w.Personas, plexsim.Persona{Key: "toddler", Label: "Managed profile without a PIN", ID: 3003,
		UUID: "a4b5c6d7e8f90a1b", Title: "Toddler", Managed: true, HomeOf: "owner"})
	e := newEnvWorld(t, w)
	ctx := context.Background()
	inst := e.membersConfig(`,"home_profiles":true`)
	const kid = "60718293a4b5c6d7"
	id, err := e.login(inst, "owner")
	if err != nil || id.Step == nil {
		t.Fatalf("no profile step: %+v %v", id, err)
	}
	guarded := map[string]*source.GuessGuard{}
	for _, c := range id.Step.Choices {
		guarded[c.Label] = c.Guard
	}
	if len(guarded) != 3 || guarded["Olivia Owner"] != nil || guarded["Toddler"] != nil {
		t.Fatalf("guards on choices that need no PIN (or a choice missing): %v", guarded)
	}
	g := guarded["Kid"]
	if g == nil || g.Key != "pin/"+kid || g.Max != 5 || g.Window != 15*time.Minute || g.ReasonCode != "profile_pin_locked" ||
		!strings.Contains(g.UserText, "Too many wrong PINs") || g.Check() != nil {
		t.Fatalf("the protected profile's guard: %+v", g)
	}
	if id.Step.WrongGuess {
		t.Fatal("the first step says a guess was wrong")
	}
	st := id.Step.State
	for i := 1; i <= 3; i++ {
		got, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: st, Choice: kid, Values: map[string]string{"pin": "0000"}})
		if !source.WrongGuess(got, err) {
			t.Fatalf("wrong PIN %d not reported as a wrong guess: %+v %v", i, got, err)
		}
		if i < 3 {
			st = got.Step.State
		} else if source.AsError(err).ReasonCode != "profile_pin_tries_exhausted" {
			t.Fatalf("third wrong PIN: %v", err)
		}
	}
	id, _ = e.login(inst, "owner")
	got, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: kid, Values: map[string]string{"pin": "1234"}})
	if err != nil || got.Subject != "3002" || source.WrongGuess(got, err) {
		t.Fatalf("right PIN: %+v %v", got, err)
	}
	id, _ = e.login(inst, "owner")
	got, err = e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: "a4b5c6d7e8f90a1b"})
	if err != nil || got.Subject != "3003" || source.WrongGuess(got, err) {
		t.Fatalf("the profile without a PIN: %+v %v", got, err)
	}
}
