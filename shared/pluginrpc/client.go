package pluginrpc

import (
	"context"
	"encoding/json"

	pb "github.com/plexlogin/plexlogin/shared/gen/fedsourcev1"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Client is the host side of the contract over a gRPC connection; it implements source.Full.
type Client struct {
	rpc pb.FederatedSourceClient
}

var (
	_ source.Full    = (*Client)(nil)
	_ source.Renewer = (*Client)(nil)
)

// NewClient wraps a gRPC client of the contract.
func NewClient(rpc pb.FederatedSourceClient) *Client { return &Client{rpc: rpc} }

// Ping is a no-op round trip.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.rpc.Ping(ctx, &pb.PingRequest{})
	return errorFromStatus(err)
}

// Describe tells who the plugin is.
func (c *Client) Describe(ctx context.Context) (source.Descriptor, error) {
	r, err := c.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return source.Descriptor{}, errorFromStatus(err)
	}
	return descriptorFromPB(r), nil
}

// ValidateConfig checks and normalizes a config.
func (c *Client) ValidateConfig(ctx context.Context, inst source.Instance) (json.RawMessage, error) {
	r, err := c.rpc.ValidateConfig(ctx, &pb.ValidateConfigRequest{Instance: instanceToPB(inst)})
	if err != nil {
		return nil, errorFromStatus(err)
	}
	return json.RawMessage(r.GetNormalizedConfigJson()), nil
}

// ConfigWarnings lists warnings about a valid config (source.ErrUnimplemented from an older plugin).
func (c *Client) ConfigWarnings(ctx context.Context, inst source.Instance) ([]source.FieldError, error) {
	r, err := c.rpc.ConfigWarnings(ctx, &pb.ConfigWarningsRequest{Instance: instanceToPB(inst)})
	if err != nil {
		return nil, errorFromStatus(err)
	}
	return fieldErrorsFromPB(r.GetWarnings()), nil
}

// BeginLogin starts a redirect login.
func (c *Client) BeginLogin(ctx context.Context, inst source.Instance, req source.BeginLogin) (source.LoginStart, error) {
	r, err := c.rpc.BeginLogin(ctx, &pb.BeginLoginRequest{Instance: instanceToPB(inst), CallbackUrl: req.CallbackURL, HostState: req.HostState})
	if err != nil {
		return source.LoginStart{}, errorFromStatus(err)
	}
	return source.LoginStart{RedirectURL: r.GetRedirectUrl(), State: r.GetLoginState(), ExpiresAt: timeOrZero(r.GetExpiresAtUnix())}, nil
}

// CompleteLogin finishes a redirect login.
func (c *Client) CompleteLogin(ctx context.Context, inst source.Instance, req source.CompleteLogin) (source.Identity, error) {
	r, err := c.rpc.CompleteLogin(ctx, &pb.CompleteLoginRequest{Instance: instanceToPB(inst), LoginState: req.State, CallbackQuery: req.CallbackQuery,
		WantCredentials: req.Want})
	if err != nil {
		return source.Identity{}, errorFromStatus(err)
	}
	return loginResultFromPB(r.GetIdentity(), r.GetStep()), nil
}

// ContinueLogin answers a login step.
func (c *Client) ContinueLogin(ctx context.Context, inst source.Instance, req source.ContinueLogin) (source.Identity, error) {
	r, err := c.rpc.ContinueLogin(ctx, &pb.ContinueLoginRequest{Instance: instanceToPB(inst), StepState: req.State, Choice: req.Choice, Values: req.Values,
		WantCredentials: req.Want})
	if err != nil {
		return source.Identity{}, errorFromStatus(err)
	}
	return loginResultFromPB(r.GetIdentity(), r.GetStep()), nil
}

// PasswordLogin logs in with credentials.
func (c *Client) PasswordLogin(ctx context.Context, inst source.Instance, cred source.Credentials) (source.Identity, error) {
	r, err := c.rpc.PasswordLogin(ctx, &pb.PasswordLoginRequest{Instance: instanceToPB(inst), Login: cred.Login, Password: cred.Password, Otp: cred.OTP,
		WantCredentials: cred.Want})
	if err != nil {
		return source.Identity{}, errorFromStatus(err)
	}
	return loginResultFromPB(r.GetIdentity(), r.GetStep()), nil
}

var revalidationFromPB = map[pb.RevalidationStatus]source.RevalidationStatus{
	pb.RevalidationStatus_REVALIDATION_STATUS_ALLOWED: source.RevalidationAllowed,
	pb.RevalidationStatus_REVALIDATION_STATUS_REVOKED: source.RevalidationRevoked,
}

// Revalidate re-checks an earlier identity.
func (c *Client) Revalidate(ctx context.Context, inst source.Instance, req source.RevalidateRequest) (source.Revalidation, error) {
	r, err := c.rpc.Revalidate(ctx, &pb.RevalidateRequest{Instance: instanceToPB(inst), Sub: req.Subject, RevalidationState: req.State,
		Credentials: credentialsToPB(req.Credentials)})
	if err != nil {
		return source.Revalidation{}, errorFromStatus(err)
	}
	return source.Revalidation{Status: revalidationFromPB[r.GetStatus()], Decision: decisionFromPB(r.GetDecision()),
		NewState: r.GetNewRevalidationState(), RefusedCredentials: r.GetRefusedCredentials()}, nil
}

// RunAction runs an admin action.
func (c *Client) RunAction(ctx context.Context, inst source.Instance, req source.ActionRequest) (source.ActionResult, error) {
	r, err := c.rpc.RunAction(ctx, &pb.RunActionRequest{Instance: instanceToPB(inst), ActionId: req.ActionID, InputJson: string(req.Input),
		ActionState: req.State, CallbackQuery: req.CallbackQuery, CallbackUrl: req.CallbackURL})
	if err != nil {
		return source.ActionResult{}, errorFromStatus(err)
	}
	return actionResultFromPB(r), nil
}

// PreviewMapping evaluates draft mappings.
func (c *Client) PreviewMapping(ctx context.Context, inst source.Instance, req source.PreviewRequest) (source.PreviewResult, error) {
	r, err := c.rpc.PreviewMapping(ctx, &pb.PreviewMappingRequest{Instance: instanceToPB(inst), MappingsJson: string(req.Mappings),
		SampleJson: string(req.Sample), SampleUserId: req.SampleUserID})
	if err != nil {
		return source.PreviewResult{}, errorFromStatus(err)
	}
	return source.PreviewResult{Identity: identityFromPB(r.GetIdentity()), Errors: fieldErrorsFromPB(r.GetErrors()), Unknown: r.GetUnknown()}, nil
}

// RevokeCredential signs a handed-over credential out upstream (source.ErrUnimplemented from an older plugin).
func (c *Client) RevokeCredential(ctx context.Context, inst source.Instance, cred source.Credential) error {
	_, err := c.rpc.RevokeCredential(ctx, &pb.RevokeCredentialRequest{Instance: instanceToPB(inst),
		Credential: &pb.Credential{Kind: cred.Kind, Value: cred.Value}})
	return errorFromStatus(err)
}

// RenewSourceCredentials renews a source's expiring credentials (source.ErrUnimplemented from an older plugin).
func (c *Client) RenewSourceCredentials(ctx context.Context, inst source.Instance) (source.Renewal, error) {
	r, err := c.rpc.RenewSourceCredentials(ctx, &pb.RenewSourceCredentialsRequest{Instance: instanceToPB(inst)})
	if err != nil {
		return source.Renewal{}, errorFromStatus(err)
	}
	return renewalFromPB(r), nil
}
