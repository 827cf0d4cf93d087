// Package source is the Go face of the federated-source contract: the interfaces
// a plugin implements and a host calls, and the types they exchange. It knows
// nothing about any upstream identity provider and nothing about the wire.
package source

import (
	"context"
	"encoding/json"
	"time"
)

// ProtocolVersion is the contract version this package speaks.
const ProtocolVersion = 1

// Capability names a plugin lists in its Descriptor.
const (
	CapRedirectLogin  = "login.redirect"
	CapPasswordLogin  = "login.password"
	CapLoginSteps     = "login.steps"
	CapRevalidate     = "revalidate"
	CapActions        = "actions"
	CapMappingPreview = "mapping.preview"
	// CapCredentials: logins can hand the host upstream credentials it asks for, and
	// RevokeCredential signs one out (contract 1.2).
	CapCredentials = "credentials"
	// CapRenew: a source's config can hold credentials that expire, and
	// RenewSourceCredentials renews them (contract 1.4).
	CapRenew = "config.renew"
	// CapGlobalSubject: an identity's Subject names the same upstream account in every
	// source of the plugin, so a host may take two sources' identities with one subject for
	// one person (contract 1.6).
	CapGlobalSubject = "subject.global"
)

// Source is what every plugin implements: describe, validate config, redirect login.
type Source interface {
	// Ping is a no-op round trip.
	Ping(ctx context.Context) error
	// Describe tells who the plugin is and how it is configured.
	Describe(ctx context.Context) (Descriptor, error)
	// ValidateConfig checks inst.Config and returns it normalized, or an *Error with field errors.
	ValidateConfig(ctx context.Context, inst Instance) (json.RawMessage, error)
	// BeginLogin starts a redirect login.
	BeginLogin(ctx context.Context, inst Instance, req BeginLogin) (LoginStart, error)
	// CompleteLogin finishes a redirect login. The host claims its copy of the state for the
	// call and deletes it after any answer but a retryable error (single use is the host's duty).
	CompleteLogin(ctx context.Context, inst Instance, req CompleteLogin) (Identity, error)
}

// PasswordLoginer is the optional password-login capability.
type PasswordLoginer interface {
	// PasswordLogin logs in with credentials and an optional one-time code.
	PasswordLogin(ctx context.Context, inst Instance, cred Credentials) (Identity, error)
}

// StepContinuer is the optional capability to answer a LoginStep.
type StepContinuer interface {
	// ContinueLogin answers a step an earlier login call returned (only a choice it offered);
	// the host has deleted its copy of the state.
	ContinueLogin(ctx context.Context, inst Instance, req ContinueLogin) (Identity, error)
}

// Revalidator is the optional capability to re-check an earlier identity.
type Revalidator interface {
	// Revalidate answers allowed, revoked or unknown for an earlier login.
	Revalidate(ctx context.Context, inst Instance, req RevalidateRequest) (Revalidation, error)
}

// ActionRunner is the optional capability to run admin actions.
type ActionRunner interface {
	// RunAction runs the admin action req.ActionID.
	RunAction(ctx context.Context, inst Instance, req ActionRequest) (ActionResult, error)
}

// MappingPreviewer is the optional capability to preview draft attribute mappings.
type MappingPreviewer interface {
	// PreviewMapping evaluates draft mappings against a sample user.
	PreviewMapping(ctx context.Context, inst Instance, req PreviewRequest) (PreviewResult, error)
}

// Full is a Source with every optional capability; hosts hold one of these
// (calls a plugin lacks return an *Error of kind KindUnimplemented).
type Full interface {
	Source
	PasswordLoginer
	StepContinuer
	Revalidator
	ActionRunner
	MappingPreviewer
}

// Instance is one configured source as the host stores it.
type Instance struct {
	ID            string
	ConfigVersion int64
	Config        json.RawMessage
	Slug          string
	Name          string
}

// CacheKey identifies derived state of this instance's config.
func (i Instance) CacheKey() InstanceKey { return InstanceKey{ID: i.ID, Version: i.ConfigVersion} }

// InstanceKey is the (id, config version) pair derived state is cached by.
type InstanceKey struct {
	ID      string
	Version int64
}

// Descriptor is what Describe returns.
type Descriptor struct {
	ID              string
	Name            string
	Version         string
	ProtocolVersion int
	Capabilities    []string
	Icon            string
	// ConfigSchema is a JSON Schema 2020-12 document.
	ConfigSchema json.RawMessage
	// CredentialKinds are the upstream credentials logins can hand over (contract 1.2).
	CredentialKinds []CredentialKind
}

// CredentialKind is an upstream credential a login can return, and the browser app that
// signs in with it by reading it from localStorage.
type CredentialKind struct {
	// Kind is namespaced by the plugin, e.g. "<plugin>.token".
	Kind string
	// App is the browser app that uses it, as an admin knows it.
	App string
	// StorageKey is the localStorage key under which App reads it.
	StorageKey string
	// StartPath is App's entry path, where a browser goes once the key is written.
	StartPath string
	// ConfigField is the top-level boolean config field that turns handing it over on.
	ConfigField string
	// Description says what the credential can do, for the admin.
	Description string
	// Name is what a person calls it, to go after "The" in a sentence, e.g. "Plex token"
	// (contract 1.5; empty in older plugins: Title falls back to the kind).
	Name string
	// Upstream is where RevokeCredential signs it out, as a person knows the place, e.g.
	// "plex.tv" (contract 1.5; empty in older plugins: SignedOut says "upstream").
	Upstream string
}

// Title is what the credential is called in a sentence: its Name, else "credential <kind>"
// for a plugin older than contract 1.5.
func (c CredentialKind) Title() string {
	if c.Name != "" {
		return c.Name
	}
	return "credential " + c.Kind
}

// SignedOut says where revoking the credential signs it out, to follow "signed out" in a
// sentence: "at <Upstream>", else "upstream" for a plugin older than contract 1.5.
func (c CredentialKind) SignedOut() string {
	if c.Upstream != "" {
		return "at " + c.Upstream
	}
	return "upstream"
}

// Kind is the declared kind named k, if d has one.
func (d Descriptor) Kind(k string) (CredentialKind, bool) {
	for _, c := range d.CredentialKinds {
		if c.Kind == k {
			return c, true
		}
	}
	return CredentialKind{}, false
}

// Credential is an upstream credential a login hands to the host; Value is a secret.
type Credential struct {
	Kind  string
	Value string
}

// String never shows the value, so a credential printed by mistake leaks nothing.
func (c Credential) String() string { return c.Kind + ":<redacted>" }

// GoString never shows the value either.
func (c Credential) GoString() string { return c.String() }

// Has reports whether the descriptor lists capability c.
func (d Descriptor) Has(c string) bool {
	for _, x := range d.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// BeginLogin is the host's input to a redirect login.
type BeginLogin struct {
	CallbackURL string
	HostState   string
}

// LoginStart is where to send the browser and what to keep server-side.
type LoginStart struct {
	RedirectURL string
	State       []byte
	ExpiresAt   time.Time
}

// CompleteLogin is the host's input when the browser comes back.
type CompleteLogin struct {
	State         []byte
	CallbackQuery map[string]string
	// Want are the credential kinds the host asks for; the plugin returns no other.
	Want []string
}

// Credentials are a password login's input.
type Credentials struct {
	Login    string
	Password string
	OTP      string
	// Want are the credential kinds the host asks for; the plugin returns no other.
	Want []string
}

// Decision is an access decision with its reason.
type Decision struct {
	Allowed     bool   `json:"allowed"`
	ReasonCode  string `json:"reason_code"`
	UserText    string `json:"user_text"`
	AdminDetail string `json:"admin_detail"`
}

// Identity is a normalized user, with OIDC standard claim names.
type Identity struct {
	Subject           string          `json:"sub"`
	PreferredUsername string          `json:"preferred_username,omitempty"`
	Email             string          `json:"email,omitempty"`
	EmailVerified     bool            `json:"email_verified"`
	Name              string          `json:"name,omitempty"`
	Picture           string          `json:"picture,omitempty"`
	Groups            []string        `json:"groups,omitempty"`
	Attributes        json.RawMessage `json:"attributes,omitempty"`
	Raw               json.RawMessage `json:"raw,omitempty"`
	Decision          Decision        `json:"decision"`
	// RevalidationState is opaque and may hold secrets; never serialised with the identity.
	RevalidationState []byte `json:"-"`
	// Step, when set, means the login is not finished: the host shows it and calls
	// ContinueLogin with the answer. Every other field is then empty.
	Step *LoginStep `json:"-"`
	// PreviewSample is the login's own mapping input (secrets stripped, the plugin's format):
	// as PreviewRequest.Sample it previews this person as this login saw them.
	PreviewSample []byte
	// Credentials are the upstream credentials the host asked for and the instance hands
	// over (contract 1.2); secrets, never serialised with the identity.
	Credentials []Credential `json:"-"`
}

// Wants reports whether kind k is among the kinds asked for.
func Wants(want []string, k string) bool {
	for _, w := range want {
		if w == k {
			return true
		}
	}
	return false
}

// LoginStep is one more question in a login.
type LoginStep struct {
	Title     string
	Text      string
	Choices   []Choice
	Fields    []StepField
	State     []byte
	ExpiresAt time.Time
	Error     string
	// WrongGuess says the answer that led to this step was a wrong guess at a guarded
	// choice: the host keeps the guess counted (contract 1.3).
	WrongGuess bool
}

// StepField is a value the person types in a step.
type StepField struct {
	Name      string
	Title     string
	Secret    bool
	InputMode string
}

// ContinueLogin is the answer to a LoginStep.
type ContinueLogin struct {
	State  []byte
	Choice string
	Values map[string]string
	// Want are the credential kinds the host asks for; the plugin returns no other.
	Want []string
}

// RevalidationStatus is the answer of a re-validation.
type RevalidationStatus int

// Re-validation answers.
const (
	RevalidationUnknown RevalidationStatus = iota
	RevalidationAllowed
	RevalidationRevoked
)

func (s RevalidationStatus) String() string {
	switch s {
	case RevalidationAllowed:
		return "allowed"
	case RevalidationRevoked:
		return "revoked"
	default:
		return "unknown"
	}
}

// RevalidateRequest names an earlier identity.
type RevalidateRequest struct {
	Subject string
	State   []byte
	// Credentials are the user's credentials the host keeps (contract 1.2), of the kinds the
	// plugin declares; a plugin uses these, never a copy kept in State.
	Credentials []Credential
}

// Revalidation is the answer of Revalidate.
type Revalidation struct {
	Status   RevalidationStatus
	Decision Decision
	// NewState, when set, replaces the stored revalidation state (contract 1.2).
	NewState []byte
	// RefusedCredentials are kinds whose handed-over value the upstream refused; the host
	// deletes its copies (contract 1.2).
	RefusedCredentials []string
}

// ActionRequest is the input of an admin action.
type ActionRequest struct {
	ActionID      string
	Input         json.RawMessage
	State         []byte
	CallbackQuery map[string]string
	CallbackURL   string
}

// ActionResult is exactly one of its pointer fields.
type ActionResult struct {
	Redirect    *ActionRedirect
	Choices     *ActionChoices
	ConfigPatch json.RawMessage
	Message     *ActionMessage
}

// ActionRedirect asks the host to send the browser away and call RunAction again on return.
type ActionRedirect struct {
	URL       string
	State     []byte
	ExpiresAt time.Time
}

// ActionChoices offers values for a config field, with an optional patch to apply with the pick.
type ActionChoices struct {
	Field   string
	Options []Choice
	Patch   json.RawMessage
}

// Choice is one offered value. In a login step, Details["thumb"] is a picture of it (an
// https URL), and Details[<a field's name>] = "required" means that field is asked for only
// with the choices that say so (a protected profile's PIN).
type Choice struct {
	Value       string            `json:"value"`
	Label       string            `json:"label"`
	Description string            `json:"description,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	// Guard, in a login step, says answering this choice is a guess of a secret (contract 1.3).
	Guard *GuessGuard `json:"guard,omitempty"`
}

// ActionMessage is a message for the admin.
type ActionMessage struct {
	Text  string
	Level string
}

// PreviewRequest is a mapping preview's input.
type PreviewRequest struct {
	Mappings     json.RawMessage
	Sample       json.RawMessage
	SampleUserID string
}

// PreviewResult is the identity a draft mapping gives, or the errors it has.
type PreviewResult struct {
	Identity Identity
	Errors   []FieldError
	// Unknown are attributes whose value the sample could not know.
	Unknown []string
}

// Warner is implemented by a source that can say what is valid but probably not meant in a
// config it accepted (for example an id that exists nowhere the source can see). Optional:
// a host treats ErrUnimplemented as "no warnings".
type Warner interface {
	// ConfigWarnings lists warnings about inst.Config, a config ValidateConfig accepted.
	ConfigWarnings(ctx context.Context, inst Instance) ([]FieldError, error)
}

// CredentialRevoker is implemented by a source that can sign a handed-over credential out
// upstream (contract 1.2). Optional: a host treats ErrUnimplemented as "cannot be revoked".
type CredentialRevoker interface {
	// RevokeCredential signs c out at the upstream; one already invalid is not an error.
	RevokeCredential(ctx context.Context, inst Instance, c Credential) error
}
