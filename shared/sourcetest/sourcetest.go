// Package sourcetest is the conformance kit of the contract: a suite any plugin
// runs against a started instance of itself (as Dex's storage/conformance).
package sourcetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/plexlogin/plexlogin/shared/source"
)

// BadConfig is a config that must be refused with errors on the given fields.
type BadConfig struct {
	Name   string
	Config string
	Fields []string
}

// ErrorCase provokes one error kind; Skip explains why a plugin cannot.
type ErrorCase struct {
	Provoke func(ctx context.Context, src source.Full, inst source.Instance) error
	Skip    string
	// Fields, when set, are field errors that must survive the wire.
	Fields []string
	// Subject, when set, requires the error to say who it was about (Subject and DisplayName):
	// a refused login whose person the plugin knows must name them for the host's events.
	Subject bool
}

// Fixtures is what a plugin gives the kit.
type Fixtures struct {
	// Source is a started plugin (normally a loader.Plugin over a real process).
	Source source.Full
	// ValidConfig is a complete valid config.
	ValidConfig string
	// BadConfigs must each be refused with per-field errors.
	BadConfigs []BadConfig
	// Errors maps every kind in source.AllKinds to a way to provoke it or a reason to skip.
	Errors map[source.Kind]ErrorCase
	// CallbackURL is the host callback used for BeginLogin; default http://127.0.0.1:1/callback.
	CallbackURL string
	// Login completes one successful login against inst asking for the credential kinds in
	// want. A plugin that declares source.CapCredentials must give it, for a person whose
	// login can hand over every declared kind when its config field is on.
	Login func(ctx context.Context, src source.Full, inst source.Instance, want []string) (source.Identity, error)
	// GuardedStep, for a plugin whose login steps guard guesses (contract 1.3), logs in up to
	// a step with a guarded choice (inst, or an instance of its own with what such a step
	// needs turned on) and gives a wrong answer to that choice, its State left empty.
	GuardedStep func(ctx context.Context, src source.Full, inst source.Instance) (source.Instance, *source.LoginStep, source.ContinueLogin, error)
	// Renewing, for a plugin that declares source.CapRenew (contract 1.4), is inst (or an
	// instance of its own) with credentials that expire, ready to be renewed.
	Renewing func(ctx context.Context, src source.Full, inst source.Instance) (source.Instance, error)
	// ExpiredCredentials, for a plugin that declares source.CapRenew, makes a call fail
	// because the source's own credentials expired early, and returns its error.
	ExpiredCredentials func(ctx context.Context, src source.Full, inst source.Instance) error
	// OtherSource, for a plugin that declares source.CapGlobalSubject (contract 1.6), is a
	// second source of the plugin (another instance id and config) that admits the person
	// Login logs in as.
	OtherSource func(ctx context.Context, src source.Full, inst source.Instance) (source.Instance, error)
}

// Run runs the whole kit.
func Run(t *testing.T, f Fixtures) {
	t.Helper()
	if f.CallbackURL == "" {
		f.CallbackURL = "http://127.0.0.1:1/callback"
	}
	ctx := context.Background()
	var desc source.Descriptor
	t.Run("Describe", func(t *testing.T) { desc = testDescribe(t, ctx, f) })
	var sch *jsonschema.Schema
	t.Run("SchemaCompiles", func(t *testing.T) { sch = compileSchema(t, desc.ConfigSchema) })
	// The extensions a host renders: only the vocabulary's keys, each in its place and shape.
	t.Run("SchemaVocabulary", func(t *testing.T) {
		if err := source.CheckSchema(desc.ConfigSchema); err != nil {
			t.Errorf("config schema's extensions: %v", err)
		}
	})
	var inst source.Instance
	t.Run("ValidConfig", func(t *testing.T) { inst = testValidConfig(t, ctx, f, sch) })
	t.Run("BadConfigs", func(t *testing.T) { testBadConfigs(t, ctx, f) })
	t.Run("UnknownKeysRejected", func(t *testing.T) { testUnknownKey(t, ctx, f) })
	t.Run("ConfigWarnings", func(t *testing.T) { testWarnings(t, ctx, f, inst) })
	t.Run("BeginLogin", func(t *testing.T) { testBeginLogin(t, ctx, f, inst) })
	t.Run("OptionalCalls", func(t *testing.T) { testOptional(t, ctx, f, desc, inst) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, ctx, f, desc, inst) })
	t.Run("GuessGuards", func(t *testing.T) { testGuessGuards(t, ctx, f, inst) })
	t.Run("Renew", func(t *testing.T) { testRenew(t, ctx, f, desc, inst) })
	t.Run("GlobalSubject", func(t *testing.T) { testGlobalSubject(t, ctx, f, desc, inst) })
	t.Run("ErrorsSurviveTheWire", func(t *testing.T) { testErrors(t, ctx, f, inst) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, ctx, f, inst) })
}

func testDescribe(t *testing.T, ctx context.Context, f Fixtures) source.Descriptor {
	d, err := f.Source.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if d.ID == "" || d.Name == "" || d.Version == "" {
		t.Errorf("Describe: id, name and version must be set, got %q %q %q", d.ID, d.Name, d.Version)
	}
	if d.ProtocolVersion != source.ProtocolVersion {
		t.Errorf("protocol version %d, want %d", d.ProtocolVersion, source.ProtocolVersion)
	}
	if !d.Has(source.CapRedirectLogin) && !d.Has(source.CapPasswordLogin) {
		t.Errorf("capabilities %v name no login", d.Capabilities)
	}
	if d.Icon != "" && !strings.HasPrefix(d.Icon, "data:image/") {
		t.Errorf("icon must be a data:image URL")
	}
	return d
}

func compileSchema(t *testing.T, raw json.RawMessage) *jsonschema.Schema {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("config schema is not JSON: %v", err)
	}
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema is %v, want 2020-12", doc["$schema"])
	}
	if doc["type"] != "object" || doc["additionalProperties"] != false {
		t.Errorf("schema must be an object with additionalProperties false")
	}
	props, _ := doc["properties"].(map[string]any)
	if len(props) == 0 {
		t.Errorf("schema has no properties")
	}
	for name, p := range props {
		pm, _ := p.(map[string]any)
		if pm["title"] == nil {
			t.Errorf("property %s has no title", name)
		}
		if one, ok := pm["oneOf"].([]any); ok {
			for _, o := range one {
				om, _ := o.(map[string]any)
				if _, ok := om["const"]; !ok || om["title"] == nil {
					t.Errorf("property %s: enum labels must be oneOf[{const, title}]", name)
				}
			}
		}
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatalf("schema: %v", err)
	}
	s, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatalf("config schema is not a valid JSON Schema: %v", err)
	}
	return s
}

func instance(cfg string) source.Instance {
	return source.Instance{ID: "conformance", ConfigVersion: 1, Config: json.RawMessage(cfg), Slug: "conformance", Name: "Conformance"}
}

func testValidConfig(t *testing.T, ctx context.Context, f Fixtures, sch *jsonschema.Schema) source.Instance {
	norm, err := f.Source.ValidateConfig(ctx, instance(f.ValidConfig))
	if err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if sch != nil {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(norm))
		if err != nil {
			t.Fatalf("normalized config is not JSON: %v", err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("normalized config does not match the described schema: %v", err)
		}
	}
	again, err := f.Source.ValidateConfig(ctx, instance(string(norm)))
	if err != nil {
		t.Fatalf("normalized config refused on a second validation: %v", err)
	}
	if !jsonEqual(norm, again) {
		t.Errorf("validation is not idempotent:\n%s\n%s", norm, again)
	}
	inst := instance(string(norm))
	return inst
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func fieldsOf(err error) []string {
	var e *source.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.FieldErrors {
		out = append(out, f.Field)
	}
	return out
}

func hasAll(got, want []string) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			if g == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func testBadConfigs(t *testing.T, ctx context.Context, f Fixtures) {
	if len(f.BadConfigs) == 0 {
		t.Fatal("fixtures list no bad configs")
	}
	for _, bc := range f.BadConfigs {
		t.Run(bc.Name, func(t *testing.T) {
			_, err := f.Source.ValidateConfig(ctx, instance(bc.Config))
			if source.KindOf(err) != source.KindInvalidConfig {
				t.Fatalf("got %v, want an invalid-config error", err)
			}
			if got := fieldsOf(err); !hasAll(got, bc.Fields) {
				t.Errorf("field errors on %v, want at least %v", got, bc.Fields)
			}
		})
	}
}

func testUnknownKey(t *testing.T, ctx context.Context, f Fixtures) {
	var m map[string]any
	if err := json.Unmarshal([]byte(f.ValidConfig), &m); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	m["no_such_setting_xyz"] = true
	b, _ := json.Marshal(m)
	_, err := f.Source.ValidateConfig(ctx, instance(string(b)))
	if source.KindOf(err) != source.KindInvalidConfig || !hasAll(fieldsOf(err), []string{"no_such_setting_xyz"}) {
		t.Fatalf("unknown key: got %v, want a field error on no_such_setting_xyz", err)
	}
}

func testBeginLogin(t *testing.T, ctx context.Context, f Fixtures, inst source.Instance) {
	d, _ := f.Source.Describe(ctx)
	if !d.Has(source.CapRedirectLogin) {
		t.Skip("no redirect login")
	}
	st, err := f.Source.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: f.CallbackURL, HostState: "host-state"})
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	u, err := url.Parse(st.RedirectURL)
	if err != nil || !u.IsAbs() {
		t.Fatalf("redirect URL %q is not absolute", st.RedirectURL)
	}
	if len(st.State) == 0 {
		t.Fatal("empty login state")
	}
	if strings.Contains(st.RedirectURL, string(st.State)) {
		t.Error("the opaque login state appears in the browser-visible redirect URL")
	}
	if !st.ExpiresAt.After(time.Now()) {
		t.Errorf("login state expires at %v, in the past", st.ExpiresAt)
	}
	_, err = f.Source.CompleteLogin(ctx, inst, source.CompleteLogin{State: []byte("garbage"), CallbackQuery: map[string]string{}})
	if err == nil {
		t.Error("CompleteLogin accepted a forged login state")
	}
	altered := append([]byte{}, st.State...)
	altered[len(altered)-1] ^= 0x01
	if _, err := f.Source.CompleteLogin(ctx, inst, source.CompleteLogin{State: altered, CallbackQuery: map[string]string{}}); err == nil {
		t.Error("CompleteLogin accepted an altered login state")
	}
	// The callback URL lands in the upstream's redirect: only absolute http(s) is accepted.
	for _, cb := range []string{"javascript:alert(1)", "/relative/callback", "data:text/html,hi"} {
		if _, err := f.Source.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: cb}); source.KindOf(err) != source.KindInvalidRequest {
			t.Errorf("BeginLogin with callback %q: got %v, want invalid_request", cb, err)
		}
	}
}

// retryableKinds are the answers after which a host keeps a login state for another try;
// finalKinds end it.
var (
	retryableKinds = map[source.Kind]bool{source.KindPending: true, source.KindUpstreamUnavailable: true, source.KindRateLimited: true}
	finalKinds     = map[source.Kind]bool{source.KindReplayed: true, source.KindExpired: true, source.KindAccessDenied: true,
		source.KindInvalidRequest: true, source.KindInvalidCredentials: true}
)

func testOptional(t *testing.T, ctx context.Context, f Fixtures, d source.Descriptor, inst source.Instance) {
	calls := map[string]func() error{
		source.CapPasswordLogin: func() error {
			_, err := f.Source.PasswordLogin(ctx, inst, source.Credentials{Login: "conformance-nobody", Password: "wrong"})
			return err
		},
		source.CapLoginSteps: func() error {
			_, err := f.Source.ContinueLogin(ctx, inst, source.ContinueLogin{State: []byte("conformance-forged"), Choice: "x"})
			if err == nil {
				return errors.New("a forged step state was accepted")
			}
			return err
		},
		source.CapRevalidate: func() error {
			_, err := f.Source.Revalidate(ctx, inst, source.RevalidateRequest{Subject: "0"})
			return err
		},
		source.CapActions: func() error {
			_, err := f.Source.RunAction(ctx, inst, source.ActionRequest{ActionID: "conformance-no-such-action"})
			return err
		},
		source.CapMappingPreview: func() error {
			_, err := f.Source.PreviewMapping(ctx, inst, source.PreviewRequest{Sample: json.RawMessage(`{}`)})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			unimpl := source.KindOf(err) == source.KindUnimplemented
			if d.Has(name) && unimpl {
				t.Errorf("capability %s is listed but the call is unimplemented", name)
			}
			if !d.Has(name) && !unimpl {
				t.Errorf("capability %s is not listed but the call answered %v, want unimplemented", name, err)
			}
			if name == source.CapActions && d.Has(name) && source.KindOf(err) != source.KindInvalidRequest {
				t.Errorf("unknown action: got %v, want invalid_request", err)
			}
		})
	}
}

func testErrors(t *testing.T, ctx context.Context, f Fixtures, inst source.Instance) {
	for _, k := range source.AllKinds {
		t.Run(k.String(), func(t *testing.T) {
			c, ok := f.Errors[k]
			if !ok {
				t.Fatalf("fixtures neither provoke nor skip %s", k)
			}
			if c.Provoke == nil {
				if c.Skip == "" {
					t.Fatalf("%s: a skip needs a reason", k)
				}
				t.Skip(c.Skip)
			}
			err := c.Provoke(ctx, f.Source, inst)
			var e *source.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want a *source.Error", err, err)
			}
			if e.Kind != k {
				t.Fatalf("got kind %s (%v), want %s", e.Kind, e, k)
			}
			if e.ReasonCode == "" {
				t.Errorf("%s error has no reason code", k)
			}
			if retryableKinds[k] && !e.Retryable {
				t.Errorf("%s must be retryable: the host keeps the login state only for a retryable answer", k)
			}
			if finalKinds[k] && e.Retryable {
				t.Errorf("%s must not be retryable: the login it answers is over", k)
			}
			if got := fieldsOf(err); !hasAll(got, c.Fields) {
				t.Errorf("field errors %v, want %v", got, c.Fields)
			}
			if c.Subject && (e.Subject == "" || e.DisplayName == "") {
				t.Errorf("%s error does not say whom it refused (subject %q, display name %q)", k, e.Subject, e.DisplayName)
			}
		})
	}
}

func testConcurrent(t *testing.T, ctx context.Context, f Fixtures, inst source.Instance) {
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n*3)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := f.Source.Describe(ctx); err != nil {
				errs <- fmt.Errorf("describe: %w", err)
			}
			other := inst
			other.ID = fmt.Sprintf("conformance-%d", i%4)
			if _, err := f.Source.ValidateConfig(ctx, other); err != nil {
				errs <- fmt.Errorf("validate: %w", err)
			}
			if err := f.Source.Ping(ctx); err != nil {
				errs <- fmt.Errorf("ping: %w", err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testWarnings: ConfigWarnings (added in 1.1) is optional; a plugin that answers it must do
// so for a valid config, and place each warning on a field of the schema or its parts.
func testWarnings(t *testing.T, ctx context.Context, f Fixtures, inst source.Instance) {
	w, ok := f.Source.(source.Warner)
	if !ok {
		t.Skip("the source does not implement source.Warner")
	}
	list, err := w.ConfigWarnings(ctx, inst)
	if source.KindOf(err) == source.KindUnimplemented {
		t.Skip("the plugin gives no warnings")
	}
	if err != nil {
		t.Fatalf("warnings of the valid config: %v", err)
	}
	for _, fe := range list {
		if fe.Field == "" || fe.Message == "" {
			t.Errorf("a warning needs a field and a message: %+v", fe)
		}
	}
}
