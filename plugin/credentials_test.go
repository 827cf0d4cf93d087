package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/plugin/plexsource"
	"github.com/plexlogin/plexlogin/shared/source"
)

// signOut invalidates token at the simulated plex.tv, as the user signing out of Plex would.
func (e *env) signOut(token string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, e.url+"/api/v2/users/signout", nil)
	req.Header.Set("X-Plex-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("sign out: HTTP %d", resp.StatusCode)
	}
}

// signsInAs is the Plex account id token signs in as at the simulated plex.tv (0: refused).
func (e *env) signsInAs(token string) int64 {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/v2/user", nil)
	req.Header.Set("X-Plex-Token", token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct {
		ID int64 `json:"id"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&u) != nil {
		return 0
	}
	return u.ID
}

// loginWanting runs a PIN login as persona through the plugin process, asking for want.
func (e *env) loginWanting(inst source.Instance, persona string, want []string) source.Identity {
	e.t.Helper()
	ctx := context.Background()
	st, err := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
	if err != nil {
		e.t.Fatal(err)
	}
	code, _, _ := plexsim.ForwardURL(st.RedirectURL)
	if err := e.sim.Claim(code, persona); err != nil {
		e.t.Fatal(err)
	}
	id, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, Want: want})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// Over the wire: Describe declares plex.token; the token crosses only with plex_web_sso on and
// asked for, and it is the user's own; with the setting off neither the identity nor the
// re-validation state carries it.
func TestCredentialCrossesTheWireOnlyWhenOnAndAsked(t *testing.T) {
	e := newEnv(t)
	d, err := e.plugin.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := d.Kind(plexsource.TokenKind); !d.Has(source.CapCredentials) || !ok || k.ConfigField != "plex_web_sso" || k.StorageKey != "myPlexAccessToken" {
		t.Fatalf("Describe over the wire: capabilities %v, kinds %+v", d.Capabilities, d.CredentialKinds)
	}
	off, on := e.membersConfig(""), e.membersConfig(`,"plex_web_sso":true`)
	want := []string{plexsource.TokenKind}
	for _, w := range [][]string{nil, want} {
		id := e.loginWanting(off, "friend", w)
		if len(id.Credentials) != 0 || strings.Contains(string(id.RevalidationState), `"token"`) {
			t.Fatalf("off, want %v: credentials %v, state %s", w, id.Credentials, id.RevalidationState)
		}
	}
	if id := e.loginWanting(on, "friend", nil); len(id.Credentials) != 0 {
		t.Fatalf("on, not asked: %v", id.Credentials)
	}
	id := e.loginWanting(on, "friend", want)
	if len(id.Credentials) != 1 || id.Credentials[0].Kind != plexsource.TokenKind {
		t.Fatalf("on and asked: %v", id.Credentials)
	}
	if acct := e.signsInAs(id.Credentials[0].Value); acct != 2001 {
		t.Fatalf("the handed-over token signs in as %d, want 2001", acct)
	}
	if strings.Contains(e.logs.String(), id.Credentials[0].Value) {
		t.Fatal("the handed-over token is in the plugin's logs")
	}
}

// A stored config that still says keep_user_token is read as plex_web_sso and written back
// under the new name only.
func TestOldKeepUserTokenStillWorks(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig(`,"keep_user_token":true`)
	if strings.Contains(string(inst.Config), "keep_user_token") || !strings.Contains(string(inst.Config), `"plex_web_sso":true`) {
		t.Fatalf("normalised config %s", inst.Config)
	}
	if id := e.loginWanting(inst, "friend", []string{plexsource.TokenKind}); len(id.Credentials) != 1 {
		t.Fatalf("credentials %v", id.Credentials)
	}
}

// Over the wire: once plex.tv refuses the kept token, re-validation drops it (new state,
// plex.token named refused) and answers from the owner lists: allowed while the share
// stands, revoked once it is removed.
func TestRevalidateAfterTheKeptTokenIsSignedOut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig(`,"plex_web_sso":true`)
	id := e.loginWanting(inst, "friend", []string{plexsource.TokenKind})
	e.signOut(id.Credentials[0].Value)
	if e.signsInAs(id.Credentials[0].Value) != 0 {
		t.Fatal("the simulator still accepts a signed-out token")
	}
	if strings.Contains(string(id.RevalidationState), `"token"`) {
		t.Fatalf("handed over, the token is also in the state %s", id.RevalidationState)
	}
	rv, err := e.plugin.Revalidate(ctx, inst, source.RevalidateRequest{Subject: "2001", State: id.RevalidationState, Credentials: id.Credentials})
	if err != nil || rv.Status != source.RevalidationAllowed {
		t.Fatalf("token refused, share still there: %+v %v", rv, err)
	}
	if len(rv.RefusedCredentials) != 1 || rv.RefusedCredentials[0] != plexsource.TokenKind {
		t.Fatalf("refused credentials %v", rv.RefusedCredentials)
	}
	if strings.Contains(string(rv.NewState), `"token"`) {
		t.Fatalf("new state %s", rv.NewState)
	}
	e.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	fresh := e.membersConfig(`,"plex_web_sso":true`)
	fresh.ID = "fresh-owner-cache"
	rv, err = e.plugin.Revalidate(ctx, fresh, source.RevalidateRequest{Subject: "2001", State: id.RevalidationState, Credentials: id.Credentials})
	if err != nil || rv.Status != source.RevalidationRevoked || len(rv.RefusedCredentials) != 1 {
		t.Fatalf("token refused, share removed: %+v %v", rv, err)
	}
}

// Over the wire, Describe gives the words a host says Plex things in (contract 1.5): the
// token's name and where it is signed out, and a title for every attribute a login with the
// default mappings returns, so the host needs no Plex words of its own.
func TestDescribeGivesTheWords(t *testing.T) {
	e := newEnv(t)
	d, err := e.plugin.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k, _ := d.Kind(plexsource.TokenKind)
	if got := "The " + k.Title() + " kept for the protected apps is deleted and signed out " + k.SignedOut() + "."; got !=
		"The Plex token kept for the protected apps is deleted and signed out at plex.tv." {
		t.Errorf("the token in a sentence: %q", got)
	}
	p, err := source.ParseSchema(d.ConfigSchema)
	if err != nil {
		t.Fatal(err)
	}
	titles := p.AttributeTitles()
	for name, want := range map[string]string{"plex_pass": "Plex Pass", "uuid": "Plex account UUID", "id": "Plex account id",
		"is_home_member": "Member of the owner's Plex Home"} {
		if titles[name] != want {
			t.Errorf("attribute %s: title %q, want %q", name, titles[name], want)
		}
	}
	id, err := e.login(e.membersConfig(""), "friend")
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]any
	if err := json.Unmarshal(id.Attributes, &attrs); err != nil || len(attrs) == 0 {
		t.Fatalf("attributes %s: %v", id.Attributes, err)
	}
	for name := range attrs {
		if titles[name] == "" {
			t.Errorf("attribute %s of a default login has no title", name)
		}
	}
}
