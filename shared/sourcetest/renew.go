package sourcetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/source"
)

// testRenew (contract 1.4): RenewSourceCredentials comes only with the capability; with it,
// a config without expiring credentials has nothing to renew, and the fixture's renewing
// config is renewed into secret fields of the schema that ValidateConfig accepts, with the
// next call before the credentials expire, and again from the renewed config; a call that
// fails because the credentials expired says so across the wire.
func testRenew(t *testing.T, ctx context.Context, f Fixtures, d source.Descriptor, inst source.Instance) {
	r, ok := f.Source.(source.Renewer)
	if !d.Has(source.CapRenew) {
		if ok {
			if _, err := r.RenewSourceCredentials(ctx, inst); source.KindOf(err) != source.KindUnimplemented {
				t.Errorf("without the %q capability RenewSourceCredentials must answer unimplemented, got %v", source.CapRenew, err)
			}
		}
		if f.Renewing != nil || f.ExpiredCredentials != nil {
			t.Errorf("the fixtures renew credentials but the plugin does not declare %q", source.CapRenew)
		}
		return
	}
	if !ok {
		t.Fatalf("the plugin declares %q but the source has no RenewSourceCredentials", source.CapRenew)
	}
	if f.Renewing == nil || f.ExpiredCredentials == nil {
		t.Fatalf("the plugin declares %q but the fixtures give no Renewing or ExpiredCredentials", source.CapRenew)
	}
	t.Run("NothingToRenew", func(t *testing.T) {
		got, err := r.RenewSourceCredentials(ctx, inst)
		if err != nil {
			t.Fatalf("renewing the valid config: %v", err)
		}
		checkRenewal(t, got)
	})
	t.Run("Renews", func(t *testing.T) {
		rinst, err := f.Renewing(ctx, f.Source, inst)
		if err != nil {
			t.Fatalf("the renewing fixture: %v", err)
		}
		first := renewOnce(t, ctx, f, r, rinst, true)
		if t.Failed() {
			return
		}
		renewOnce(t, ctx, f, r, first, false)
	})
	t.Run("ExpiredSurvivesTheWire", func(t *testing.T) {
		err := f.ExpiredCredentials(ctx, f.Source, inst)
		if !source.SourceCredentialsExpired(err) {
			t.Fatalf("got %v, want an error marked source_credentials_expired", err)
		}
		if e := source.AsError(err); !e.Retryable || e.ReasonCode == "" {
			t.Errorf("an expired-credentials error must be retryable with a reason code (an older host retries it): %+v", e)
		}
	})
}

// renewOnce renews inst, checks the answer and returns inst with the patch merged and
// validated; due says the fixture's credentials must be renewed now (a patch).
func renewOnce(t *testing.T, ctx context.Context, f Fixtures, r source.Renewer, inst source.Instance, due bool) source.Instance {
	t.Helper()
	got, err := r.RenewSourceCredentials(ctx, inst)
	if err != nil {
		t.Fatalf("renewing: %v", err)
	}
	checkRenewal(t, got)
	if len(got.Credentials) == 0 || got.RenewAfter.IsZero() || (due && len(got.ConfigPatch) == 0) {
		t.Fatalf("the renewing config: want credentials, a patch and a next call, got %d credentials, patch %t, renew after %v",
			len(got.Credentials), len(got.ConfigPatch) > 0, got.RenewAfter)
	}
	for _, c := range got.Credentials {
		if c.Err != nil {
			t.Errorf("credential %s: %v", c.Field, c.Err)
		} else if c.ExpiresAt.IsZero() || !got.RenewAfter.Before(c.ExpiresAt) {
			t.Errorf("credential %s expires at %v: the next call (%v) must come before", c.Field, c.ExpiresAt, got.RenewAfter)
		}
	}
	secret := secretFields(t, f, ctx)
	var patch, cfg map[string]json.RawMessage
	_ = json.Unmarshal(got.ConfigPatch, &patch)
	if err := json.Unmarshal(inst.Config, &cfg); err != nil {
		t.Fatalf("the renewing config: %v", err)
	}
	for k, v := range patch {
		if !secret[k] {
			t.Errorf("the patch sets %q, which is not a secret (writeOnly) property of the schema: renewed credentials are sealed like an admin's secrets", k)
		}
		cfg[k] = v
	}
	merged, _ := json.Marshal(cfg)
	out := inst
	out.Config, out.ConfigVersion = merged, inst.ConfigVersion+1
	norm, err := f.Source.ValidateConfig(ctx, out)
	if err != nil {
		t.Fatalf("the config with the renewal merged: %v", err)
	}
	out.Config = norm
	return out
}

func checkRenewal(t *testing.T, got source.Renewal) {
	t.Helper()
	if err := got.Check(time.Now()); err != nil {
		t.Errorf("renewal: %v", err)
	}
}

// secretFields are the schema's writeOnly top-level properties.
func secretFields(t *testing.T, f Fixtures, ctx context.Context) map[string]bool {
	d, err := f.Source.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	var schema struct {
		Properties map[string]struct {
			WriteOnly bool `json:"writeOnly"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(d.ConfigSchema, &schema)
	out := map[string]bool{}
	for k, p := range schema.Properties {
		out[k] = p.WriteOnly
	}
	return out
}
