package pluginrpc

import (
	"context"

	pb "github.com/plexlogin/plexlogin/shared/gen/fedsourcev1"
	"github.com/plexlogin/plexlogin/shared/source"
)

// grpcServer serves a source.Source over gRPC; optional calls the implementation lacks answer Unimplemented.
type grpcServer struct {
	pb.UnimplementedFederatedSourceServer
	impl source.Source
}

// NewGRPCServer returns the gRPC service for impl.
func NewGRPCServer(impl source.Source) pb.FederatedSourceServer { return &grpcServer{impl: impl} }

func (s *grpcServer) Ping(ctx context.Context, _ *pb.PingRequest) (*pb.PingResponse, error) {
	return &pb.PingResponse{}, errorToStatus(s.impl.Ping(ctx))
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, errorToStatus(err)
	}
	return descriptorToPB(d), nil
}

func (s *grpcServer) ValidateConfig(ctx context.Context, r *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	cfg, err := s.impl.ValidateConfig(ctx, instanceFromPB(r.GetInstance()))
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.ValidateConfigResponse{NormalizedConfigJson: string(cfg)}, nil
}

func (s *grpcServer) ConfigWarnings(ctx context.Context, r *pb.ConfigWarningsRequest) (*pb.ConfigWarningsResponse, error) {
	w, ok := s.impl.(source.Warner)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	list, err := w.ConfigWarnings(ctx, instanceFromPB(r.GetInstance()))
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.ConfigWarningsResponse{Warnings: fieldErrorsToPB(list)}, nil
}

func (s *grpcServer) BeginLogin(ctx context.Context, r *pb.BeginLoginRequest) (*pb.BeginLoginResponse, error) {
	st, err := s.impl.BeginLogin(ctx, instanceFromPB(r.GetInstance()), source.BeginLogin{CallbackURL: r.GetCallbackUrl(), HostState: r.GetHostState()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.BeginLoginResponse{RedirectUrl: st.RedirectURL, LoginState: st.State, ExpiresAtUnix: unixOrZero(st.ExpiresAt)}, nil
}

func (s *grpcServer) CompleteLogin(ctx context.Context, r *pb.CompleteLoginRequest) (*pb.CompleteLoginResponse, error) {
	id, err := s.impl.CompleteLogin(ctx, instanceFromPB(r.GetInstance()), source.CompleteLogin{State: r.GetLoginState(), CallbackQuery: r.GetCallbackQuery(),
		Want: r.GetWantCredentials()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	ident, step := loginResultToPB(id)
	return &pb.CompleteLoginResponse{Identity: ident, Step: step}, nil
}

func (s *grpcServer) ContinueLogin(ctx context.Context, r *pb.ContinueLoginRequest) (*pb.CompleteLoginResponse, error) {
	p, ok := s.impl.(source.StepContinuer)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	id, err := p.ContinueLogin(ctx, instanceFromPB(r.GetInstance()), source.ContinueLogin{State: r.GetStepState(), Choice: r.GetChoice(), Values: r.GetValues(),
		Want: r.GetWantCredentials()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	ident, step := loginResultToPB(id)
	return &pb.CompleteLoginResponse{Identity: ident, Step: step}, nil
}

func (s *grpcServer) PasswordLogin(ctx context.Context, r *pb.PasswordLoginRequest) (*pb.PasswordLoginResponse, error) {
	p, ok := s.impl.(source.PasswordLoginer)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	id, err := p.PasswordLogin(ctx, instanceFromPB(r.GetInstance()), source.Credentials{Login: r.GetLogin(), Password: r.GetPassword(), OTP: r.GetOtp(),
		Want: r.GetWantCredentials()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	ident, step := loginResultToPB(id)
	return &pb.PasswordLoginResponse{Identity: ident, Step: step}, nil
}

func (s *grpcServer) Revalidate(ctx context.Context, r *pb.RevalidateRequest) (*pb.RevalidateResponse, error) {
	p, ok := s.impl.(source.Revalidator)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	rv, err := p.Revalidate(ctx, instanceFromPB(r.GetInstance()), source.RevalidateRequest{Subject: r.GetSub(), State: r.GetRevalidationState(),
		Credentials: credentialsFromPB(r.GetCredentials())})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.RevalidateResponse{Status: pb.RevalidationStatus(revalidationToPB[rv.Status]), Decision: decisionToPB(rv.Decision),
		NewRevalidationState: rv.NewState, RefusedCredentials: rv.RefusedCredentials}, nil
}

var revalidationToPB = map[source.RevalidationStatus]pb.RevalidationStatus{
	source.RevalidationAllowed: pb.RevalidationStatus_REVALIDATION_STATUS_ALLOWED,
	source.RevalidationRevoked: pb.RevalidationStatus_REVALIDATION_STATUS_REVOKED,
	source.RevalidationUnknown: pb.RevalidationStatus_REVALIDATION_STATUS_UNKNOWN,
}

func (s *grpcServer) RunAction(ctx context.Context, r *pb.RunActionRequest) (*pb.RunActionResponse, error) {
	p, ok := s.impl.(source.ActionRunner)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	res, err := p.RunAction(ctx, instanceFromPB(r.GetInstance()), source.ActionRequest{ActionID: r.GetActionId(),
		Input: rawOrNil(r.GetInputJson()), State: r.GetActionState(), CallbackQuery: r.GetCallbackQuery(), CallbackURL: r.GetCallbackUrl()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return actionResultToPB(res), nil
}

func (s *grpcServer) PreviewMapping(ctx context.Context, r *pb.PreviewMappingRequest) (*pb.PreviewMappingResponse, error) {
	p, ok := s.impl.(source.MappingPreviewer)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	res, err := p.PreviewMapping(ctx, instanceFromPB(r.GetInstance()), source.PreviewRequest{Mappings: rawOrNil(r.GetMappingsJson()),
		Sample: rawOrNil(r.GetSampleJson()), SampleUserID: r.GetSampleUserId()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.PreviewMappingResponse{Identity: identityToPB(res.Identity), Errors: fieldErrorsToPB(res.Errors), Unknown: res.Unknown}, nil
}

func (s *grpcServer) RevokeCredential(ctx context.Context, r *pb.RevokeCredentialRequest) (*pb.RevokeCredentialResponse, error) {
	p, ok := s.impl.(source.CredentialRevoker)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	c := r.GetCredential()
	if err := p.RevokeCredential(ctx, instanceFromPB(r.GetInstance()), source.Credential{Kind: c.GetKind(), Value: c.GetValue()}); err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.RevokeCredentialResponse{}, nil
}

func (s *grpcServer) RenewSourceCredentials(ctx context.Context, r *pb.RenewSourceCredentialsRequest) (*pb.RenewSourceCredentialsResponse, error) {
	p, ok := s.impl.(source.Renewer)
	if !ok {
		return nil, errorToStatus(source.ErrUnimplemented)
	}
	res, err := p.RenewSourceCredentials(ctx, instanceFromPB(r.GetInstance()))
	if err != nil {
		return nil, errorToStatus(err)
	}
	return renewalToPB(res), nil
}
