package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/source"
)

// sourceClientID is the client identifier the device-key tests give their sources: the
// legacy owner token is issued to it, as a Sign in to Plex of that source would.
const sourceClientID = "source-client-0001"

// legacyConfig is a members source whose owner token (and any other) is a legacy token
// issued to the source's own device.
func (e *env) legacyConfig(id string, others ...string) (source.Instance, string) {
	e.t.Helper()
	legacy := e.sim.TokenFor("owner", sourceClientID)
	extra := ""
	if len(others) > 0 {
		b, _ := json.Marshal(others)
		extra = `,"additional_owner_tokens":` + string(b)
	}
	inst := e.instance(`{"access_mode":"members","allowed_servers":` + servers + `,"client_identifier":"` + sourceClientID + `","owner_token":"` + legacy + `"` + extra + `}`)
	inst.ID = id
	return inst, legacy
}

// merge applies a config patch as a host does: merged into the config, validated, stored
// under the next version.
func (e *env) merge(inst source.Instance, patch json.RawMessage) source.Instance {
	e.t.Helper()
	var cfg, p map[string]json.RawMessage
	if err := json.Unmarshal(inst.Config, &cfg); err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		e.t.Fatalf("patch: %v", err)
	}
	for k, v := range p {
		cfg[k] = v
	}
	inst.Config, _ = json.Marshal(cfg)
	version++
	inst.ConfigVersion = version
	norm, err := e.plugin.ValidateConfig(context.Background(), inst)
	if err != nil {
		e.t.Fatalf("the patched config: %v", err)
	}
	inst.Config = norm
	return inst
}

// upgrade runs the Upgrade action and stores its patch.
func (e *env) upgrade(inst source.Instance) source.Instance {
	e.t.Helper()
	res, err := e.plugin.RunAction(context.Background(), inst, source.ActionRequest{ActionID: "upgrade_device_key"})
	if err != nil || len(res.ConfigPatch) == 0 {
		e.t.Fatalf("upgrade: %v %+v", err, res)
	}
	return e.merge(inst, res.ConfigPatch)
}

type deviceKeys struct {
	OwnerToken string   `json:"owner_token"`
	Others     []string `json:"additional_owner_tokens"`
	Keys       []struct {
		ClientID  string `json:"client_id"`
		Key       string `json:"key"`
		Legacy    string `json:"legacy_token"`
		ExpiresAt int64  `json:"expires_at"`
		IssuedAt  int64  `json:"issued_at"`
	} `json:"owner_device_keys"`
}

func keysOf(t testing.TB, inst source.Instance) deviceKeys {
	var d deviceKeys
	if err := json.Unmarshal(inst.Config, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// answers reports whether plex.tv takes token.
func (e *env) answers(token string) bool { return e.signsInAs(token) != 0 }

// renew calls RenewSourceCredentials and checks the answer is one a host can act on.
func (e *env) renew(inst source.Instance) source.Renewal {
	e.t.Helper()
	r, err := e.plugin.RenewSourceCredentials(context.Background(), inst)
	if err != nil {
		e.t.Fatalf("renew: %v", err)
	}
	if err := r.Check(time.Now()); err != nil {
		e.t.Fatalf("renewal: %v", err)
	}
	return r
}

// renewNow renews an upgraded source's tokens at once: the sim expires them early (498).
func (e *env) renewNow(inst source.Instance) json.RawMessage {
	e.t.Helper()
	time.Sleep(1100 * time.Millisecond) // JWT times are whole seconds
	e.sim.ExpireJWTs()
	r := e.renew(inst)
	if len(r.ConfigPatch) == 0 {
		e.t.Fatalf("renewal after 498: %+v", r)
	}
	return r.ConfigPatch
}

// waitUntil sleeps until t (renewals run in real time against short-lived tokens).
func waitUntil(t time.Time) { time.Sleep(time.Until(t) + 50*time.Millisecond) }

// TestUpgradeKeepsServingLogins: two legacy owner tokens become device-key tokens, each under
// a device of its own and without a second sign-in; the 536-character JWTs serve logins
// (the owner lists are read with them), the legacy tokens keep working beside them, and
// nothing is due for renewal before half of the tokens' own life.
func TestUpgradeKeepsServingLogins(t *testing.T) {
	e := newEnv(t)
	hank := e.sim.TokenFor("otherhome", sourceClientID)
	inst, legacy := e.legacyConfig("plex-upgrade", hank)
	up := e.upgrade(inst)
	got := keysOf(t, up)
	if len(got.Keys) != 2 || got.Keys[0].ClientID == got.Keys[1].ClientID || got.Keys[0].ClientID == sourceClientID {
		t.Fatalf("want a device of its own per token, got %+v", got.Keys)
	}
	for _, tok := range []string{got.OwnerToken, got.Others[0]} {
		if len(tok) != plexsim.PlexJWTLength || tok == legacy || tok == hank {
			t.Fatalf("owner token after the upgrade: %d characters", len(tok))
		}
	}
	if e.signsInAs(got.OwnerToken) != e.signsInAs(legacy) || e.signsInAs(got.Others[0]) != e.signsInAs(hank) {
		t.Fatal("an upgraded token is not its legacy token's account")
	}
	if !e.answers(legacy) || !e.answers(hank) || got.Keys[0].Legacy != legacy {
		t.Fatal("the legacy tokens must keep working, kept beside the keys")
	}
	e.sim.SetLegacyFriends(false)
	if id, err := e.login(up, "friend"); err != nil || !id.Decision.Allowed {
		t.Fatalf("login with upgraded owner tokens: %v %+v", err, id.Decision)
	}
	r := e.renew(up)
	if len(r.ConfigPatch) != 0 || len(r.Credentials) != 2 {
		t.Fatalf("nothing is due yet: %+v", r)
	}
	for _, c := range r.Credentials {
		half := c.ExpiresAt.Add(-plexsim.DefaultJWTLife / 2)
		if c.Err != nil || r.RenewAfter.Before(half.Add(-time.Minute)) || r.RenewAfter.After(half.Add(time.Minute)) || c.Label == "" {
			t.Errorf("credential %+v, renew after %v: want half of the 7-day life", c, r.RenewAfter)
		}
	}
	if !strings.HasPrefix(r.Credentials[0].Field, "owner_token") || r.Credentials[1].Field != "additional_owner_tokens[0]" {
		t.Errorf("fields %q %q", r.Credentials[0].Field, r.Credentials[1].Field)
	}
}

// TestRenewalAtHalfLife: with 4-second tokens the renewal is due after 2 seconds, gives a new
// verified token, drops the legacy fallback after this first success, and logins go on.
func TestRenewalAtHalfLife(t *testing.T) {
	e := newEnv(t)
	e.sim.SetJWTLife(4 * time.Second)
	inst, _ := e.legacyConfig("plex-renew")
	up := e.upgrade(inst)
	r := e.renew(up)
	if len(r.ConfigPatch) != 0 {
		t.Fatal("renewed before half of the life")
	}
	waitUntil(r.RenewAfter)
	r = e.renew(up)
	if len(r.ConfigPatch) == 0 || r.Credentials[0].Err != nil {
		t.Fatalf("due renewal: %+v", r)
	}
	renewed := e.merge(up, r.ConfigPatch)
	before, after := keysOf(t, up), keysOf(t, renewed)
	if after.OwnerToken == before.OwnerToken || !e.answers(after.OwnerToken) || after.Keys[0].Legacy != "" || after.Keys[0].ClientID != before.Keys[0].ClientID {
		t.Fatalf("renewed: new token %t, legacy kept %t", after.OwnerToken != before.OwnerToken, after.Keys[0].Legacy != "")
	}
	if id, err := e.login(renewed, "friend"); err != nil || !id.Decision.Allowed {
		t.Fatalf("login after the renewal: %v", err)
	}
	for _, s := range append(e.sim.Secrets(), after.Keys[0].Key, before.Keys[0].Key) {
		if strings.Contains(e.logs.String(), s) {
			t.Fatal("the plugin logged a token or a device key")
		}
	}
}

// TestRefusedRenewalFallsBackOrAsksForReauthorisation: a revoked device falls back to its
// legacy token while that is kept and answers (a warning, logins go on); after the first
// renewal dropped it, the refusal turns only that token red.
func TestRefusedRenewalFallsBackOrAsksForReauthorisation(t *testing.T) {
	e := newEnv(t)
	e.sim.SetJWTLife(2 * time.Second)
	hank := e.sim.TokenFor("otherhome", sourceClientID)
	inst, legacy := e.legacyConfig("plex-refused", hank)
	up := e.upgrade(inst)
	k := keysOf(t, up)
	e.sim.RevokeDevice(k.Keys[0].ClientID)
	waitUntil(time.Unix(k.Keys[0].IssuedAt+1, 0))
	r := e.renew(up)
	if r.Credentials[0].Warning == "" || r.Credentials[0].Err != nil || r.Credentials[1].Err != nil {
		t.Fatalf("fallback: %+v", r.Credentials)
	}
	back := e.merge(up, r.ConfigPatch)
	kb := keysOf(t, back)
	if kb.OwnerToken != legacy || len(kb.Keys) != 1 {
		t.Fatalf("after the fallback: legacy back %t, %d keys", kb.OwnerToken == legacy, len(kb.Keys))
	}
	if id, err := e.login(back, "friend"); err != nil || !id.Decision.Allowed {
		t.Fatalf("login after the fallback: %v", err)
	}
	// The other token was renewed (its legacy dropped); now its device is revoked too.
	e.sim.RevokeDevice(kb.Keys[0].ClientID)
	waitUntil(time.Unix(keysOf(t, back).Keys[0].IssuedAt+1, 0))
	r = e.renew(back)
	if len(r.Credentials) != 1 || !r.Credentials[0].Refused() || r.Credentials[0].Field != "additional_owner_tokens[0]" ||
		!strings.Contains(r.Credentials[0].Err.UserText, "Re-authorise") {
		t.Fatalf("refused without a fallback: %+v", r.Credentials)
	}
	res, err := e.plugin.RunAction(context.Background(), back, source.ActionRequest{ActionID: "owner_token_health"})
	if err != nil || res.Message == nil || res.Message.Level != "error" || !strings.Contains(res.Message.Text, "valid: the owner token works") {
		t.Fatalf("health: %v %+v", err, res.Message)
	}
}

// TestUpgradeFailingHalfWayKeepsLegacy: when the upgrade fails after plex.tv issued the JWT
// (Plex's keys cannot be read, so it is neither verified nor stored), the legacy token keeps
// working: the JWT was issued for a device of its own, not the legacy token's.
func TestUpgradeFailingHalfWayKeepsLegacy(t *testing.T) {
	e := newEnv(t)
	inst, legacy := e.legacyConfig("plex-halfway")
	e.sim.Inject("auth.keys", plexsim.Fault500, -1)
	res, err := e.plugin.RunAction(context.Background(), inst, source.ActionRequest{ActionID: "upgrade_device_key"})
	e.sim.ClearFaults()
	if err == nil || len(res.ConfigPatch) != 0 {
		t.Fatalf("upgrade without Plex's keys: %v %+v", err, res)
	}
	if e.sim.Counts()["pins.check"] == 0 {
		t.Fatal("the upgrade did not get as far as the JWT")
	}
	if !e.answers(legacy) {
		t.Fatal("a half-way upgrade killed the legacy token")
	}
	if id, err := e.login(inst, "friend"); err != nil || !id.Decision.Allowed {
		t.Fatalf("login after a failed upgrade: %v", err)
	}
}

// TestRenewalNetworkFaultKeepsOldToken: a renewal that cannot reach plex.tv, or is rate
// limited, changes nothing, says so as a retryable error and asks to be called again soon.
func TestRenewalNetworkFaultKeepsOldToken(t *testing.T) {
	e := newEnv(t)
	e.sim.SetJWTLife(2 * time.Second)
	inst, _ := e.legacyConfig("plex-fault")
	up := e.upgrade(inst)
	waitUntil(time.Unix(keysOf(t, up).Keys[0].IssuedAt+1, 0))
	e.sim.Inject("auth.nonce", plexsim.Fault503, -1)
	r := e.renew(up)
	e.sim.ClearFaults()
	c := r.Credentials[0]
	if len(r.ConfigPatch) != 0 || c.Err == nil || !c.Err.Retryable || r.RenewAfter.IsZero() {
		t.Fatalf("renewal during a fault: %+v", r)
	}
	e.sim.Inject("auth.nonce", plexsim.FaultRateLimit, -1)
	r = e.renew(up)
	e.sim.ClearFaults()
	if c := r.Credentials[0]; len(r.ConfigPatch) != 0 || c.Err == nil || c.Err.Kind != source.KindRateLimited || !c.Err.Retryable {
		t.Fatalf("renewal while rate limited: %+v", r)
	}
	if r = e.renew(up); len(r.ConfigPatch) == 0 {
		t.Fatal("the retry after the fault did not renew")
	}
}

// TestExpiredOwnerTokenAsksForRenewal: plex.tv's 498 on the owner token (a login that needs
// the owner lists, a re-validation, the health check) reaches the host marked source_credentials_expired, and the
// renewal it triggers renews at once, whatever the token's own claims say.
func TestExpiredOwnerTokenAsksForRenewal(t *testing.T) {
	e := newEnv(t)
	inst, _ := e.legacyConfig("plex-expired")
	up := e.upgrade(inst)
	up = e.merge(up, e.renewNow(up))    // renewed once: no legacy fallback left
	time.Sleep(1100 * time.Millisecond) // JWT times are whole seconds
	e.sim.ExpireJWTs()
	up.ID = "plex-expired-2" // no owner lists cached under this id
	up = e.merge(up, json.RawMessage(`{}`))
	// A member is admitted by his own server list; one the owner lists must decide gets
	// "try again", not a denial, and the host is told to renew.
	if id, err := e.login(up, "friend"); err != nil || !id.Decision.Allowed {
		t.Fatalf("member with an expired owner token: %v", err)
	}
	_, err := e.login(up, "noshare")
	if !source.SourceCredentialsExpired(err) || source.KindOf(err) != source.KindUpstreamUnavailable {
		t.Fatalf("login with an expired owner token: %v", err)
	}
	if _, err := e.plugin.Revalidate(context.Background(), up, source.RevalidateRequest{Subject: "2003"}); !source.SourceCredentialsExpired(err) {
		t.Fatalf("re-validation with an expired owner token: %v", err)
	}
	_, err = e.plugin.RunAction(context.Background(), up, source.ActionRequest{ActionID: "owner_token_health"})
	if !source.SourceCredentialsExpired(err) {
		t.Fatalf("health with an expired owner token: %v", err)
	}
	r := e.renew(up)
	if len(r.ConfigPatch) == 0 || r.Credentials[0].Err != nil || r.Credentials[0].Warning != "" {
		t.Fatalf("renewal after 498: %+v", r)
	}
	if id, err := e.login(e.merge(up, r.ConfigPatch), "friend"); err != nil || !id.Decision.Allowed {
		t.Fatalf("login after the renewal: %v", err)
	}
}

// TestRevokedDeviceReauthorisedWithDeviceKey: a device revoked at plex.tv after the first
// renewal turns the health red; Re-authorise with Plex (device key) — a strong PIN carrying
// a new key, approved at app.plex.tv, polled with the device's JWT — fixes it with every
// other setting kept.
func TestRevokedDeviceReauthorisedWithDeviceKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.sim.SetJWTLife(2 * time.Second)
	inst, _ := e.legacyConfig("plex-reauth")
	inst = e.merge(inst, json.RawMessage(`{"allow_friends":true,"product":"Reauth test"}`))
	up := e.upgrade(inst)
	waitUntil(time.Unix(keysOf(t, up).Keys[0].IssuedAt+1, 0))
	up = e.merge(up, e.renew(up).ConfigPatch) // the first renewal drops the legacy fallback
	e.sim.SetJWTLife(plexsim.DefaultJWTLife)
	e.sim.RevokeDevice(keysOf(t, up).Keys[0].ClientID)
	if r, err := e.plugin.RunAction(ctx, up, source.ActionRequest{ActionID: "owner_token_health"}); err != nil || r.Message.Level != "error" {
		t.Fatalf("health of a revoked device's token: %v %+v", err, r.Message)
	}
	res, err := e.plugin.RunAction(ctx, up, source.ActionRequest{ActionID: "reauthorize_device_key", CallbackURL: "http://127.0.0.1:1/admin/cb"})
	if err != nil || res.Redirect == nil {
		t.Fatalf("re-authorise: %v %+v", err, res)
	}
	code, _, _ := plexsim.ForwardURL(res.Redirect.URL)
	if _, err := e.plugin.RunAction(ctx, up, source.ActionRequest{ActionID: "reauthorize_device_key", State: res.Redirect.State}); source.KindOf(err) != source.KindPending {
		t.Fatalf("before the approval: %v, want pending", err)
	}
	if err := e.sim.Claim(code, "owner"); err != nil {
		t.Fatal(err)
	}
	res, err = e.plugin.RunAction(ctx, up, source.ActionRequest{ActionID: "reauthorize_device_key", State: res.Redirect.State})
	if err != nil || len(res.ConfigPatch) == 0 {
		t.Fatalf("re-authorise return: %v %+v", err, res)
	}
	fixed := e.merge(up, res.ConfigPatch)
	var cfg map[string]any
	_ = json.Unmarshal(fixed.Config, &cfg)
	k := keysOf(t, fixed)
	if cfg["allow_friends"] != true || cfg["product"] != "Reauth test" || len(k.Keys) != 1 || len(k.OwnerToken) != plexsim.PlexJWTLength {
		t.Fatalf("settings not kept or no device key: %v %d keys", cfg["allow_friends"], len(k.Keys))
	}
	if r, err := e.plugin.RunAction(ctx, fixed, source.ActionRequest{ActionID: "owner_token_health"}); err != nil || r.Message.Level != "info" {
		t.Fatalf("health after the re-authorisation: %v %+v", err, r.Message)
	}
	if r := e.renew(fixed); len(r.Credentials) != 1 || r.Credentials[0].Err != nil || len(r.ConfigPatch) != 0 {
		t.Fatalf("renewal after the re-authorisation: %+v", r)
	}
	// Only the owner's share list (read with the new token) admits a friend without a share.
	if id, err := e.login(fixed, "noshare"); err != nil || id.Decision.ReasonCode != "friend_of_owner" {
		t.Fatalf("the owner lists after the re-authorisation: %v %+v", err, id.Decision)
	}
}
