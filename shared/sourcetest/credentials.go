package sourcetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/shared/source"
)

// undeclaredKind is a credential kind no plugin declares.
const undeclaredKind = "conformance.undeclared"

// testCredentials (contract 1.2): credential kinds come only with the capability, are
// described completely (their name and upstream: contract 1.5) and turned on by a boolean setting; a login hands over only kinds
// that are turned on and asked for.
func testCredentials(t *testing.T, ctx context.Context, f Fixtures, d source.Descriptor, inst source.Instance) {
	if !d.Has(source.CapCredentials) {
		if len(d.CredentialKinds) > 0 {
			t.Errorf("credential kinds %v declared without the %q capability", d.CredentialKinds, source.CapCredentials)
		}
		if f.Login != nil {
			if id, err := f.Login(ctx, f.Source, inst, []string{undeclaredKind}); err == nil && len(id.Credentials) > 0 {
				t.Errorf("a plugin without the %q capability handed over %v", source.CapCredentials, id.Credentials)
			}
		}
		return
	}
	kinds := checkKinds(t, d)
	if t.Failed() {
		return
	}
	if f.Login == nil {
		t.Fatalf("the plugin declares %q but the fixtures give no Login", source.CapCredentials)
	}
	on, off := withFields(t, ctx, f, d, inst, true), withFields(t, ctx, f, d, inst, false)
	login := func(name string, inst source.Instance, want []string) []source.Credential {
		t.Helper()
		id, err := f.Login(ctx, f.Source, inst, want)
		if err != nil {
			t.Fatalf("%s: login: %v", name, err)
		}
		if id.Step != nil {
			t.Fatalf("%s: Login must complete a login, got a step", name)
		}
		return id.Credentials
	}
	if got := login("turned on, nothing asked for", on, nil); len(got) > 0 {
		t.Errorf("turned on, nothing asked for: handed over %v", got)
	}
	if got := login("turned on, another kind asked for", on, []string{undeclaredKind}); len(got) > 0 {
		t.Errorf("turned on, only an undeclared kind asked for: handed over %v", got)
	}
	if got := login("turned off, every kind asked for", off, kinds); len(got) > 0 {
		t.Errorf("turned off, every kind asked for: handed over %v", got)
	}
	got := login("turned on, every kind asked for", on, append([]string{undeclaredKind}, kinds...))
	if len(got) == 0 {
		t.Fatal("turned on, every kind asked for: nothing handed over (the fixture's Login must be a login that can)")
	}
	seen := map[string]bool{}
	for _, c := range got {
		if !source.Wants(kinds, c.Kind) || seen[c.Kind] || c.Value == "" {
			t.Errorf("handed over %v: each credential must be of a declared kind asked for, once, with a value", c)
		}
		seen[c.Kind] = true
	}
	if r, ok := f.Source.(source.CredentialRevoker); ok && len(got) > 0 {
		testRevoke(t, ctx, r, on, got[0])
	}
}

// checkKinds checks every declared kind is complete, once, and named by a boolean setting.
func checkKinds(t *testing.T, d source.Descriptor) []string {
	if len(d.CredentialKinds) == 0 {
		t.Errorf("the %q capability is declared without credential kinds", source.CapCredentials)
	}
	var schema struct {
		Properties map[string]struct {
			Type string `json:"type"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(d.ConfigSchema, &schema)
	var kinds []string
	for _, k := range d.CredentialKinds {
		if k.Kind == "" || k.App == "" || k.StorageKey == "" || k.Description == "" {
			t.Errorf("credential kind %+v: kind, app, storage key and description must be set", k)
		}
		if k.Name == "" || k.Upstream == "" {
			t.Errorf("credential kind %s: name and upstream, the words a host says it in, must be set (contract 1.5)", k.Kind)
		}
		if !strings.HasPrefix(k.StartPath, "/") {
			t.Errorf("credential kind %s: start path %q must be an absolute path", k.Kind, k.StartPath)
		}
		if source.Wants(kinds, k.Kind) {
			t.Errorf("credential kind %s is declared twice", k.Kind)
		}
		if p, ok := schema.Properties[k.ConfigField]; !ok || p.Type != "boolean" {
			t.Errorf("credential kind %s: config field %q must be a top-level boolean setting of the schema", k.Kind, k.ConfigField)
		}
		kinds = append(kinds, k.Kind)
	}
	return kinds
}

// withFields is inst validated with every credential kind's config field set to on.
func withFields(t *testing.T, ctx context.Context, f Fixtures, d source.Descriptor, inst source.Instance, on bool) source.Instance {
	var m map[string]any
	if err := json.Unmarshal(inst.Config, &m); err != nil {
		t.Fatalf("the valid config: %v", err)
	}
	for _, k := range d.CredentialKinds {
		m[k.ConfigField] = on
	}
	raw, _ := json.Marshal(m)
	out := inst
	out.ID, out.Config = "conformance-credentials", raw
	out.ConfigVersion = 2
	if on {
		out.ConfigVersion = 3
	}
	norm, err := f.Source.ValidateConfig(ctx, out)
	if err != nil {
		t.Fatalf("the valid config with credentials turned on=%t: %v", on, err)
	}
	out.Config = norm
	return out
}

// testRevoke: revoking a handed-over credential succeeds, and again (already invalid is no
// error); a kind the plugin never declared is refused.
func testRevoke(t *testing.T, ctx context.Context, r source.CredentialRevoker, inst source.Instance, c source.Credential) {
	err := r.RevokeCredential(ctx, inst, c)
	if source.KindOf(err) == source.KindUnimplemented {
		return
	}
	if err != nil {
		t.Errorf("revoking a handed-over %s: %v", c.Kind, err)
	}
	if err := r.RevokeCredential(ctx, inst, c); err != nil {
		t.Errorf("revoking an already revoked %s: %v", c.Kind, err)
	}
	if err := r.RevokeCredential(ctx, inst, source.Credential{Kind: undeclaredKind, Value: "x"}); err == nil {
		t.Error("revoking an undeclared kind succeeded")
	}
}
