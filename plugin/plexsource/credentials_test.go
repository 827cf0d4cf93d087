package plexsource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// kidUUID is the managed profile of the default world's owner Home (PIN 1234).
const kidUUID = "60718293a4b5c6d7"

// ssoWorld is a simulated plex.tv with a Plex source pointed at it.
type ssoWorld struct {
	t    *testing.T
	sim  *plexsim.Sim
	p    *Plex
	tv   *plextv.Client
	seen int64
}

func newSSOWorld(t *testing.T) *ssoWorld {
	t.Helper()
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	tv, err := plextv.New(plextv.Identity{ClientID: "sso-test-client", Product: "Test"}, plextv.Options{BaseURL: srv.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &ssoWorld{t: t, sim: sim, p: New(Options{BaseURL: srv.URL, AppURL: srv.URL, Backoff: time.Millisecond}), tv: tv}
}

// instance is a members source with password login and Home profiles, plex_web_sso as given.
func (w *ssoWorld) instance(sso bool) source.Instance {
	w.t.Helper()
	w.seen++
	cfg, _ := json.Marshal(map[string]any{"access_mode": "members", "owner_token": w.sim.Token("owner"), "password_login": true,
		"home_profiles": true, SSOField: sso, "allowed_servers": []map[string]string{{"machine_id": plexsim.ServerLivingRoom, "name": "Living Room"}}})
	inst := source.Instance{ID: fmt.Sprintf("sso-%d", w.seen), ConfigVersion: 1, Config: cfg}
	norm, err := w.p.ValidateConfig(context.Background(), inst)
	if err != nil {
		w.t.Fatal(err)
	}
	inst.Config = norm
	return inst
}

// pinLogin approves a PIN login as persona and completes it asking for want.
func (w *ssoWorld) pinLogin(inst source.Instance, persona string, want []string) (source.Identity, error) {
	ctx := context.Background()
	st, err := w.p.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: "http://127.0.0.1:1/cb"})
	if err != nil {
		return source.Identity{}, err
	}
	code, _, _ := plexsim.ForwardURL(st.RedirectURL)
	if err := w.sim.Claim(code, persona); err != nil {
		w.t.Fatal(err)
	}
	return w.p.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, Want: want})
}

// whoIs is the Plex account id a token signs in as, or the error plex.tv answers.
func (w *ssoWorld) whoIs(token string) (int64, error) {
	u, err := w.tv.User(context.Background(), token)
	if err != nil {
		return 0, err
	}
	return int64(u.ID), nil
}

// keptToken is the token a revalidation state keeps ("" none).
func keptToken(t *testing.T, id source.Identity) string {
	t.Helper()
	var st revalidationState
	if err := json.Unmarshal(id.RevalidationState, &st); err != nil {
		t.Fatalf("revalidation state: %v", err)
	}
	return st.Token
}

// loginFlow is one way to log in, with the account it ends as.
type loginFlow struct {
	name    string
	account int64
	run     func(w *ssoWorld, inst source.Instance, want []string) (source.Identity, error)
}

var loginFlows = []loginFlow{
	{"pin", 2001, func(w *ssoWorld, inst source.Instance, want []string) (source.Identity, error) {
		return w.pinLogin(inst, "friend", want)
	}},
	{"password", 2001, func(w *ssoWorld, inst source.Instance, want []string) (source.Identity, error) {
		return w.p.PasswordLogin(context.Background(), inst, source.Credentials{Login: "frank", Password: "frank-pass", Want: want})
	}},
	{"password-2fa", 4001, func(w *ssoWorld, inst source.Instance, want []string) (source.Identity, error) {
		ctx := context.Background()
		if _, err := w.p.PasswordLogin(ctx, inst, source.Credentials{Login: "tess", Password: "tf-pass", Want: want}); source.KindOf(err) != source.KindSecondFactorRequired {
			w.t.Fatalf("without the code: %v", err)
		}
		return w.p.PasswordLogin(ctx, inst, source.Credentials{Login: "tess", Password: "tf-pass", OTP: "123456", Want: want})
	}},
	{"profile-managed", 3002, func(w *ssoWorld, inst source.Instance, want []string) (source.Identity, error) {
		return w.profile(inst, kidUUID, "1234", want)
	}},
	{"profile-self", 1001, func(w *ssoWorld, inst source.Instance, want []string) (source.Identity, error) {
		return w.profile(inst, selfChoice, "", want)
	}},
}

// profile logs the owner in by PIN and answers the "Who is watching?" step with choice.
func (w *ssoWorld) profile(inst source.Instance, choice, pin string, want []string) (source.Identity, error) {
	step, err := w.pinLogin(inst, "owner", want)
	if err != nil || step.Step == nil {
		w.t.Fatalf("no profile step: %+v %v", step, err)
	}
	if len(step.Credentials) != 0 || len(step.RevalidationState) != 0 {
		w.t.Fatal("a profile step hands over a credential or a state")
	}
	return w.p.ContinueLogin(context.Background(), inst, source.ContinueLogin{State: step.Step.State, Choice: choice,
		Values: map[string]string{"pin": pin}, Want: want})
}

// With plex_web_sso off no user token leaves the plugin, asked for or not; on, the token
// is kept for re-validation and handed over only when asked for, and it is the token of the
// account the login ended as (a managed profile's own, from the switch).
func TestCredentialsHandedOverOnlyWhenOnAndAsked(t *testing.T) {
	w := newSSOWorld(t)
	off, on := w.instance(false), w.instance(true)
	for _, f := range loginFlows {
		t.Run(f.name, func(t *testing.T) {
			for _, want := range [][]string{nil, {TokenKind}, {"other.kind"}} {
				id, err := f.run(w, off, want)
				if err != nil {
					t.Fatalf("off, want %v: %v", want, err)
				}
				if len(id.Credentials) != 0 || keptToken(t, id) != "" {
					t.Fatalf("off, want %v: a user token crossed the boundary (credentials %v, state kept one: %t)", want, id.Credentials, keptToken(t, id) != "")
				}
			}
			for _, want := range [][]string{nil, {"other.kind"}} {
				id, err := f.run(w, on, want)
				if err != nil {
					t.Fatalf("on, want %v: %v", want, err)
				}
				if len(id.Credentials) != 0 {
					t.Fatalf("on, want %v: credentials %v handed over unasked", want, id.Credentials)
				}
				if acct, err := w.whoIs(keptToken(t, id)); err != nil || acct != f.account {
					t.Fatalf("on: the kept token signs in as %d (%v), want %d", acct, err, f.account)
				}
			}
			id, err := f.run(w, on, []string{"other.kind", TokenKind})
			if err != nil {
				t.Fatal(err)
			}
			if len(id.Credentials) != 1 || id.Credentials[0].Kind != TokenKind {
				t.Fatalf("on and asked: credentials %v", id.Credentials)
			}
			tok := id.Credentials[0].Value
			if acct, err := w.whoIs(tok); err != nil || acct != f.account {
				t.Fatalf("the handed-over token signs in as %d (%v), want %d", acct, err, f.account)
			}
			if keptToken(t, id) != "" {
				t.Fatal("handed over, the token is also kept in the revalidation state: a second copy the host cannot delete")
			}
		})
	}
}

// A managed profile's token is the profile's own: it is not the owner's, and it signs in as
// the profile.
func TestManagedProfileCredentialIsTheProfiles(t *testing.T) {
	w := newSSOWorld(t)
	inst := w.instance(true)
	want := []string{TokenKind}
	self, err := w.profile(inst, selfChoice, "", want)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := w.profile(inst, kidUUID, "1234", want)
	if err != nil {
		t.Fatal(err)
	}
	if kid.Subject != "3002" || len(kid.Credentials) != 1 || len(self.Credentials) != 1 {
		t.Fatalf("kid %s %v, owner %v", kid.Subject, kid.Credentials, self.Credentials)
	}
	if kid.Credentials[0].Value == self.Credentials[0].Value {
		t.Fatal("the profile was handed the owner's token")
	}
	if acct, _ := w.whoIs(self.Credentials[0].Value); acct != 1001 {
		t.Fatalf("owner's token signs in as %d", acct)
	}
}

func TestDescribeDeclaresTheToken(t *testing.T) {
	d, err := New(Options{}).Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k, ok := d.Kind(TokenKind)
	if !d.Has(source.CapCredentials) || !ok {
		t.Fatalf("capabilities %v, kinds %v", d.Capabilities, d.CredentialKinds)
	}
	if k.App != "Plex Web" || k.StorageKey != "myPlexAccessToken" || k.StartPath != "/web/index.html" || k.ConfigField != SSOField || k.Description == "" {
		t.Fatalf("kind %+v", k)
	}
	var schema struct {
		Properties map[string]struct {
			Type    string `json:"type"`
			Default any    `json:"default"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(d.ConfigSchema, &schema)
	if p := schema.Properties[SSOField]; p.Type != "boolean" || p.Default != false {
		t.Fatalf("%s in the schema: %+v", SSOField, p)
	}
	if _, old := schema.Properties[legacyKeepUserToken]; old {
		t.Fatal("the old setting is still in the schema")
	}
}

// A stored config with the old keep_user_token keeps its meaning and is written back under
// the new name only; the new name wins when both are set.
func TestKeepUserTokenReadAsPlexWebSSO(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"keep_user_token":true}`:                      true,
		`{"keep_user_token":false}`:                     false,
		`{"keep_user_token":true,"plex_web_sso":false}`: false,
		`{"keep_user_token":false,"plex_web_sso":true}`: true,
		`{"plex_web_sso":true}`:                         true,
	} {
		cfg := `{"access_mode":"any",` + raw[1:]
		out, err := New(Options{}).ValidateConfig(context.Background(), source.Instance{Config: json.RawMessage(cfg)})
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		if _, old := m[legacyKeepUserToken]; old || m[SSOField] != want {
			t.Errorf("%s: normalised to %s=%v, old key written back: %t", raw, SSOField, m[SSOField], old)
		}
	}
	if got := fieldMessages(t, `{"keep_user_token":"yes"}`); got[legacyKeepUserToken] != "must be true or false" {
		t.Fatalf("mistyped old setting: %v", got)
	}
}

// RevokeCredential signs the token out at plex.tv; an already dead token is no error.
func TestRevokeCredentialSignsOut(t *testing.T) {
	w := newSSOWorld(t)
	inst := w.instance(true)
	id, err := w.pinLogin(inst, "friend", []string{TokenKind})
	if err != nil || len(id.Credentials) != 1 {
		t.Fatalf("login: %v %v", id.Credentials, err)
	}
	c := id.Credentials[0]
	ctx := context.Background()
	if err := w.p.RevokeCredential(ctx, inst, c); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := w.whoIs(c.Value); !plextv.IsRevokedToken(err) {
		t.Fatalf("the token still signs in after revocation: %v", err)
	}
	if err := w.p.RevokeCredential(ctx, inst, c); err != nil {
		t.Fatalf("revoking a dead token: %v", err)
	}
	for _, bad := range []source.Credential{{Kind: "other.kind", Value: c.Value}, {Kind: TokenKind}} {
		if err := w.p.RevokeCredential(ctx, inst, bad); source.KindOf(err) != source.KindInvalidRequest {
			t.Errorf("revoke %v: %v", bad, err)
		}
	}
	w.sim.Inject("signout", plexsim.Fault503, -1)
	if err := w.p.RevokeCredential(ctx, inst, source.Credential{Kind: TokenKind, Value: w.sim.Token("friend")}); source.KindOf(err) != source.KindUpstreamUnavailable {
		t.Fatalf("plex.tv down: %v", err)
	}
}

// signOut invalidates a token at the simulated plex.tv, as the user signing out would.
func (w *ssoWorld) signOut(token string) {
	w.t.Helper()
	if err := w.tv.SignOut(context.Background(), token); err != nil {
		w.t.Fatal(err)
	}
}

// A kept token plex.tv refuses is dropped: re-validation answers from the owner lists (allowed
// while the share stands, revoked once it is gone), replaces the state and names the kind.
func TestRevalidateDropsARefusedToken(t *testing.T) {
	w := newSSOWorld(t)
	ctx := context.Background()
	inst := w.instance(true)
	id, err := w.pinLogin(inst, "friend", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := keptToken(t, id)
	rv, err := w.p.Revalidate(ctx, inst, source.RevalidateRequest{Subject: id.Subject, State: id.RevalidationState})
	if err != nil || rv.Status != source.RevalidationAllowed || len(rv.RefusedCredentials) != 0 || rv.NewState != nil {
		t.Fatalf("live token: %+v %v", rv, err)
	}
	w.signOut(tok)
	rv, err = w.p.Revalidate(ctx, inst, source.RevalidateRequest{Subject: id.Subject, State: id.RevalidationState})
	if err != nil || rv.Status != source.RevalidationAllowed || rv.Decision.ReasonCode != "member_of_allowed_server" {
		t.Fatalf("refused token, share still there: %+v %v", rv, err)
	}
	if len(rv.RefusedCredentials) != 1 || rv.RefusedCredentials[0] != TokenKind {
		t.Fatalf("refused credentials %v", rv.RefusedCredentials)
	}
	var st revalidationState
	if err := json.Unmarshal(rv.NewState, &st); err != nil || st.ID != 2001 || st.Token != "" {
		t.Fatalf("new state %s: %v", rv.NewState, err)
	}
	w.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	fresh := w.instance(true) // another instance id: an owner share list not cached yet
	rv, err = w.p.Revalidate(ctx, fresh, source.RevalidateRequest{Subject: id.Subject, State: id.RevalidationState})
	if err != nil || rv.Status != source.RevalidationRevoked || len(rv.RefusedCredentials) != 1 {
		t.Fatalf("refused token, share removed: %+v %v", rv, err)
	}
	// The replaced state (no token) answers the same, and names nothing refused.
	rv, err = w.p.Revalidate(ctx, fresh, source.RevalidateRequest{Subject: id.Subject, State: tokenlessState(t, 2001)})
	if err != nil || rv.Status != source.RevalidationRevoked || len(rv.RefusedCredentials) != 0 || rv.NewState != nil {
		t.Fatalf("tokenless state: %+v %v", rv, err)
	}
}

// tokenlessState is a tokenless revalidation state of account id.
func tokenlessState(t *testing.T, id int64) []byte {
	t.Helper()
	b, err := json.Marshal(revalidationState{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A plex.tv outage is not a refusal: the token is kept and the user is not revoked.
func TestRevalidateKeepsTheTokenThroughAnOutage(t *testing.T) {
	w := newSSOWorld(t)
	ctx := context.Background()
	inst := w.instance(true)
	id, err := w.pinLogin(inst, "friend", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.sim.Inject("resources", plexsim.Fault503, -1)
	rv, err := w.p.Revalidate(ctx, inst, source.RevalidateRequest{Subject: id.Subject, State: id.RevalidationState})
	if err != nil || rv.Status == source.RevalidationRevoked || len(rv.RefusedCredentials) != 0 || rv.NewState != nil {
		t.Fatalf("outage: %+v %v", rv, err)
	}
}

// A state that still keeps a token after the admin turned plex_web_sso off is answered
// without it and replaced by one without it.
func TestRevalidateDropsATokenKeptBeforeTheSettingWentOff(t *testing.T) {
	w := newSSOWorld(t)
	ctx := context.Background()
	id, err := w.pinLogin(w.instance(true), "friend", nil)
	if err != nil || keptToken(t, id) == "" {
		t.Fatalf("login: %v", err)
	}
	rv, err := w.p.Revalidate(ctx, w.instance(false), source.RevalidateRequest{Subject: id.Subject, State: id.RevalidationState})
	if err != nil || rv.Status != source.RevalidationAllowed || len(rv.RefusedCredentials) != 0 {
		t.Fatalf("setting off: %+v %v", rv, err)
	}
	var st revalidationState
	if err := json.Unmarshal(rv.NewState, &st); err != nil || st.ID != 2001 || st.Token != "" {
		t.Fatalf("new state %s: %v", rv.NewState, err)
	}
}

// A host that asks for the token keeps the one copy: re-validation uses the copy the host
// passes (a refusal is reported), uses none once the host deleted it, and drops a token an
// older login left in the state.
func TestRevalidateUsesTheHostsCopy(t *testing.T) {
	w := newSSOWorld(t)
	ctx := context.Background()
	inst := w.instance(true)
	id, err := w.pinLogin(inst, "friend", []string{TokenKind})
	if err != nil || len(id.Credentials) != 1 || keptToken(t, id) != "" {
		t.Fatalf("login: credentials %v, state %s, %v", id.Credentials, id.RevalidationState, err)
	}
	tok := id.Credentials[0].Value
	legacy, _ := json.Marshal(revalidationState{ID: 2001, Token: tok})
	rv, err := w.p.Revalidate(ctx, inst, source.RevalidateRequest{Subject: id.Subject, State: legacy, Credentials: id.Credentials})
	if err != nil || rv.Status != source.RevalidationAllowed || len(rv.RefusedCredentials) != 0 || strings.Contains(string(rv.NewState), tok) || len(rv.NewState) == 0 {
		t.Fatalf("host's copy and an older state's: %+v %v", rv, err)
	}
	w.signOut(tok)
	rv, err = w.p.Revalidate(ctx, inst, source.RevalidateRequest{Subject: id.Subject, State: id.RevalidationState, Credentials: id.Credentials})
	if err != nil || len(rv.RefusedCredentials) != 1 {
		t.Fatalf("the host's copy was not used: %+v %v", rv, err)
	}
	rv, err = w.p.Revalidate(ctx, inst, source.RevalidateRequest{Subject: id.Subject, State: id.RevalidationState})
	if err != nil || len(rv.RefusedCredentials) != 0 || rv.Status != source.RevalidationAllowed {
		t.Fatalf("no copy from the host: %+v %v", rv, err)
	}
}
