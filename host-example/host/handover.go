package host

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Handing over upstream credentials (contract 1.2): a login returns a credential only when
// the host asks for it, and the host asks only when the source's config turns it on (the
// boolean field the plugin names). The host keeps the last one per user and kind, sealed,
// and deletes it when the user's access ends.

// Want are the credential kinds the host asks a login of src for: those its plugin declares
// and src's config turns on.
func Want(src *store.Source, p *Plugin) []string {
	if p == nil || !p.Desc.Has(source.CapCredentials) {
		return nil
	}
	var out []string
	for _, k := range p.Desc.CredentialKinds {
		if handoverOn(src.Config, k) {
			out = append(out, k.Kind)
		}
	}
	return out
}

// handoverOn reports whether cfg turns the handing over of kind k on.
func handoverOn(cfg json.RawMessage, k source.CredentialKind) bool {
	if k.ConfigField == "" || len(cfg) == 0 {
		return false
	}
	var m map[string]any
	if json.Unmarshal(cfg, &m) != nil {
		return false
	}
	on, _ := m[k.ConfigField].(bool)
	return on
}

// kept are the credentials of id the host asked for (a plugin's others are dropped).
func kept(id source.Identity, want []string) []store.Credential {
	var out []store.Credential
	for _, c := range id.Credentials {
		if source.Wants(want, c.Kind) && c.Value != "" {
			out = append(out, store.Credential{Kind: c.Kind, Value: c.Value})
		}
	}
	return out
}

// declared are the credentials of cs of the kinds p declares, for p's re-validation (the
// one copy the plugin re-validates with: it keeps none of its own).
func declared(p *Plugin, cs []store.Credential) []source.Credential {
	if !p.Desc.Has(source.CapCredentials) {
		return nil
	}
	var out []source.Credential
	for _, c := range cs {
		if _, ok := p.Desc.Kind(c.Kind); ok {
			out = append(out, source.Credential{Kind: c.Kind, Value: c.Value})
		}
	}
	return out
}

// CredentialKinds are the credential kinds the loaded plugins declare, for rules to hand over.
func (s *Sources) CredentialKinds() []source.CredentialKind {
	var out []source.CredentialKind
	for _, p := range s.plugins.All() {
		if p.Desc.Has(source.CapCredentials) {
			out = append(out, p.Desc.CredentialKinds...)
		}
	}
	return out
}

// CredentialKind is the declared kind named k.
func (s *Sources) CredentialKind(k string) (source.CredentialKind, bool) {
	for _, p := range s.plugins.All() {
		if c, ok := p.Desc.Kind(k); ok && p.Desc.Has(source.CapCredentials) {
			return c, true
		}
	}
	return source.CredentialKind{}, false
}

// dropTurnedOff deletes the kept credentials of every kind src's saved config no longer turns on.
func (s *Sources) dropTurnedOff(ctx context.Context, src *store.Source, p *Plugin, cfg json.RawMessage) error {
	for _, k := range p.Desc.CredentialKinds {
		if handoverOn(cfg, k) {
			continue
		}
		if _, err := s.store.DeleteSourceCredentials(ctx, src.ID, k.Kind); err != nil {
			return fmt.Errorf("delete the %s credentials the settings no longer hand over: %w", k.Kind, err)
		}
	}
	return nil
}
