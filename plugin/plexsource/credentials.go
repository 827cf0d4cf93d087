package plexsource

import (
	"context"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// TokenKind is the credential kind of a user's plex.tv account token.
const TokenKind = "plex.token"

// SSOField is the setting that keeps users' plex.tv tokens and lets logins hand them over.
const SSOField = "plex_web_sso"

// ssoDescription says to the admin what turning SSOField on means.
const ssoDescription = "When on, each user's plex.tv account token is kept by the identity server (sealed) and " +
	"re-validation uses it; it may be handed to Plex Web on an app whose rule allows it, so that Plex Web opens " +
	"signed in. A plex.tv account token does not expire and is a full credential for the user's Plex account. " +
	"Off: tokens are dropped after login."

// credentialKinds is what Describe declares a login can hand over.
func credentialKinds() []source.CredentialKind {
	return []source.CredentialKind{{Kind: TokenKind, App: "Plex Web", StorageKey: "myPlexAccessToken", StartPath: "/web/index.html",
		ConfigField: SSOField, Name: "Plex token", Upstream: "plex.tv",
		Description: "The user's plex.tv account token (for a Home profile, that profile's own). It does not expire and " +
			"is a full credential for the user's Plex account; revoking it signs it out at plex.tv."}}
}

// handOver is what a login with token hands the host: the token, only when the setting is on
// and the host asked for it.
func handOver(cfg Config, want []string, token string) []source.Credential {
	if !cfg.PlexWebSSO || token == "" || !source.Wants(want, TokenKind) {
		return nil
	}
	return []source.Credential{{Kind: TokenKind, Value: token}}
}

var _ source.CredentialRevoker = (*Plex)(nil)

// RevokeCredential signs a handed-over plex.tv token out at plex.tv; a token plex.tv already
// refuses counts as signed out.
func (p *Plex) RevokeCredential(ctx context.Context, inst source.Instance, c source.Credential) error {
	if c.Kind != TokenKind {
		return source.Errorf(source.KindInvalidRequest, "unknown_credential_kind", "", "credential kind %q is not %s", c.Kind, TokenKind)
	}
	if c.Value == "" {
		return source.Errorf(source.KindInvalidRequest, "empty_credential", "", "the credential to revoke is empty")
	}
	in, err := p.instance(inst)
	if err != nil {
		return err
	}
	if err := in.client.SignOut(ctx, c.Value); err != nil && !plextv.IsRevokedToken(err) {
		return plexError(err, "sign out")
	}
	p.opts.Logger.Info("credential revoked", "source", inst.ID, "kind", c.Kind)
	return nil
}
