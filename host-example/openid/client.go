package openid

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Grant types a client may have.
const (
	GrantCode    = "authorization_code"
	GrantRefresh = "refresh_token"
)

// client is a registered client as the library sees it.
type client struct {
	c     *store.OIDCClient
	login func(id string) string
}

var _ op.Client = client{}

func (c client) GetID() string                    { return c.c.ID }
func (c client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutURIs }
func (c client) LoginURL(id string) string        { return c.login(id) }
func (c client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeBearer // opaque: userinfo checks the store, revocation is at once
}
func (c client) IDTokenLifetime() time.Duration { return idTokenLifetime }
func (c client) DevMode() bool                  { return false }
func (c client) ClockSkew() time.Duration       { return 0 }
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// ApplicationType: a public client is native (loopback http or https redirects, PKCE).
func (c client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c client) GrantTypes() []oidc.GrantType {
	var out []oidc.GrantType
	for _, g := range c.c.GrantTypes {
		out = append(out, oidc.GrantType(g))
	}
	return out
}

func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed allows the scopes beyond the standard ones the library knows: groups.
func (c client) IsScopeAllowed(scope string) bool { return scope == ScopeGroups }

// IDTokenUserinfoClaimsAssertion puts the profile and email claims in the id_token too.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }

// checkSecret compares a presented secret with the client's SHA-256, in constant time.
func checkSecret(c *store.OIDCClient, secret string) bool {
	if c.Public || c.SecretSHA256 == "" || secret == "" {
		return false
	}
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(c.SecretSHA256))) == 1
}

// HashSecret is the stored form of a client secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

var (
	clientIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{3,64}$`)
	sha256RE   = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

// CheckClient checks a client's settings, returning every problem in words.
func CheckClient(c *store.OIDCClient) []string {
	var errs []string
	if !clientIDRE.MatchString(c.ID) {
		errs = append(errs, "client_id: 3 to 64 letters, digits, dots, dashes or underscores")
	}
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, "name: give the application a name")
	}
	if len(c.RedirectURIs) == 0 {
		errs = append(errs, "redirect_uris: at least one")
	}
	for _, u := range c.RedirectURIs {
		if msg := checkRedirectURI(u); msg != "" {
			errs = append(errs, "redirect_uris: "+msg)
		}
	}
	for _, u := range c.PostLogoutURIs {
		if msg := checkRedirectURI(u); msg != "" {
			errs = append(errs, "post_logout_redirect_uris: "+msg)
		}
	}
	if c.LaunchURL != "" {
		if msg := checkLaunchURL(c.LaunchURL); msg != "" {
			errs = append(errs, "launch_url: "+msg)
		}
	}
	if !c.Public && !sha256RE.MatchString(c.SecretSHA256) {
		errs = append(errs, "client_secret_sha256: a confidential client needs the SHA-256 of its secret (64 hex digits)")
	}
	if c.Public && c.SecretSHA256 != "" {
		errs = append(errs, "public: a public client has no secret")
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantCode}
	}
	for _, g := range c.GrantTypes {
		if g != GrantCode && g != GrantRefresh {
			errs = append(errs, fmt.Sprintf("grant_types: %q is not offered (authorization_code, refresh_token)", g))
		}
	}
	if !slices.Contains(c.GrantTypes, GrantCode) {
		errs = append(errs, "grant_types: authorization_code is required")
	}
	if c.IDTokenAlg != "" {
		if err := CheckAlg(c.IDTokenAlg); err != nil {
			errs = append(errs, "id_token_signed_response_alg: "+err.Error())
		}
	}
	return errs
}

// checkRedirectURI accepts an absolute https URL, or http only for a loopback host; no
// fragment, no user info.
func checkRedirectURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute URL", raw)
	}
	if u.Fragment != "" || u.User != nil {
		return fmt.Sprintf("%q must have no fragment and no user info", raw)
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return ""
		}
		return fmt.Sprintf("%q: http is allowed only for loopback addresses (127.0.0.1, [::1], localhost)", raw)
	}
	return fmt.Sprintf("%q: only https (or http on loopback)", raw)
}

// maxLaunchURL is the longest launch URL.
const maxLaunchURL = 2048

// checkLaunchURL accepts where the portal opens an application: an absolute https URL (http
// only on a loopback host), no user info, parsed strictly: what it says is what it is (it
// reads back as written, no spaces or control characters, at most maxLaunchURL bytes).
func checkLaunchURL(raw string) string {
	if len(raw) > maxLaunchURL {
		return fmt.Sprintf("at most %d characters", maxLaunchURL)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Sprintf("%q holds a space or a control character", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("%q is not an absolute URL", raw)
	}
	if u.User != nil {
		return fmt.Sprintf("%q must have no user info", raw)
	}
	if u.String() != raw {
		return fmt.Sprintf("%q does not read back as written (%q): write it plainly", raw, u.String())
	}
	u.Fragment, u.RawFragment = "", "" // a fragment is fine where a redirect's is not
	if msg := checkRedirectURI(u.String()); msg != "" {
		return fmt.Sprintf("%q: only https (or http on loopback)", raw)
	}
	return ""
}

// fileClient is one entry of the -oidc-clients file.
type fileClient struct {
	ClientID               string   `json:"client_id"`
	ClientSecretSHA256     string   `json:"client_secret_sha256"`
	ClientSecretEnv        string   `json:"client_secret_env"`
	Name                   string   `json:"name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	Public                 bool     `json:"public"`
	GrantTypes             []string `json:"grant_types"`
	AllowedGroups          []string `json:"allowed_groups"`
	ReleaseAttributes      []string `json:"release_attributes"`
	LaunchURL              string   `json:"launch_url"`
	// IDTokenSignedResponseAlg is the client's signing algorithm, as OIDC registration names it.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg"`
}

// ReadClientsFile reads the static clients of a JSON file: unknown keys are refused, and a
// plaintext client_secret with a note on how to hash it.
func ReadClientsFile(path string, getenv func(string) string) ([]*store.OIDCClient, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe []map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%s: must be a JSON list of clients: %w", path, err)
	}
	for i, m := range probe {
		if _, ok := m["client_secret"]; ok {
			return nil, fmt.Errorf(`%s: client %d has a plaintext "client_secret": store its SHA-256 instead, `+
				`"client_secret_sha256": "<printf %%s 'the-secret' | sha256sum | cut -d' ' -f1>", or name an environment variable in "client_secret_env"`, path, i+1)
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var list []fileClient
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []*store.OIDCClient
	seen := map[string]bool{}
	for i, f := range list {
		c := &store.OIDCClient{ID: f.ClientID, Name: f.Name, SecretSHA256: strings.ToLower(f.ClientSecretSHA256), Public: f.Public,
			RedirectURIs: f.RedirectURIs, PostLogoutURIs: f.PostLogoutRedirectURIs, GrantTypes: f.GrantTypes,
			AllowedGroups: f.AllowedGroups, ReleaseAttributes: f.ReleaseAttributes, LaunchURL: f.LaunchURL,
			IDTokenAlg: f.IDTokenSignedResponseAlg, Origin: "file"}
		if f.ClientSecretEnv != "" {
			if f.ClientSecretSHA256 != "" {
				return nil, fmt.Errorf("%s: client %d: give client_secret_sha256 or client_secret_env, not both", path, i+1)
			}
			secret := getenv(f.ClientSecretEnv)
			if len(secret) < 16 {
				return nil, fmt.Errorf("%s: client %d: environment variable %s must hold a secret of at least 16 characters", path, i+1, f.ClientSecretEnv)
			}
			c.SecretSHA256 = HashSecret(secret)
		}
		if errs := CheckClient(c); len(errs) > 0 {
			return nil, fmt.Errorf("%s: client %d (%s): %s", path, i+1, f.ClientID, strings.Join(errs, "; "))
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("%s: client_id %s is listed twice", path, c.ID)
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	return out, nil
}
