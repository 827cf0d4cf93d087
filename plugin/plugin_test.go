package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
	"github.com/plexlogin/plexlogin/shared/source"
	"github.com/plexlogin/plexlogin/shared/sourcetest"
)

var manifestPath string

func TestMain(m *testing.M) {
	// The tracked plugin.json is the manifest template: this also checks it is loadable.
	loadertest.Main(m, func(dir string) (err error) {
		manifestPath, err = loadertest.BuildFromFile(dir, "github.com/plexlogin/plexlogin/plugin", "../plugin.json")
		return err
	})
}

type env struct {
	t      testing.TB
	sim    *plexsim.Sim
	url    string
	plugin *loader.Plugin
	logs   *loadertest.LogBuffer
	owner  string
}

// newEnv starts a simulator and a real plugin process pointed at it.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWorld(t, plexsim.DefaultWorld())
}

// newEnvWorld is newEnv with a simulator of world w.
func newEnvWorld(t testing.TB, w plexsim.World) *env {
	t.Helper()
	sim := plexsim.New(w)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	logs := &loadertest.LogBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Trace})
	p, err := loader.Load(manifestPath, loader.Options{Logger: logger,
		ExtraEnv: []string{"PLEX_TV_URL=" + srv.URL, "PLEX_APP_URL=" + srv.URL, "FEDSOURCE_LOG_LEVEL=trace"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &env{t: t, sim: sim, url: srv.URL, plugin: p, logs: logs, owner: sim.Token("owner")}
}

var version int64

// instance validates cfg (a JSON object with the owner token filled in when "OWNER" appears).
func (e *env) instance(cfg string) source.Instance {
	e.t.Helper()
	cfg = strings.ReplaceAll(cfg, "OWNER", e.owner)
	version++
	inst := source.Instance{ID: "plex-test", ConfigVersion: version, Config: json.RawMessage(cfg), Slug: "plex", Name: "Plex"}
	norm, err := e.plugin.ValidateConfig(context.Background(), inst)
	if err != nil {
		e.t.Fatalf("config %s: %v", cfg, err)
	}
	inst.Config = norm
	return inst
}

const servers = `[{"machine_id":"` + plexsim.ServerLivingRoom + `","name":"Living Room"},{"machine_id":"` + plexsim.ServerCabin + `","name":"Cabin"}]`

func (e *env) membersConfig(extra string) source.Instance {
	return e.instance(`{"access_mode":"members","allowed_servers":` + servers + `,"owner_token":"OWNER"` + extra + `}`)
}

const callback = "http://127.0.0.1:1/callback"

// login runs a full PIN login as persona through the plugin ("" = do not approve).
func (e *env) login(inst source.Instance, persona string) (source.Identity, error) {
	ctx := context.Background()
	st, err := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
	if err != nil {
		return source.Identity{}, err
	}
	code, fwd, err := plexsim.ForwardURL(st.RedirectURL)
	if err != nil || fwd != callback {
		e.t.Fatalf("auth URL %s: forward %q %v", st.RedirectURL, fwd, err)
	}
	if persona != "" {
		if err := e.sim.Claim(code, persona); err != nil {
			e.t.Fatalf("claim: %v", err)
		}
	}
	u, _ := url.Parse(fwd)
	q := map[string]string{}
	for k, v := range u.Query() {
		q[k] = v[0]
	}
	return e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: q})
}

func TestConformance(t *testing.T) {
	e := newEnv(t)
	provokeLogin := func(persona string, before func()) func(context.Context, source.Full, source.Instance) error {
		return func(ctx context.Context, s source.Full, inst source.Instance) error {
			st, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
			if err != nil {
				return err
			}
			code, _, _ := plexsim.ForwardURL(st.RedirectURL)
			if persona != "" {
				_ = e.sim.Claim(code, persona)
			}
			if before != nil {
				before()
			}
			_, err = s.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State})
			return err
		}
	}
	errs := map[source.Kind]sourcetest.ErrorCase{
		source.KindAccessDenied: {Provoke: provokeLogin("noshare", nil), Subject: true},
		source.KindPending:      {Provoke: provokeLogin("", nil)},
		source.KindExpired:      {Provoke: provokeLogin("friend", e.sim.ExpirePINs)},
		source.KindUpstreamUnavailable: {Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			e.sim.Inject("pins.create", plexsim.Fault503, 3)
			defer e.sim.ClearFaults()
			_, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
			return err
		}},
		source.KindRateLimited: {Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			e.sim.Inject("pins.create", plexsim.FaultRateLimit, 3)
			defer e.sim.ClearFaults()
			_, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
			return err
		}},
		source.KindInvalidConfig: {Fields: []string{"allowed_servers"}, Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			inst.Config = json.RawMessage(`{"access_mode":"members"}`)
			_, err := s.ValidateConfig(ctx, inst)
			return err
		}},
		source.KindInvalidCredentials: {Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			_, err := s.PasswordLogin(ctx, inst, source.Credentials{Login: "frank", Password: "wrong"})
			return err
		}},
		source.KindSecondFactorRequired: {Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			_, err := s.PasswordLogin(ctx, inst, source.Credentials{Login: "tess", Password: "tf-pass"})
			return err
		}},
		source.KindInvalidRequest: {Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			_, err := s.RunAction(ctx, inst, source.ActionRequest{ActionID: "nope"})
			return err
		}},
		source.KindReplayed: {Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			st, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
			if err != nil {
				return err
			}
			code, _, _ := plexsim.ForwardURL(st.RedirectURL)
			_ = e.sim.Claim(code, "friend")
			if _, err := s.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State}); err != nil {
				return err
			}
			_, err = s.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State})
			return err
		}},
		source.KindInternal: {Skip: "every plex.tv failure maps to a specific kind; nothing a caller sends provokes an internal error"},
	}
	valid := strings.ReplaceAll(`{"access_mode":"members","allowed_servers":`+servers+`,"owner_token":"OWNER","password_login":true}`, "OWNER", e.owner)
	sourcetest.Run(t, sourcetest.Fixtures{
		Source:      e.plugin,
		ValidConfig: valid,
		CallbackURL: callback,
		BadConfigs: []sourcetest.BadConfig{
			{Name: "server mode without servers", Config: `{"access_mode":"members"}`, Fields: []string{"allowed_servers"}},
			{Name: "home mode without servers", Config: `{"access_mode":"home","allowed_servers":[]}`, Fields: []string{"allowed_servers"}},
			{Name: "unknown mode", Config: `{"access_mode":"everyone","allowed_servers":` + servers + `}`, Fields: []string{"access_mode"}},
			{Name: "bad machine id", Config: `{"allowed_servers":[{"machine_id":"not a machine id!"}]}`, Fields: []string{"allowed_servers"}},
			{Name: "friends without owner token", Config: `{"allowed_servers":` + servers + `,"allow_friends":true}`, Fields: []string{"allow_friends"}},
			{Name: "wrong types", Config: `{"allowed_servers":` + servers + `,"password_login":"yes","owner_cache_ttl_seconds":"x"}`,
				Fields: []string{"password_login", "owner_cache_ttl_seconds"}},
		},
		Errors: errs,
		Login: func(ctx context.Context, s source.Full, inst source.Instance, want []string) (source.Identity, error) {
			st, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
			if err != nil {
				return source.Identity{}, err
			}
			code, _, _ := plexsim.ForwardURL(st.RedirectURL)
			if err := e.sim.Claim(code, "friend"); err != nil {
				return source.Identity{}, err
			}
			return s.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, Want: want})
		},
		Renewing: func(context.Context, source.Full, source.Instance) (source.Instance, error) {
			e.sim.SetJWTLife(2 * time.Second)
			defer e.sim.SetJWTLife(plexsim.DefaultJWTLife)
			inst, _ := e.legacyConfig("conformance-renew")
			up := e.upgrade(inst)
			waitUntil(time.Unix(keysOf(t, up).Keys[0].IssuedAt+1, 0))
			return up, nil
		},
		ExpiredCredentials: func(ctx context.Context, s source.Full, _ source.Instance) error {
			inst, _ := e.legacyConfig("conformance-expired")
			up := e.upgrade(inst)
			e.sim.Advance(plexsim.DefaultJWTLife + time.Hour)
			_, err := s.RunAction(ctx, up, source.ActionRequest{ActionID: "owner_token_health"})
			return err
		},
		OtherSource: func(ctx context.Context, s source.Full, inst source.Instance) (source.Instance, error) {
			// Hank's server, another owner's, shares with the same friend: a Plex account id is global.
			e.sim.SetShare("friend", plexsim.ServerElsewhere, true)
			other := source.Instance{ID: "plex-test-hanks", ConfigVersion: 1, Slug: "hanks", Name: "Hank's Plex",
				Config: json.RawMessage(`{"access_mode":"members","owner_token":"` + e.sim.Token("otherhome") +
					`","allowed_servers":[{"machine_id":"` + plexsim.ServerElsewhere + `","name":"Hank's Place"}]}`)}
			norm, err := s.ValidateConfig(ctx, other)
			other.Config = norm
			return other, err
		},
		GuardedStep: func(ctx context.Context, s source.Full, _ source.Instance) (source.Instance, *source.LoginStep, source.ContinueLogin, error) {
			inst := e.membersConfig(`,"home_profiles":true`)
			id, err := e.login(inst, "owner")
			return inst, id.Step, source.ContinueLogin{Choice: "60718293a4b5c6d7", Values: map[string]string{"pin": "0000"}}, err
		},
	})
}

type want struct {
	allowed bool
	reason  string
}

func TestDecisionMatrix(t *testing.T) {
	e := newEnv(t)
	configs := map[string]source.Instance{
		"members":         e.membersConfig(""),
		"members+friends": e.membersConfig(`,"allow_friends":true`),
		"home":            e.instance(`{"access_mode":"home","allowed_servers":` + servers + `,"owner_token":"OWNER"}`),
		"owner":           e.instance(`{"access_mode":"owner","allowed_servers":` + servers + `}`),
		"any":             e.instance(`{"access_mode":"any"}`),
	}
	allow := func(r string) want { return want{true, r} }
	deny := func(r string) want { return want{false, r} }
	matrix := map[string]map[string]want{
		"owner":      {"members": allow("owner"), "members+friends": allow("owner"), "home": allow("owner"), "owner": allow("owner"), "any": allow("any_plex_account")},
		"friend":     {"members": allow("member_of_allowed_server"), "members+friends": allow("member_of_allowed_server"), "home": deny("not_home_member"), "owner": deny("not_owner"), "any": allow("any_plex_account")},
		"pending":    {"members": deny("share_pending"), "members+friends": allow("friend_of_owner"), "home": deny("not_home_member"), "owner": deny("not_owner"), "any": allow("any_plex_account")},
		"noshare":    {"members": deny("not_a_member"), "members+friends": allow("friend_of_owner"), "home": deny("not_home_member"), "owner": deny("not_owner"), "any": allow("any_plex_account")},
		"otherhome":  {"members": allow("member_of_allowed_server"), "members+friends": allow("member_of_allowed_server"), "home": deny("not_home_member"), "owner": deny("not_owner"), "any": allow("any_plex_account")},
		"homemember": {"members": allow("home_member"), "members+friends": allow("home_member"), "home": allow("home_member"), "owner": deny("not_owner"), "any": allow("any_plex_account")},
		"twofactor":  {"members": allow("member_of_allowed_server"), "members+friends": allow("member_of_allowed_server"), "home": deny("not_home_member"), "owner": deny("not_owner"), "any": allow("any_plex_account")},
		"google":     {"members": allow("member_of_allowed_server"), "members+friends": allow("member_of_allowed_server"), "home": deny("not_home_member"), "owner": deny("not_owner"), "any": allow("any_plex_account")},
	}
	for persona, row := range matrix {
		for mode, w := range row {
			t.Run(persona+"/"+mode, func(t *testing.T) {
				id, err := e.login(configs[mode], persona)
				if w.allowed {
					if err != nil {
						t.Fatalf("denied: %v", err)
					}
					if id.Decision.ReasonCode != w.reason || !id.Decision.Allowed {
						t.Fatalf("reason %q, want %q", id.Decision.ReasonCode, w.reason)
					}
					return
				}
				var se *source.Error
				if !asErr(err, &se) || se.Kind != source.KindAccessDenied {
					t.Fatalf("got %v, want access denied", err)
				}
				if se.ReasonCode != w.reason || se.UserText == "" || se.AdminDetail == "" {
					t.Fatalf("reason %q (user %q, admin %q), want %q", se.ReasonCode, se.UserText, se.AdminDetail, w.reason)
				}
			})
		}
	}
	t.Run("revoked token", func(t *testing.T) {
		_, err := e.login(configs["members"], "revoked")
		if source.KindOf(err) != source.KindInvalidCredentials {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("managed profile cannot approve a PIN", func(t *testing.T) {
		st, err := e.plugin.BeginLogin(context.Background(), configs["members"], source.BeginLogin{CallbackURL: callback})
		if err != nil {
			t.Fatal(err)
		}
		code, _, _ := plexsim.ForwardURL(st.RedirectURL)
		if err := e.sim.Claim(code, "kid"); err == nil {
			t.Fatal("a managed profile approved a PIN")
		}
	})
}

func asErr(err error, target **source.Error) bool {
	e, ok := err.(*source.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestPendingShareReasonNamesTheServer(t *testing.T) {
	e := newEnv(t)
	_, err := e.login(e.membersConfig(""), "pending")
	se := source.AsError(err)
	if se.ReasonCode != "share_pending" || !strings.Contains(se.AdminDetail, "share pending") || !strings.Contains(se.AdminDetail, "Living Room") {
		t.Fatalf("admin detail %q", se.AdminDetail)
	}
}

func TestOwnerListFailureOnlyAffectsItsRule(t *testing.T) {
	e := newEnv(t)
	// Failing before the config is saved, so the owner lists were never warmed.
	e.sim.Inject("users", plexsim.Fault500, -1)
	e.sim.Inject("home.users", plexsim.Fault503, -1)
	e.sim.Inject("friends", plexsim.FaultGone, -1)
	inst := e.membersConfig(`,"allow_friends":true`)
	id, err := e.login(inst, "friend")
	if err != nil || id.Decision.ReasonCode != "member_of_allowed_server" {
		t.Fatalf("member blocked by a failing owner list: %v", err)
	}
	_, err = e.login(inst, "noshare")
	se := source.AsError(err)
	if se.Kind != source.KindAccessDenied || !strings.Contains(se.AdminDetail, "unknown: owner share list") {
		t.Fatalf("friend rule should be unknown: %v", err)
	}
	if strings.Contains(se.AdminDetail, e.owner) {
		t.Fatal("owner token in admin detail")
	}
}

func TestResourcesFailureIsUnavailableNotDenied(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig("")
	e.sim.Inject("resources", plexsim.Fault503, -1)
	_, err := e.login(inst, "noshare")
	se := source.AsError(err)
	if se.Kind != source.KindUpstreamUnavailable || !se.Retryable {
		t.Fatalf("got %v, want a retryable upstream error", err)
	}
	// A member the owner list knows still gets in during the outage.
	id, err := e.login(inst, "friend")
	if err != nil || !id.Decision.Allowed {
		t.Fatalf("friend during resources outage: %v", err)
	}
}

func TestLoginLifecycleErrors(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig("")
	ctx := context.Background()
	t.Run("pending", func(t *testing.T) {
		_, err := e.login(inst, "")
		if source.KindOf(err) != source.KindPending {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		st, _ := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
		code, _, _ := plexsim.ForwardURL(st.RedirectURL)
		_ = e.sim.Claim(code, "friend")
		e.sim.ExpirePINs()
		_, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State})
		if source.KindOf(err) != source.KindExpired {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("client identifier changed", func(t *testing.T) {
		st, _ := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
		code, _, _ := plexsim.ForwardURL(st.RedirectURL)
		_ = e.sim.Claim(code, "friend")
		var cfg map[string]any
		_ = json.Unmarshal(inst.Config, &cfg)
		cfg["client_identifier"] = "a-brand-new-identifier"
		b, _ := json.Marshal(cfg)
		other := inst
		other.Config, other.ConfigVersion = b, inst.ConfigVersion+1000
		_, err := e.plugin.CompleteLogin(ctx, other, source.CompleteLogin{State: st.State})
		se := source.AsError(err)
		if se.Kind != source.KindExpired || !strings.Contains(se.AdminDetail, "client identifier changed") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("second completion", func(t *testing.T) {
		st, _ := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
		code, _, _ := plexsim.ForwardURL(st.RedirectURL)
		_ = e.sim.Claim(code, "friend")
		if _, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State}); err != nil {
			t.Fatal(err)
		}
		_, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State})
		if source.KindOf(err) != source.KindReplayed {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("state of another source", func(t *testing.T) {
		st, _ := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
		other := inst
		other.ID = "another-source"
		_, err := e.plugin.CompleteLogin(ctx, other, source.CompleteLogin{State: st.State})
		if source.KindOf(err) != source.KindInvalidRequest {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("PIN id not in the browser URL", func(t *testing.T) {
		st, _ := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
		code, _, _ := plexsim.ForwardURL(st.RedirectURL)
		id := e.sim.PINID(code)
		if id == 0 || strings.Contains(st.RedirectURL, fmt.Sprint(id)) {
			t.Fatalf("pin id %d visible in %s", id, st.RedirectURL)
		}
		// The state is sealed: neither readable JSON nor carrying the PIN id.
		if json.Valid(st.State) || bytes.Contains(st.State, []byte(fmt.Sprint(id))) {
			t.Fatalf("login state is not sealed: %q", st.State)
		}
	})
}

func TestIdentityAndStrippedSecrets(t *testing.T) {
	e := newEnv(t)
	id, err := e.login(e.membersConfig(""), "friend")
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "2001" || id.PreferredUsername != "frank" || id.Email != "frank@example.com" || !id.EmailVerified || id.Name != "Frank Friend" {
		t.Fatalf("identity %+v", id)
	}
	if strings.Join(id.Groups, ",") != "plex-friend,plex-server:Living Room" {
		t.Fatalf("groups %v", id.Groups)
	}
	for _, secret := range []string{`"authToken"`, `"authenticationToken"`, `"accessToken"`, `"token"`, `"pin"`} {
		if strings.Contains(string(id.Raw), secret) || strings.Contains(string(id.Attributes), secret) {
			t.Errorf("%s present in what the contract returns", secret)
		}
	}
	var attrs map[string]any
	_ = json.Unmarshal(id.Attributes, &attrs)
	if attrs["uuid"] != "1b2c3d4e5f607182" || attrs["plex_pass"] != false {
		t.Fatalf("attributes %s", id.Attributes)
	}
	if strings.Contains(string(id.RevalidationState), "sim") {
		t.Fatal("user token kept although plex_web_sso is off")
	}
	// Owner: Plex Pass, both servers, email unverified never claimed.
	owner, err := e.login(e.membersConfig(""), "owner")
	if err != nil || owner.Groups[0] != "plex-owner" || len(owner.Groups) != 3 {
		t.Fatalf("owner groups %v %v", owner.Groups, err)
	}
	if strings.Contains(string(owner.Raw), `"pin"`) {
		t.Fatal("owner's hashed Home PIN survived")
	}
	pending, _ := e.login(e.instance(`{"access_mode":"any"}`), "pending")
	if pending.EmailVerified {
		t.Fatal("email_verified without Plex confirmed")
	}
}

func TestPasswordLogin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	off := e.membersConfig("")
	if _, err := e.plugin.PasswordLogin(ctx, off, source.Credentials{Login: "frank", Password: "frank-pass"}); source.AsError(err).ReasonCode != "password_login_disabled" {
		t.Fatalf("disabled: %v", err)
	}
	on := e.membersConfig(`,"password_login":true`)
	id, err := e.plugin.PasswordLogin(ctx, on, source.Credentials{Login: "frank@example.com", Password: "frank-pass"})
	if err != nil || id.Subject != "2001" {
		t.Fatalf("password login: %v", err)
	}
	_, err = e.plugin.PasswordLogin(ctx, on, source.Credentials{Login: "tess", Password: "tf-pass"})
	if source.KindOf(err) != source.KindSecondFactorRequired {
		t.Fatalf("2FA: %v", err)
	}
	if id, err := e.plugin.PasswordLogin(ctx, on, source.Credentials{Login: "tess", Password: "tf-pass", OTP: "123456"}); err != nil || id.Subject != "4001" {
		t.Fatalf("2FA with code: %v", err)
	}
	_, err = e.plugin.PasswordLogin(ctx, on, source.Credentials{Login: "gus", Password: "guess"})
	if se := source.AsError(err); se.Kind != source.KindInvalidCredentials || !strings.Contains(se.UserText, "Google or Apple") {
		t.Fatalf("password-less: %v", err)
	}
	e.sim.Inject("signin", plexsim.FaultRateLimit, 1)
	_, err = e.plugin.PasswordLogin(ctx, on, source.Credentials{Login: "frank", Password: "frank-pass"})
	if se := source.AsError(err); se.Kind != source.KindRateLimited || se.ReasonCode != "plex_signin_throttled" {
		t.Fatalf("429: %v", err)
	}
	for i := 0; i < 6; i++ {
		_, err = e.plugin.PasswordLogin(ctx, on, source.Credentials{Login: "nora", Password: "nope"})
	}
	if se := source.AsError(err); se.Kind != source.KindRateLimited {
		t.Fatalf("1031: %v", err)
	}
}

func TestRevalidate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig("")
	for sub, want := range map[string]source.RevalidationStatus{"2001": source.RevalidationAllowed, "1001": source.RevalidationAllowed,
		"3001": source.RevalidationAllowed, "2003": source.RevalidationRevoked, "2002": source.RevalidationRevoked} {
		rv, err := e.plugin.Revalidate(ctx, inst, source.RevalidateRequest{Subject: sub})
		if err != nil || rv.Status != want {
			t.Errorf("sub %s: %v %v, want %v", sub, rv.Status, err, want)
		}
	}
	fresh := e.membersConfig(`,"owner_cache_ttl_seconds":10,"request_timeout_seconds":1`)
	fresh.ID = "fresh-cache"
	e.sim.Inject("users", plexsim.FaultTimeout, -1)
	rv, err := e.plugin.Revalidate(ctx, fresh, source.RevalidateRequest{Subject: "2003"})
	if err != nil || rv.Status != source.RevalidationUnknown {
		t.Fatalf("owner list timing out: %v %v, want unknown", rv.Status, err)
	}
}

func TestAdminActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A fresh source: no servers, no owner token yet — the actions fill them in.
	draft := source.Instance{ID: "new-source", ConfigVersion: 1, Config: json.RawMessage(`{"access_mode":"members","client_identifier":"draft-client-0001"}`)}
	res, err := e.plugin.RunAction(ctx, draft, source.ActionRequest{ActionID: "load_servers", CallbackURL: "http://127.0.0.1:1/admin/cb"})
	if err != nil || res.Redirect == nil {
		t.Fatalf("load servers: %+v %v", res, err)
	}
	code, fwd, _ := plexsim.ForwardURL(res.Redirect.URL)
	if fwd != "http://127.0.0.1:1/admin/cb" {
		t.Fatalf("forward %q", fwd)
	}
	if err := e.sim.Claim(code, "owner"); err != nil {
		t.Fatal(err)
	}
	res, err = e.plugin.RunAction(ctx, draft, source.ActionRequest{ActionID: "load_servers", State: res.Redirect.State})
	if err != nil || res.Choices == nil {
		t.Fatalf("load servers return: %+v %v", res, err)
	}
	names := []string{}
	for _, o := range res.Choices.Options {
		names = append(names, o.Label+"="+o.Value+"/"+o.Description+"/"+o.Details["Machine ID"])
		if o.Details["Last seen"] == "" || strings.Contains(o.Details["Last seen"], "T") {
			t.Errorf("last seen not in words: %q", o.Details["Last seen"])
		}
	}
	if strings.Join(names, ",") != "Living Room="+plexsim.ServerLivingRoom+"/Plex Media Server, yours/"+plexsim.ServerLivingRoom+
		",Cabin="+plexsim.ServerCabin+"/Plex Media Server, yours/"+plexsim.ServerCabin {
		t.Fatalf("choices %v", names)
	}
	var patch map[string]string
	_ = json.Unmarshal(res.Choices.Patch, &patch)
	if patch["owner_token"] == "" {
		t.Fatal("no owner token in the patch")
	}

	inst := e.membersConfig("")
	health := func() string {
		r, err := e.plugin.RunAction(ctx, inst, source.ActionRequest{ActionID: "owner_token_health"})
		if err != nil || r.Message == nil {
			t.Fatalf("health: %v", err)
		}
		return strings.SplitN(r.Message.Text, ":", 2)[0]
	}
	if h := health(); h != "valid" {
		t.Fatalf("health %q", h)
	}
	e.sim.Inject("user", plexsim.Fault503, -1)
	if h := health(); h != "unknown" {
		t.Fatalf("health during outage %q, want unknown", h)
	}
	e.sim.ClearFaults()
	e.sim.RevokeTokens("owner")
	if h := health(); h != "revoked" {
		t.Fatalf("health after revocation %q", h)
	}

	// Re-authorise returns only the new owner token; everything else stays.
	res, err = e.plugin.RunAction(ctx, inst, source.ActionRequest{ActionID: "reauthorize", CallbackURL: callback})
	if err != nil || res.Redirect == nil {
		t.Fatal(err)
	}
	code, _, _ = plexsim.ForwardURL(res.Redirect.URL)
	_ = e.sim.Claim(code, "owner")
	res, err = e.plugin.RunAction(ctx, inst, source.ActionRequest{ActionID: "reauthorize", State: res.Redirect.State})
	if err != nil || res.ConfigPatch == nil {
		t.Fatal(err)
	}
	var p2 map[string]any
	_ = json.Unmarshal(res.ConfigPatch, &p2)
	if len(p2) != 1 || p2["owner_token"] == "" {
		t.Fatalf("reauthorise patch %s", res.ConfigPatch)
	}

	for input, level := range map[string]string{`{"machine_id":"bad id"}`: "error", `{"machine_id":"` + plexsim.ServerCabin + `"}`: "warning"} {
		r, err := e.plugin.RunAction(ctx, inst, source.ActionRequest{ActionID: "check_machine_id", Input: json.RawMessage(input)})
		if err != nil || r.Message == nil || r.Message.Level != level {
			t.Errorf("check %s: %+v %v, want %s", input, r.Message, err, level)
		}
	}
}

func TestKillPluginMidLogin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig("")
	st, err := e.plugin.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: callback})
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := plexsim.ForwardURL(st.RedirectURL)
	_ = e.sim.Claim(code, "friend")
	if err := syscall.Kill(e.plugin.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	id, err := e.plugin.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State})
	if err != nil || id.Subject != "2001" {
		t.Fatalf("after kill -9: %v", err)
	}
}

func TestConcurrentLoginsFetchOwnerListsOnce(t *testing.T) {
	e := newEnv(t)
	e.sim.SetLatency(20 * time.Millisecond)
	e.sim.ResetCounts() // the owner lists are warmed when the config is validated
	inst := e.membersConfig("")
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	personas := []string{"friend", "otherhome", "google", "homemember", "owner"}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := e.login(inst, personas[i%len(personas)]); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c := e.sim.Counts()
	if c["users"] != 1 || c["home.users"] != 1 {
		t.Fatalf("owner lists fetched %d and %d times, want once each", c["users"], c["home.users"])
	}
	if c["pins.create"] != n || c["pins.check"] != n || c["resources"] != n || c["user"] != n+1 {
		t.Fatalf("counts %v", c)
	}
}

func TestWarmCacheSkipsResources(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig(`,"member_cache_freshness_seconds":60`)
	if _, err := e.login(inst, "friend"); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetCounts()
	id, err := e.login(inst, "friend")
	if err != nil || id.Decision.ReasonCode != "member_of_allowed_server_cached" {
		t.Fatalf("%v %v", id.Decision, err)
	}
	c := e.sim.Counts()
	if c["resources"] != 0 || c["pins.create"]+c["pins.check"]+c["user"] != 3 {
		t.Fatalf("warm login counts %v", c)
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig(`,"password_login":true,"request_timeout_seconds":1`)
	for _, p := range []string{"friend", "noshare", "pending", "owner", "revoked", ""} {
		_, _ = e.login(inst, p)
	}
	_, _ = e.plugin.PasswordLogin(context.Background(), inst, source.Credentials{Login: "tess", Password: "tf-pass", OTP: "123456"})
	e.sim.Inject("pins.check", plexsim.FaultTimeout, 1)
	_, _ = e.login(inst, "friend")
	logs := e.logs.String()
	if !strings.Contains(logs, "login decision") {
		t.Fatalf("plugin logs were not captured: %q", logs)
	}
	for _, s := range append(e.sim.Secrets(), e.owner) {
		if strings.Contains(logs, s) {
			t.Fatalf("logs contain a token or PIN id %q", s)
		}
	}
}

func TestMappingsThroughPlugin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bad := `{"access_mode":"members","allowed_servers":` + servers + `,"mappings":"[roles]\ngroups: user.is_ownr ? [\"admins\"] : []\n"}`
	_, err := e.plugin.ValidateConfig(ctx, source.Instance{ID: "m", ConfigVersion: 1, Config: json.RawMessage(bad)})
	se := source.AsError(err)
	if se.Kind != source.KindInvalidConfig || len(se.FieldErrors) != 1 {
		t.Fatalf("bad mapping: %v", err)
	}
	fe := se.FieldErrors[0]
	// One position, in words, in the text the admin edits, then that line with a caret under the column.
	want := "Line 2, column 13: undefined field 'is_ownr'\ngroups: user.is_ownr ? [\"admins\"] : []\n            ^"
	if fe.Field != "mappings.roles.groups" || fe.Line != 1 || fe.Column != 5 || fe.Message != want {
		t.Fatalf("field error %+v\nwant message %q", fe, want)
	}

	inst := e.membersConfig(`,"mappings":"[roles]\ngroups: user.is_owner || user.username == \"frank\" ? [\"admins\"] : []\n[gate]\ncondition: user.email != \"\" \ndeny_message: An email address is required.\n"`)
	id, err := e.login(inst, "friend")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(id.Groups, ",") != "admins,plex-friend,plex-server:Living Room" {
		t.Fatalf("groups %v", id.Groups)
	}

	// The preview needs no login: a pasted document, or a user of the owner's list.
	draft := json.RawMessage(`{"mappings":"[x]\nname: user.title + \" (preview)\"\n"}`)
	pr, err := e.plugin.PreviewMapping(ctx, inst, source.PreviewRequest{Mappings: draft,
		Sample: json.RawMessage(`{"id": 77, "username": "pat", "title": "Pat", "email": "", "authToken": "secret-x"}`)})
	if err != nil || len(pr.Errors) != 0 || pr.Identity.Name != "Pat (preview)" || pr.Identity.Subject != "77" {
		t.Fatalf("preview: %+v %v", pr, err)
	}
	if strings.Contains(string(pr.Identity.Raw), "secret-x") {
		t.Fatal("preview returned a token")
	}
	pr, err = e.plugin.PreviewMapping(ctx, inst, source.PreviewRequest{SampleUserID: "2002"})
	if err != nil || pr.Identity.PreferredUsername != "paula" || strings.Join(pr.Identity.Groups, ",") != "plex-friend" {
		t.Fatalf("preview of owner-list user: %+v %v", pr.Identity, err)
	}
	pr, err = e.plugin.PreviewMapping(ctx, inst, source.PreviewRequest{Mappings: json.RawMessage(`{"mappings":"name: 1 +"}`), Sample: json.RawMessage(`{"id":1}`)})
	if err != nil || len(pr.Errors) == 0 || pr.Errors[0].Field != "mappings.custom.name" {
		t.Fatalf("preview of a broken draft: %+v %v", pr, err)
	}
}

func TestMappingConditionCannotAdmit(t *testing.T) {
	e := newEnv(t)
	inst := e.membersConfig(`,"mappings":"[open]\ncondition: true\n"`)
	if _, err := e.login(inst, "noshare"); source.KindOf(err) != source.KindAccessDenied {
		t.Fatalf("a condition admitted someone the policy refused: %v", err)
	}
	gate := e.membersConfig(`,"mappings":"[gate]\ncondition: user.plex_pass\ndeny_message: Plex Pass members only.\n"`)
	_, err := e.login(gate, "friend")
	if se := source.AsError(err); se.Kind != source.KindAccessDenied || se.ReasonCode != "mapping_condition" || se.UserText != "Plex Pass members only." {
		t.Fatalf("condition did not deny: %v", err)
	}
	if _, err := e.login(gate, "owner"); err != nil {
		t.Fatalf("owner with Plex Pass: %v", err)
	}
}

func TestHomeProfilePicker(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig(`,"home_profiles":true`)
	id, err := e.login(inst, "owner")
	if err != nil || id.Step == nil {
		t.Fatalf("no profile step: %+v %v", id, err)
	}
	labels := []string{}
	for _, c := range id.Step.Choices {
		labels = append(labels, c.Label)
	}
	if strings.Join(labels, ",") != "Olivia Owner,Kid" {
		t.Fatalf("choices %v", labels)
	}
	again, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: "60718293a4b5c6d7", Values: map[string]string{"pin": "0000"}})
	if err != nil || again.Step == nil || again.Step.Error != "That PIN is not right." {
		t.Fatalf("wrong PIN: %+v %v", again, err)
	}
	kid, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: again.Step.State, Choice: "60718293a4b5c6d7", Values: map[string]string{"pin": "1234"}})
	if err != nil || kid.Subject != "3002" || kid.Email != "" || !strings.Contains(strings.Join(kid.Groups, ","), "plex-managed") {
		t.Fatalf("managed profile: %+v %v", kid, err)
	}
	// The first step's state was answered (wrong PIN): it cannot be answered again.
	if _, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: "self"}); source.KindOf(err) != source.KindReplayed {
		t.Fatalf("step state reused after a wrong PIN: %v", err)
	}
	id, err = e.login(inst, "owner")
	if err != nil || id.Step == nil {
		t.Fatalf("no profile step: %+v %v", id, err)
	}
	self, err := e.plugin.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: "self"})
	if err != nil || self.Subject != "1001" {
		t.Fatalf("the account itself: %+v %v", self, err)
	}
	// No managed profile in the Home: no step.
	if id, err := e.login(inst, "friend"); err != nil || id.Step != nil || id.Subject != "2001" {
		t.Fatalf("friend: %+v %v", id, err)
	}
	// Fail closed when the Home list cannot be read.
	e.sim.Inject("home.users", plexsim.Fault503, -1)
	_, err = e.login(e.membersConfig(`,"home_profiles":true,"request_timeout_seconds":1`), "owner")
	if se := source.AsError(err); se.Kind != source.KindUpstreamUnavailable || se.ReasonCode != "home_profiles_unavailable" {
		t.Fatalf("Home list failing: %v", err)
	}
}

func TestPlexBinaryRunByHand(t *testing.T) {
	m, err := loader.ReadManifest(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(m.ExecutablePath())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "This binary is a plugin") {
		t.Fatalf("exit %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}

func TestSecondOwnerAccount(t *testing.T) {
	e := newEnv(t)
	hank := e.sim.Token("otherhome")
	only := e.instance(`{"access_mode":"owner","owner_token":"OWNER","allowed_servers":[{"machine_id":"` + plexsim.ServerLivingRoom + `"}]}`)
	if _, err := e.login(only, "otherhome"); source.KindOf(err) != source.KindAccessDenied {
		t.Fatalf("not an owner yet: %v", err)
	}
	both := e.instance(`{"access_mode":"owner","owner_token":"OWNER","additional_owner_tokens":["` + hank + `"],"allowed_servers":[{"machine_id":"` +
		plexsim.ServerLivingRoom + `"}]}`)
	for _, persona := range []string{"owner", "otherhome"} {
		id, err := e.login(both, persona)
		if err != nil || id.Decision.ReasonCode != "owner" {
			t.Fatalf("%s with two owner accounts: %v", persona, err)
		}
	}
}

func TestRevalidateWithKeptUserToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inst := e.membersConfig(`,"plex_web_sso":true`)
	id, err := e.login(inst, "friend")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(id.RevalidationState), `"token":"sim`) {
		t.Fatal("user token not kept although the admin opted in")
	}
	rv, err := e.plugin.Revalidate(ctx, inst, source.RevalidateRequest{Subject: "2001", State: id.RevalidationState})
	if err != nil || rv.Status != source.RevalidationAllowed {
		t.Fatalf("still shared: %v %v", rv.Status, err)
	}
	// The share is removed: the user's own resources no longer list the server.
	e.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	fresh := e.membersConfig(`,"plex_web_sso":true`)
	fresh.ID = "fresh-owner-cache"
	rv, err = e.plugin.Revalidate(ctx, fresh, source.RevalidateRequest{Subject: "2001", State: id.RevalidationState})
	if err != nil || rv.Status != source.RevalidationRevoked {
		t.Fatalf("share removed: %v %v", rv.Status, err)
	}
	// plex.tv down: unknown, never revoked.
	e.sim.Inject("resources", plexsim.Fault503, -1)
	down := e.membersConfig(`,"plex_web_sso":true,"request_timeout_seconds":1`)
	down.ID = "down"
	rv, err = e.plugin.Revalidate(ctx, down, source.RevalidateRequest{Subject: "2001", State: id.RevalidationState})
	if err != nil || rv.Status != source.RevalidationUnknown {
		t.Fatalf("plex.tv down: %v %v", rv.Status, err)
	}
}

// A draft source (no client identifier saved yet) survives a plugin restart in the middle
// of "load servers", and a changed draft is not answered from an older draft's settings.
func TestLoadServersAcrossRestartAndDrafts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	draft := source.Instance{ID: "draft-src", ConfigVersion: -7, Config: json.RawMessage(`{"access_mode":"members"}`)}
	res, err := e.plugin.RunAction(ctx, draft, source.ActionRequest{ActionID: "load_servers", CallbackURL: callback})
	if err != nil || res.Redirect == nil {
		t.Fatalf("load servers: %v", err)
	}
	code, _, _ := plexsim.ForwardURL(res.Redirect.URL)
	_ = e.sim.Claim(code, "owner")
	if err := syscall.Kill(e.plugin.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	res, err = e.plugin.RunAction(ctx, draft, source.ActionRequest{ActionID: "load_servers", State: res.Redirect.State})
	if err != nil || res.Choices == nil || len(res.Choices.Options) != 2 {
		t.Fatalf("after a restart: %+v %v", res, err)
	}
	var patch map[string]string
	_ = json.Unmarshal(res.Choices.Patch, &patch)
	check := func(d source.Instance) string {
		r, err := e.plugin.RunAction(ctx, d, source.ActionRequest{ActionID: "owner_token_health"})
		if err != nil || r.Message == nil {
			t.Fatalf("health: %v", err)
		}
		return r.Message.Level
	}
	if level := check(draft); level != "warning" { // no owner token in this draft
		t.Fatalf("draft without token: %s", level)
	}
	withToken := draft
	withToken.ConfigVersion, withToken.Config = -8, json.RawMessage(`{"access_mode":"members","owner_token":"`+patch["owner_token"]+`"}`)
	if level := check(withToken); level != "info" {
		t.Fatalf("the newer draft was answered from the older one: %s", level)
	}
}

// TestManifestEnvReachesPlugin: with no ExtraEnv, the plex.tv addresses the manifest declares
// reach the plugin from the host's environment.
func TestManifestEnvReachesPlugin(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	// clients.plex.tv is the same simulator behind a proxy that counts what reaches it.
	var viaClients atomic.Int64
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	clients := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		viaClients.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(clients.Close)
	t.Setenv("PLEX_TV_URL", srv.URL)
	t.Setenv("PLEX_APP_URL", srv.URL)
	t.Setenv("PLEX_CLIENTS_URL", clients.URL)
	p, err := loader.Load(manifestPath, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if !slices.Equal(p.Manifest.Env, []string{"PLEX_TV_URL", "PLEX_APP_URL", "PLEX_CLIENTS_URL"}) {
		t.Fatalf("manifest env = %v", p.Manifest.Env)
	}
	e := &env{t: t, sim: sim, url: srv.URL, plugin: p, owner: sim.Token("owner")}
	st, err := p.BeginLogin(context.Background(), e.membersConfig(""), source.BeginLogin{CallbackURL: callback})
	if err != nil || !strings.HasPrefix(st.RedirectURL, srv.URL) || sim.Counts()["pins.create"] != 1 || viaClients.Load() != 0 {
		t.Fatalf("begin login against the simulator: %+v %v, counts %v", st, err, sim.Counts())
	}
	inst, _ := e.legacyConfig("plex-env")
	e.upgrade(inst)
	if viaClients.Load() == 0 {
		t.Fatal("the device-key calls did not go to PLEX_CLIENTS_URL")
	}
}
