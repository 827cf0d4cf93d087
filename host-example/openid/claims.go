package openid

import (
	"encoding/json"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// ScopeGroups asks for the groups claim.
const ScopeGroups = "groups"

// SupportedScopes are the scopes the provider serves.
var SupportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, ScopeGroups, oidc.ScopeOfflineAccess}

// SupportedClaims are the claims the provider can release.
var SupportedClaims = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "c_hash", "amr",
	"preferred_username", "name", "picture", "email", "email_verified", "groups"}

// reservedClaims are never set from a released attribute.
var reservedClaims = map[string]bool{"sub": true, "iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"auth_time": true, "nonce": true, "azp": true, "at_hash": true, "c_hash": true, "amr": true, "acr": true, "sid": true,
	"preferred_username": true, "name": true, "picture": true, "email": true, "email_verified": true, "groups": true}

// setClaims fills ui from the mapped identity of u, by scope, for client c: sub is the
// user's opaque public id; email_verified is only what the mapping produced.
func setClaims(ui *oidc.UserInfo, u *store.User, c *store.OIDCClient, scopes []string) {
	ui.Subject = u.PublicID
	if slices.Contains(scopes, oidc.ScopeProfile) {
		ui.PreferredUsername, ui.Name, ui.Picture = u.Username, u.Name, u.Picture
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		ui.Email, ui.EmailVerified = u.Email, oidc.Bool(u.EmailVerified)
		if !u.EmailVerified {
			ui.AppendClaims("email_verified", false)
		}
	}
	if slices.Contains(scopes, ScopeGroups) {
		groups := u.Groups
		if groups == nil {
			groups = []string{}
		}
		ui.AppendClaims("groups", groups)
	}
	if len(c.ReleaseAttributes) > 0 {
		var attrs map[string]any
		_ = json.Unmarshal(u.Attributes, &attrs)
		for _, name := range c.ReleaseAttributes {
			if v, ok := attrs[name]; ok && !reservedClaims[name] {
				ui.AppendClaims(name, v)
			}
		}
	}
}

// inAllowedGroups reports whether u may use c: no group rule, or one of c's groups.
func inAllowedGroups(u *store.User, c *store.OIDCClient) bool {
	return host.AppAdmits(c.AllowedGroups, u.Groups)
}
