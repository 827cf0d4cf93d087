// Package plexsource implements the federated-source contract for Plex: PIN login,
// password login, access policy, re-validation and the admin actions.
package plexsource

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/mappings"
	"github.com/plexlogin/plexlogin/plugin/access"
	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Action ids.
const (
	ActionLoadServers      = "load_servers"
	ActionReauthorize      = "reauthorize"
	ActionCheckMachineID   = "check_machine_id"
	ActionOwnerTokenHealth = "owner_token_health"
)

// Options are process-wide settings, read from the environment by main only.
type Options struct {
	// BaseURL of plex.tv; default https://plex.tv.
	BaseURL string
	// AppURL of app.plex.tv; default https://app.plex.tv.
	AppURL string
	// ClientsURL of clients.plex.tv (the device-key endpoints); default BaseURL when that
	// was set, else https://clients.plex.tv.
	ClientsURL string
	// Now is the clock of device-key renewals; default time.Now (tests).
	Now func() time.Time
	// HTTPClient is shared by every instance; default plextv's.
	HTTPClient *http.Client
	Logger     hclog.Logger
	// Backoff overrides the plex.tv retry backoff base (tests).
	Backoff time.Duration
}

// Plex is the Plex source.
type Plex struct {
	opts Options

	mu        sync.Mutex
	instances map[source.InstanceKey]*instance
	caches    map[string]*access.Cache // per instance id, across config versions
	// used holds logins completed or under way and step states answered, within their expiry.
	used *memory
	// pinTries counts wrong profile PINs per profile.
	pinTries *memory
}

var _ source.Source = (*Plex)(nil)
var _ source.PasswordLoginer = (*Plex)(nil)
var _ source.Revalidator = (*Plex)(nil)
var _ source.ActionRunner = (*Plex)(nil)
var _ source.MappingPreviewer = (*Plex)(nil)
var _ source.StepContinuer = (*Plex)(nil)
var _ source.Renewer = (*Plex)(nil)

// New returns the Plex source.
func New(opts Options) *Plex {
	if opts.BaseURL == "" {
		opts.BaseURL = plextv.DefaultBaseURL
	}
	if opts.AppURL == "" {
		opts.AppURL = plextv.DefaultAppURL
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Plex{opts: opts, instances: map[source.InstanceKey]*instance{}, caches: map[string]*access.Cache{},
		used: newMemory(100000), pinTries: newMemory(100000)}
}

// instance is the derived state of one (instance id, config version).
type instance struct {
	cfg     Config
	prog    *mappings.Program
	client  *plextv.Client
	checker *access.Checker
	seal    *sealer
}

// instance returns the cached derived state of inst, building it on first use.
func (p *Plex) instance(inst source.Instance) (*instance, error) {
	key := inst.CacheKey()
	p.mu.Lock()
	if in := p.instances[key]; in != nil {
		p.mu.Unlock()
		return in, nil
	}
	p.mu.Unlock()
	cfg, prog, err := parseConfig(inst.Config)
	if err != nil {
		return nil, err
	}
	in, err := p.derive(inst.ID, cfg)
	if err != nil {
		return nil, err
	}
	in.prog = prog
	p.mu.Lock()
	// Drop older versions of the same instance.
	for k := range p.instances {
		if k.ID == key.ID && k.Version != key.Version {
			delete(p.instances, k)
		}
	}
	p.instances[key] = in
	p.mu.Unlock()
	// The owner lists are fetched now, not by the first login.
	go in.checker.Warm(context.Background())
	return in, nil
}

// derive builds the client, checker and sealer of a config of instance id (not cached).
func (p *Plex) derive(id string, cfg Config) (*instance, error) {
	product := cfg.Product
	if product == "" {
		product = "Identity server"
	}
	client, err := plextv.New(plextv.Identity{ClientID: cfg.ClientIdentifier, Product: product, Version: Version,
		Device: "Identity server", Platform: "Web"},
		p.clientOptions(cfg))
	if err != nil {
		return nil, source.Errorf(source.KindInternal, "bad_base_url", "", "%v", err)
	}
	seal, err := newSealer(cfg.StateKey)
	if err != nil {
		return nil, source.Errorf(source.KindInvalidConfig, "bad_state_key", "", "%v", err)
	}
	p.mu.Lock()
	cache := p.caches[id]
	if cache == nil {
		cache = access.NewCache(time.Duration(cfg.OwnerCacheTTL) * time.Second)
		p.caches[id] = cache
	}
	cache.SetTTL(time.Duration(cfg.OwnerCacheTTL) * time.Second)
	p.mu.Unlock()
	return &instance{cfg: cfg, client: client, seal: seal, checker: &access.Checker{
		Policy: access.Policy{Mode: access.Mode(cfg.AccessMode), Servers: cfg.policyServers(), AllowFriends: cfg.AllowFriends,
			OwnerTokens: cfg.ownerTokens(), OwnerIDs: cfg.OwnerIDs, MemberFreshness: time.Duration(cfg.MemberFreshness) * time.Second},
		Upstream: client, Cache: cache}}, nil
}

// clientOptions are the plex.tv client options of a config.
func (p *Plex) clientOptions(cfg Config) plextv.Options {
	return plextv.Options{BaseURL: p.opts.BaseURL, ClientsURL: p.opts.ClientsURL, HTTPClient: p.opts.HTTPClient,
		Timeout: time.Duration(cfg.RequestTimeout) * time.Second, Backoff: p.opts.Backoff}
}

// Ping is a no-op.
func (p *Plex) Ping(context.Context) error { return nil }

// Describe describes the Plex source.
func (p *Plex) Describe(context.Context) (source.Descriptor, error) {
	return source.Descriptor{ID: "plex", Name: "Plex", Version: Version, ProtocolVersion: source.ProtocolVersion,
		Capabilities: []string{source.CapRedirectLogin, source.CapPasswordLogin, source.CapLoginSteps, source.CapRevalidate, source.CapActions,
			source.CapMappingPreview, source.CapCredentials, source.CapRenew, source.CapGlobalSubject},
		Icon: Icon, ConfigSchema: configSchema(), CredentialKinds: credentialKinds()}, nil
}

// ValidateConfig checks, migrates and normalizes a config, generating the client identifier
// and state key once; it reads the owner accounts' ids and warms the owner lists, so that
// no login pays for them.
func (p *Plex) ValidateConfig(ctx context.Context, inst source.Instance) (json.RawMessage, error) {
	cfg, _, err := parseConfig(inst.Config)
	if err != nil {
		return nil, err
	}
	cfg.OwnerIDs = []int64{}
	if tokens := cfg.ownerTokens(); len(tokens) > 0 {
		if in, err := p.derive(inst.ID, cfg); err == nil {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			for _, tok := range tokens {
				u, err := in.client.User(ctx, tok)
				if err != nil {
					cfg.OwnerIDs = []int64{} // unknown: logins ask (and cache) instead
					break
				}
				cfg.OwnerIDs = append(cfg.OwnerIDs, int64(u.ID))
			}
			in.checker.Policy.OwnerIDs = cfg.OwnerIDs
			in.checker.Warm(ctx)
		}
	}
	return json.Marshal(cfg)
}

// plexError turns a plex.tv failure into the contract's typed error.
func plexError(err error, what string) *source.Error {
	detail := what + ": " + err.Error()
	var e *source.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, plextv.ErrTokenExpired):
		// Only a device-key (JWT) owner token expires: user logins get legacy tokens from
		// the classic PIN flow. The host renews the owner tokens at once.
		return source.ExpiredSourceCredentials("Plex is unreachable right now. Please try again in a moment.", "%s", detail)
	case errors.Is(err, plextv.ErrRateLimited):
		return &source.Error{Kind: source.KindRateLimited, ReasonCode: "plex_rate_limited", Retryable: true,
			UserText: "Plex is busy right now. Please wait a minute and try again.", AdminDetail: detail}
	case errors.Is(err, plextv.ErrLockedOut):
		return &source.Error{Kind: source.KindRateLimited, ReasonCode: "plex_signin_throttled", Retryable: true,
			UserText: "Plex has paused sign-ins from here after repeated failures. Wait a while, or use Sign in with Plex.", AdminDetail: detail}
	case errors.Is(err, plextv.ErrNotFound):
		return &source.Error{Kind: source.KindExpired, ReasonCode: "pin_expired",
			UserText: "This login has expired. Please start again.", AdminDetail: detail}
	case errors.Is(err, plextv.ErrSecondFactor):
		return &source.Error{Kind: source.KindSecondFactorRequired, ReasonCode: "verification_code_required",
			UserText: "Enter the 6-digit code from your authenticator app.", AdminDetail: detail}
	case errors.Is(err, plextv.ErrUnauthorized), errors.Is(err, plextv.ErrInvalidToken):
		return &source.Error{Kind: source.KindInvalidCredentials, ReasonCode: "plex_token_rejected",
			UserText: "Plex did not accept this login. Please start again.", AdminDetail: detail}
	case errors.Is(err, plextv.ErrHomePIN):
		return &source.Error{Kind: source.KindInvalidCredentials, ReasonCode: "home_pin_wrong",
			UserText: "That profile PIN is not right.", AdminDetail: detail}
	case plextv.IsTemporary(err), errors.Is(err, context.DeadlineExceeded):
		return &source.Error{Kind: source.KindUpstreamUnavailable, ReasonCode: "plex_unavailable", Retryable: true,
			UserText: "Plex is unreachable right now. Please try again in a moment.", AdminDetail: detail}
	}
	return &source.Error{Kind: source.KindInternal, ReasonCode: "plex_error", UserText: "Something went wrong talking to Plex.", AdminDetail: detail}
}

// login fetches the account of token, evaluates the policy and builds the identity, handing
// over the credential kinds in want that the config allows.
func (p *Plex) login(ctx context.Context, in *instance, inst source.Instance, token string, want []string) (source.Identity, error) {
	user, err := in.client.User(ctx, token)
	if err != nil {
		return source.Identity{}, plexError(err, "read account")
	}
	if in.cfg.HomeProfiles && !bool(user.Restricted) {
		if step, err := p.profileStep(ctx, in, inst, user, token, "", 0); err != nil || step != nil {
			return source.Identity{Step: step}, err
		}
	}
	return p.decide(ctx, in, inst, user, token, want)
}

// decide evaluates the policy for an account and builds its identity.
func (p *Plex) decide(ctx context.Context, in *instance, inst source.Instance, user *plextv.User, token string, want []string) (source.Identity, error) {
	res := in.checker.Evaluate(ctx, user, token)
	p.opts.Logger.Info("login decision", "source", inst.ID, "plex_id", int64(user.ID), "allowed", res.Allowed, "reason", res.Reason)
	if res.RateLimited {
		return source.Identity{}, &source.Error{Kind: source.KindRateLimited, ReasonCode: "plex_rate_limited", Retryable: true,
			UserText: res.UserText, AdminDetail: res.AdminDetail}
	}
	if res.Unavailable {
		return source.Identity{}, &source.Error{Kind: source.KindUpstreamUnavailable, ReasonCode: res.Reason, Retryable: true,
			UserText: res.UserText, AdminDetail: res.AdminDetail}
	}
	if !res.Allowed && res.OwnerTokenExpired {
		// Not a denial: the owner lists could not be read until the owner tokens are renewed.
		return source.Identity{}, source.ExpiredSourceCredentials("Plex is unreachable right now. Please try again in a moment.",
			"owner token expired: %s", res.AdminDetail)
	}
	if !res.Allowed {
		return source.Identity{}, &source.Error{Kind: source.KindAccessDenied, ReasonCode: res.Reason, UserText: res.UserText,
			AdminDetail: res.AdminDetail, Subject: strconv.FormatInt(int64(user.ID), 10), DisplayName: user.AdminName()}
	}
	id, err := buildIdentity(ctx, in, inst, user, res, token, want)
	if err != nil {
		p.opts.Logger.Error("mapping failed", "source", inst.ID, "plex_id", int64(user.ID), "error", err.Error())
	}
	return id, err
}

// PasswordLogin signs in with plex.tv username (or email), password and verification code.
func (p *Plex) PasswordLogin(ctx context.Context, inst source.Instance, cred source.Credentials) (source.Identity, error) {
	in, err := p.instance(inst)
	if err != nil {
		return source.Identity{}, err
	}
	if !in.cfg.PasswordLogin {
		return source.Identity{}, source.Errorf(source.KindInvalidRequest, "password_login_disabled",
			"Password login is turned off for this source. Use Sign in with Plex.", "password_login is off")
	}
	if cred.Login == "" || cred.Password == "" {
		return source.Identity{}, &source.Error{Kind: source.KindInvalidCredentials, ReasonCode: "credentials_missing",
			UserText: "Enter your Plex username or email and your password."}
	}
	user, err := in.client.SignIn(ctx, cred.Login, cred.Password, cred.OTP)
	if err != nil {
		e := plexError(err, "sign in")
		if errors.Is(err, plextv.ErrUnauthorized) {
			e = &source.Error{Kind: source.KindInvalidCredentials, ReasonCode: "wrong_login_or_password",
				UserText:    "Wrong login or password. If you signed up for Plex with Google or Apple, use Sign in with Plex instead.",
				AdminDetail: e.AdminDetail}
		}
		if errors.Is(err, plextv.ErrRateLimited) {
			e.ReasonCode = "plex_signin_throttled"
		}
		return source.Identity{}, e
	}
	token := string(user.AuthToken)
	if token == "" {
		return source.Identity{}, plexError(errors.New("sign-in answer carries no token"), "sign in")
	}
	return p.login(ctx, in, inst, token, cred.Want)
}

// revalidationState is kept by the host (encrypted) for Revalidate; Token only with SSOField
// on and a host that did not ask for the token (one that asks keeps it and passes it back).
type revalidationState struct {
	ID    int64  `json:"id"`
	Token string `json:"token,omitempty"`
}

// Revalidate answers from the owner lists and, with SSOField on, the kept user token: the
// host's copy (req.Credentials) when it passes one, else the state's (a host that does not
// keep it). A kept token plex.tv refuses is reported: the answer comes from the owner lists
// and RefusedCredentials names TokenKind, so the host drops its copy. A token in the state is
// dropped (NewState without it) when refused, when SSOField is off, and when the host passes
// its own copy, so that a token the host deleted is not used from a second copy.
func (p *Plex) Revalidate(ctx context.Context, inst source.Instance, req source.RevalidateRequest) (source.Revalidation, error) {
	in, err := p.instance(inst)
	if err != nil {
		return source.Revalidation{}, err
	}
	id, err := strconv.ParseInt(req.Subject, 10, 64)
	if err != nil {
		return source.Revalidation{}, source.Errorf(source.KindInvalidRequest, "bad_subject", "", "subject %q is not a Plex id", req.Subject)
	}
	// No state (a dry run) asks the owner lists; a state must be this subject's.
	var st revalidationState
	if len(req.State) > 0 {
		if err := json.Unmarshal(req.State, &st); err != nil || st.ID != id {
			return source.Revalidation{}, source.Errorf(source.KindInvalidRequest, "bad_revalidation_state", "",
				"revalidation state is unreadable or belongs to another subject")
		}
	}
	tok, hostKeeps := "", false
	for _, c := range req.Credentials {
		if c.Kind == TokenKind && c.Value != "" {
			tok, hostKeeps = c.Value, true
		}
	}
	if !hostKeeps {
		tok = st.Token
	}
	if !in.cfg.PlexWebSSO {
		tok = ""
	}
	ans, reason, refused := in.checker.Revalidate(ctx, id, tok)
	out := source.Revalidation{Decision: source.Decision{ReasonCode: reason}}
	if refused {
		p.opts.Logger.Info("kept user token refused by plex.tv; dropped", "source", inst.ID, "plex_id", id)
		out.RefusedCredentials = []string{TokenKind}
	}
	if st.Token != "" && (refused || hostKeeps || !in.cfg.PlexWebSSO) {
		out.NewState, _ = json.Marshal(revalidationState{ID: st.ID})
	}
	switch ans {
	case access.StillAllowed:
		out.Status, out.Decision.Allowed = source.RevalidationAllowed, true
	case access.Revoked:
		out.Status = source.RevalidationRevoked
		out.Decision.UserText = "Your access to this Plex server has ended."
	default:
		out.Status = source.RevalidationUnknown
		if in.checker.OwnerTokenExpired(ctx) {
			// Unknown because plex.tv answered 498 to an owner token: the host renews at once.
			return out, source.ExpiredSourceCredentials("", "re-validation: an owner token expired")
		}
	}
	return out, nil
}
