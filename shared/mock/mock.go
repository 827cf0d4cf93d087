// Package mock is a plugin implementing every call of the contract with no upstream,
// for host tests and as the conformance kit's reference (as Vault's sdk/plugin/mock).
package mock

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/plexlogin/plexlogin/shared/source"
)

// SchemaVersion is the current config schema version of the mock.
const SchemaVersion = 2

// Config is the mock's config. Version 1 called Greeting "salutation".
type Config struct {
	SchemaVersion int    `json:"schema_version"`
	Greeting      string `json:"greeting"`
	APIKey        string `json:"api_key"`
	Mode          string `json:"mode"`
	ClientID      string `json:"client_id"`
	// Lease is a credential that expires (contract 1.4): "<unix expiry>.<random>", or
	// "revoked" (the upstream refuses to renew it); empty: nothing expires.
	Lease string `json:"lease,omitempty"`
}

// schema is the mock's config schema, written with the contract's vocabulary.
var schema = func() json.RawMessage {
	raw, err := source.NewSchemaBuilder("Mock source").
		Property("schema_version", source.FieldExtensions{}, map[string]any{"type": "integer", "title": "Schema version", "default": 2, "readOnly": true}).
		Property("greeting", source.FieldExtensions{}, map[string]any{"type": "string", "title": "Greeting", "description": "Shown after login.",
			"default": "Hello", "maxLength": 100}).
		Property("api_key", source.FieldExtensions{}, map[string]any{"type": "string", "title": "API key", "description": "A secret the mock checks.",
			"writeOnly": true, "minLength": 1}).
		Property("mode", source.FieldExtensions{}, map[string]any{"type": "string", "title": "Who may log in", "default": "open",
			"oneOf": []map[string]any{{"const": "open", "title": "Anyone"}, {"const": "closed", "title": "Nobody"}}}).
		Property("client_id", source.FieldExtensions{}, map[string]any{"type": "string", "title": "Client identifier", "description": "Generated once.",
			"readOnly": true}).
		Property("lease", source.FieldExtensions{}, map[string]any{"type": "string", "title": "Lease",
			"description": "A credential that expires and is renewed.", "writeOnly": true}).
		Require("api_key").
		Action(source.SchemaAction{ID: "connect", Title: "Connect", Kind: source.ActionKindRedirect, Description: "Round trip through the callback."}).
		Action(source.SchemaAction{ID: "env", Title: "Show an environment variable", Kind: source.ActionKindMessage}).
		Attribute("greeting", "Greeting after login").
		Build()
	if err != nil {
		panic("mock: " + err.Error()) // a fixed schema: the tests catch this
	}
	return raw
}()

// Plugin is the mock source.
type Plugin struct {
	mu   sync.Mutex
	done map[string]time.Time
}

// New returns a mock plugin.
func New() *Plugin { return &Plugin{done: map[string]time.Time{}} }

var _ source.Full = (*Plugin)(nil)

// Ping is a no-op.
func (p *Plugin) Ping(context.Context) error { return nil }

// Describe describes the mock.
func (p *Plugin) Describe(context.Context) (source.Descriptor, error) {
	return source.Descriptor{ID: "mock", Name: "Mock", Version: "1.0.0", ProtocolVersion: source.ProtocolVersion,
		Capabilities: []string{source.CapRedirectLogin, source.CapPasswordLogin, source.CapLoginSteps, source.CapRevalidate, source.CapActions,
			source.CapMappingPreview, source.CapRenew},
		Icon: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=", ConfigSchema: schema}, nil
}

func decode(raw json.RawMessage) (Config, error) {
	var c Config
	var generic map[string]json.RawMessage
	if err := json.Unmarshal(raw, &generic); err != nil {
		return c, source.InvalidConfig(source.FieldError{Field: "", Message: "config is not a JSON object: " + err.Error()})
	}
	// Migrate version 1: "salutation" became "greeting".
	if v, ok := generic["salutation"]; ok {
		if _, has := generic["greeting"]; !has {
			generic["greeting"] = v
		}
		delete(generic, "salutation")
	}
	var fields []source.FieldError
	for k := range generic {
		switch k {
		case "schema_version", "greeting", "api_key", "mode", "client_id", "lease":
		default:
			fields = append(fields, source.FieldError{Field: k, Message: "unknown setting"})
		}
	}
	b, _ := json.Marshal(generic)
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil {
		fields = append(fields, source.FieldError{Field: "", Message: err.Error()})
	}
	if strings.TrimSpace(c.APIKey) == "" {
		fields = append(fields, source.FieldError{Field: "api_key", Message: "is required"})
	}
	if c.Mode == "" {
		c.Mode = "open"
	}
	if c.Mode != "open" && c.Mode != "closed" {
		fields = append(fields, source.FieldError{Field: "mode", Message: `must be "open" or "closed"`})
	}
	if len(c.Greeting) > 100 {
		fields = append(fields, source.FieldError{Field: "greeting", Message: "is longer than 100 characters"})
	}
	if len(fields) > 0 {
		return c, source.InvalidConfig(fields...)
	}
	return c, nil
}

// ValidateConfig checks, migrates and normalizes a config, generating client_id once.
func (p *Plugin) ValidateConfig(_ context.Context, inst source.Instance) (json.RawMessage, error) {
	c, err := decode(inst.Config)
	if err != nil {
		return nil, err
	}
	c.SchemaVersion = SchemaVersion
	if c.Greeting == "" {
		c.Greeting = "Hello"
	}
	if c.ClientID == "" {
		c.ClientID = randomHex(16)
	}
	return json.Marshal(c)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type loginState struct {
	Nonce    string `json:"nonce"`
	ClientID string `json:"client_id"`
	Expires  int64  `json:"expires"`
}

// BeginLogin sends the browser straight back to the callback with a code.
func (p *Plugin) BeginLogin(_ context.Context, inst source.Instance, req source.BeginLogin) (source.LoginStart, error) {
	c, err := decode(inst.Config)
	if err != nil {
		return source.LoginStart{}, err
	}
	u, err := url.Parse(req.CallbackURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return source.LoginStart{}, source.Errorf(source.KindInvalidRequest, "bad_callback", "", "callback URL must be an absolute http(s) URL")
	}
	st := loginState{Nonce: randomHex(16), ClientID: c.ClientID, Expires: time.Now().Add(10 * time.Minute).Unix()}
	q := u.Query()
	q.Set("code", "mock-"+st.Nonce[:8])
	u.RawQuery = q.Encode()
	b, _ := json.Marshal(st)
	return source.LoginStart{RedirectURL: u.String(), State: b, ExpiresAt: time.Unix(st.Expires, 0)}, nil
}

// CompleteLogin returns the user named by the callback's "user" parameter. The parameter
// "error" with a kind name returns that kind instead.
func (p *Plugin) CompleteLogin(_ context.Context, inst source.Instance, req source.CompleteLogin) (source.Identity, error) {
	c, err := decode(inst.Config)
	if err != nil {
		return source.Identity{}, err
	}
	var st loginState
	if err := json.Unmarshal(req.State, &st); err != nil || st.Nonce == "" {
		return source.Identity{}, source.Errorf(source.KindInvalidRequest, "bad_state", "This login link is not valid. Please start again.", "login state is unreadable")
	}
	if time.Now().Unix() > st.Expires {
		return source.Identity{}, source.Errorf(source.KindExpired, "login_expired", "This login has expired. Please start again.", "login state expired")
	}
	if req.CallbackQuery["code"] != "mock-"+st.Nonce[:8] {
		return source.Identity{}, source.Errorf(source.KindInvalidRequest, "code_mismatch", "This login link is not valid. Please start again.", "callback code does not match the login state")
	}
	if k := req.CallbackQuery["error"]; k != "" {
		return source.Identity{}, errorOfKind(k)
	}
	if !p.markDone(st.Nonce) {
		return source.Identity{}, source.Errorf(source.KindReplayed, "login_replayed", "This login was already used. Please start again.", "login state completed before")
	}
	user := req.CallbackQuery["user"]
	if user == "" {
		user = "alice"
	}
	if req.CallbackQuery["step"] != "" {
		return source.Identity{Step: p.colourStep(user, "")}, nil
	}
	return p.identity(c, user)
}

// colourStep asks the user to pick a colour and type the code 42.
func (p *Plugin) colourStep(user, errText string) *source.LoginStep {
	return &source.LoginStep{Title: "Pick a colour", Text: "And type the code.", Error: errText, State: []byte(user),
		Choices: []source.Choice{{Value: "red", Label: "Red"}, {Value: "blue", Label: "Blue"}},
		Fields:  []source.StepField{{Name: "code", Title: "Code", Secret: true, InputMode: "numeric"}}, ExpiresAt: time.Now().Add(5 * time.Minute)}
}

// ContinueLogin answers the colour step: code 42 finishes the login, anything else asks again.
func (p *Plugin) ContinueLogin(_ context.Context, inst source.Instance, req source.ContinueLogin) (source.Identity, error) {
	c, err := decode(inst.Config)
	if err != nil {
		return source.Identity{}, err
	}
	user := string(req.State)
	if user == "" || (req.Choice != "red" && req.Choice != "blue") {
		return source.Identity{}, source.Errorf(source.KindInvalidRequest, "bad_step_answer", "Please start again.", "step state or choice missing")
	}
	if req.Values["code"] != "42" {
		return source.Identity{Step: p.colourStep(user, "That code is not right.")}, nil
	}
	id, err := p.identity(c, user)
	id.Groups = append(id.Groups, "colour-"+req.Choice)
	return id, err
}

func (p *Plugin) markDone(nonce string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for k, t := range p.done {
		if now.Sub(t) > time.Hour {
			delete(p.done, k)
		}
	}
	if _, ok := p.done[nonce]; ok {
		return false
	}
	p.done[nonce] = now
	return true
}

func (p *Plugin) identity(c Config, user string) (source.Identity, error) {
	if exp, ok := leaseExpiry(c.Lease); ok && !time.Now().Before(exp) {
		return source.Identity{}, source.ExpiredSourceCredentials("The sign-in service is unavailable right now. Please try again.",
			"the lease expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if c.Mode == "closed" {
		return source.Identity{}, &source.Error{Kind: source.KindAccessDenied, ReasonCode: "closed", UserText: "This source admits nobody.",
			AdminDetail: "mode is closed", Subject: "mock-" + user, DisplayName: user}
	}
	raw, _ := json.Marshal(map[string]any{"user": user, "greeting": c.Greeting})
	attrs, _ := json.Marshal(map[string]any{"greeting": c.Greeting})
	return source.Identity{Subject: "mock-" + user, PreferredUsername: user, Email: user + "@example.test", EmailVerified: true,
		Name: strings.ToUpper(user[:1]) + user[1:], Groups: []string{"mock-users"}, Attributes: attrs, Raw: raw,
		Decision:          source.Decision{Allowed: true, ReasonCode: "open", UserText: "Welcome.", AdminDetail: "mode is open"},
		RevalidationState: []byte(user)}, nil
}

func errorOfKind(name string) error {
	for _, k := range source.AllKinds {
		if k.String() == name {
			e := source.Errorf(k, "provoked_"+name, "Provoked "+name+".", "the callback asked for %s", name)
			e.Retryable = k == source.KindPending || k == source.KindUpstreamUnavailable || k == source.KindRateLimited
			if k == source.KindInvalidConfig {
				e.FieldErrors = []source.FieldError{{Field: "greeting", Message: "provoked", Line: 1, Column: 2}}
			}
			return e
		}
	}
	return source.Errorf(source.KindInvalidRequest, "unknown_error_kind", "", "no error kind %q", name)
}

// PasswordLogin admits any login whose password is "secret"; OTP "000000" is required for "otp-user".
func (p *Plugin) PasswordLogin(_ context.Context, inst source.Instance, cred source.Credentials) (source.Identity, error) {
	c, err := decode(inst.Config)
	if err != nil {
		return source.Identity{}, err
	}
	if cred.Password != "secret" || cred.Login == "" {
		return source.Identity{}, source.Errorf(source.KindInvalidCredentials, "wrong_password", "Wrong login or password.", "password mismatch")
	}
	if cred.Login == "otp-user" && cred.OTP != "000000" {
		return source.Identity{}, source.Errorf(source.KindSecondFactorRequired, "otp_required", "Enter your one-time code.", "otp missing or wrong")
	}
	return p.identity(c, cred.Login)
}

// Revalidate revokes subjects whose login was "revoked" and answers unknown for "unknown".
func (p *Plugin) Revalidate(_ context.Context, _ source.Instance, req source.RevalidateRequest) (source.Revalidation, error) {
	switch string(req.State) {
	case "revoked":
		return source.Revalidation{Status: source.RevalidationRevoked, Decision: source.Decision{ReasonCode: "revoked"}}, nil
	case "unknown":
		return source.Revalidation{Status: source.RevalidationUnknown, Decision: source.Decision{ReasonCode: "upstream_unavailable"}}, nil
	}
	return source.Revalidation{Status: source.RevalidationAllowed, Decision: source.Decision{Allowed: true, ReasonCode: "open"}}, nil
}

// RunAction runs "connect" (a redirect round trip ending in a config patch) and "env".
func (p *Plugin) RunAction(_ context.Context, inst source.Instance, req source.ActionRequest) (source.ActionResult, error) {
	switch req.ActionID {
	case "connect":
		if len(req.State) == 0 {
			nonce := randomHex(8)
			return source.ActionResult{Redirect: &source.ActionRedirect{URL: req.CallbackURL + "?code=" + nonce, State: []byte(nonce),
				ExpiresAt: time.Now().Add(10 * time.Minute)}}, nil
		}
		if req.CallbackQuery["code"] != string(req.State) {
			return source.ActionResult{}, source.Errorf(source.KindInvalidRequest, "code_mismatch", "", "callback code does not match")
		}
		return source.ActionResult{Choices: &source.ActionChoices{Field: "greeting", Options: []source.Choice{
			{Value: "Hello", Label: "Hello"}, {Value: "Welcome", Label: "Welcome", Description: "More formal"}},
			Patch: json.RawMessage(`{"api_key":"from-connect"}`)}}, nil
	case "env":
		var in struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(req.Input, &in)
		v, ok := os.LookupEnv(in.Name)
		if !ok {
			v = "<unset>"
		}
		return source.ActionResult{Message: &source.ActionMessage{Text: v, Level: "info"}}, nil
	}
	return source.ActionResult{}, source.Errorf(source.KindInvalidRequest, "unknown_action", "", "no action %q", req.ActionID)
}

// PreviewMapping returns the identity of the sample's "user" with the draft's "groups" appended.
func (p *Plugin) PreviewMapping(_ context.Context, inst source.Instance, req source.PreviewRequest) (source.PreviewResult, error) {
	c, err := decode(inst.Config)
	if err != nil {
		return source.PreviewResult{}, err
	}
	var sample struct {
		User string `json:"user"`
	}
	var draft struct {
		Groups []string `json:"groups"`
	}
	if err := json.Unmarshal(req.Mappings, &draft); err != nil && len(req.Mappings) > 0 {
		return source.PreviewResult{Errors: []source.FieldError{{Field: "mappings", Message: err.Error(), Line: 1, Column: 1}}}, nil
	}
	_ = json.Unmarshal(req.Sample, &sample)
	if sample.User == "" {
		sample.User = "alice"
	}
	id, err := p.identity(Config{Greeting: c.Greeting, Mode: "open"}, sample.User)
	if err != nil {
		return source.PreviewResult{}, fmt.Errorf("preview: %w", err)
	}
	id.Groups = append(id.Groups, draft.Groups...)
	return source.PreviewResult{Identity: id}, nil
}
