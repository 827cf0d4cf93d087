package pluginrpc

// The one place that converts between protobuf messages and source types.

import (
	"encoding/json"
	"errors"
	"math"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/plexlogin/plexlogin/shared/gen/fedsourcev1"
	"github.com/plexlogin/plexlogin/shared/source"
)

func instanceToPB(i source.Instance) *pb.Instance {
	return &pb.Instance{Id: i.ID, ConfigVersion: i.ConfigVersion, ConfigJson: string(i.Config), Slug: i.Slug, Name: i.Name}
}

func instanceFromPB(i *pb.Instance) source.Instance {
	if i == nil {
		return source.Instance{}
	}
	return source.Instance{ID: i.GetId(), ConfigVersion: i.GetConfigVersion(), Config: rawOrNil(i.GetConfigJson()),
		Slug: i.GetSlug(), Name: i.GetName()}
}

func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func descriptorToPB(d source.Descriptor) *pb.DescribeResponse {
	return &pb.DescribeResponse{Id: d.ID, Name: d.Name, Version: d.Version, ProtocolVersion: uint32(d.ProtocolVersion),
		Capabilities: d.Capabilities, Icon: d.Icon, ConfigSchemaJson: string(d.ConfigSchema), CredentialKinds: credentialKindsToPB(d.CredentialKinds)}
}

func credentialKindsToPB(ks []source.CredentialKind) []*pb.CredentialKind {
	var out []*pb.CredentialKind
	for _, k := range ks {
		out = append(out, &pb.CredentialKind{Kind: k.Kind, App: k.App, StorageKey: k.StorageKey, StartPath: k.StartPath,
			ConfigField: k.ConfigField, Description: k.Description, Name: k.Name, Upstream: k.Upstream})
	}
	return out
}

func credentialKindsFromPB(ks []*pb.CredentialKind) []source.CredentialKind {
	var out []source.CredentialKind
	for _, k := range ks {
		out = append(out, source.CredentialKind{Kind: k.GetKind(), App: k.GetApp(), StorageKey: k.GetStorageKey(),
			StartPath: k.GetStartPath(), ConfigField: k.GetConfigField(), Description: k.GetDescription(),
			Name: k.GetName(), Upstream: k.GetUpstream()})
	}
	return out
}

func credentialsToPB(cs []source.Credential) []*pb.Credential {
	var out []*pb.Credential
	for _, c := range cs {
		out = append(out, &pb.Credential{Kind: c.Kind, Value: c.Value})
	}
	return out
}

func credentialsFromPB(cs []*pb.Credential) []source.Credential {
	var out []source.Credential
	for _, c := range cs {
		out = append(out, source.Credential{Kind: c.GetKind(), Value: c.GetValue()})
	}
	return out
}

func descriptorFromPB(r *pb.DescribeResponse) source.Descriptor {
	return source.Descriptor{ID: r.GetId(), Name: r.GetName(), Version: r.GetVersion(), ProtocolVersion: int(r.GetProtocolVersion()),
		Capabilities: r.GetCapabilities(), Icon: r.GetIcon(), ConfigSchema: rawOrNil(r.GetConfigSchemaJson()),
		CredentialKinds: credentialKindsFromPB(r.GetCredentialKinds())}
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(u int64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(u, 0)
}

func decisionToPB(d source.Decision) *pb.Decision {
	return &pb.Decision{Allowed: d.Allowed, ReasonCode: d.ReasonCode, UserText: d.UserText, AdminDetail: d.AdminDetail}
}

func decisionFromPB(d *pb.Decision) source.Decision {
	return source.Decision{Allowed: d.GetAllowed(), ReasonCode: d.GetReasonCode(), UserText: d.GetUserText(), AdminDetail: d.GetAdminDetail()}
}

func identityToPB(id source.Identity) *pb.Identity {
	return &pb.Identity{Sub: id.Subject, PreferredUsername: id.PreferredUsername, Email: id.Email, EmailVerified: id.EmailVerified,
		Name: id.Name, Picture: id.Picture, Groups: id.Groups, AttributesJson: string(id.Attributes), RawJson: string(id.Raw),
		Decision: decisionToPB(id.Decision), RevalidationState: id.RevalidationState, PreviewSample: id.PreviewSample,
		Credentials: credentialsToPB(id.Credentials)}
}

func identityFromPB(id *pb.Identity) source.Identity {
	return source.Identity{Subject: id.GetSub(), PreferredUsername: id.GetPreferredUsername(), Email: id.GetEmail(),
		EmailVerified: id.GetEmailVerified(), Name: id.GetName(), Picture: id.GetPicture(), Groups: id.GetGroups(),
		Attributes: rawOrNil(id.GetAttributesJson()), Raw: rawOrNil(id.GetRawJson()), Decision: decisionFromPB(id.GetDecision()),
		RevalidationState: id.GetRevalidationState(), PreviewSample: id.GetPreviewSample(), Credentials: credentialsFromPB(id.GetCredentials())}
}

func choicesToPB(cs []source.Choice) []*pb.Choice {
	out := make([]*pb.Choice, 0, len(cs))
	for _, o := range cs {
		out = append(out, &pb.Choice{Value: o.Value, Label: o.Label, Description: o.Description, Details: o.Details,
			Guard: guardToPB(o.Guard)})
	}
	return out
}

func choicesFromPB(cs []*pb.Choice) []source.Choice {
	var out []source.Choice
	for _, o := range cs {
		out = append(out, source.Choice{Value: o.GetValue(), Label: o.GetLabel(), Description: o.GetDescription(), Details: o.GetDetails(),
			Guard: guardFromPB(o.GetGuard())})
	}
	return out
}

func guardToPB(g *source.GuessGuard) *pb.GuessGuard {
	if g == nil {
		return nil
	}
	return &pb.GuessGuard{Key: g.Key, Max: int32(min(g.Max, math.MaxInt32)), WindowSeconds: int64(g.Window / time.Second),
		ReasonCode: g.ReasonCode, UserText: g.UserText}
}

func guardFromPB(g *pb.GuessGuard) *source.GuessGuard {
	if g == nil {
		return nil
	}
	return &source.GuessGuard{Key: g.GetKey(), Max: int(g.GetMax()), Window: time.Duration(g.GetWindowSeconds()) * time.Second,
		ReasonCode: g.GetReasonCode(), UserText: g.GetUserText()}
}

// loginResultToPB splits an identity into the response's identity or step.
func loginResultToPB(id source.Identity) (*pb.Identity, *pb.LoginStep) {
	if st := id.Step; st != nil {
		step := &pb.LoginStep{Title: st.Title, Text: st.Text, Choices: choicesToPB(st.Choices), State: st.State,
			ExpiresAtUnix: unixOrZero(st.ExpiresAt), Error: st.Error, WrongGuess: st.WrongGuess}
		for _, f := range st.Fields {
			step.Fields = append(step.Fields, &pb.StepField{Name: f.Name, Title: f.Title, Secret: f.Secret, InputMode: f.InputMode})
		}
		return nil, step
	}
	return identityToPB(id), nil
}

func loginResultFromPB(id *pb.Identity, st *pb.LoginStep) source.Identity {
	if st == nil {
		return identityFromPB(id)
	}
	step := &source.LoginStep{Title: st.GetTitle(), Text: st.GetText(), Choices: choicesFromPB(st.GetChoices()), State: st.GetState(),
		ExpiresAt: timeOrZero(st.GetExpiresAtUnix()), Error: st.GetError(), WrongGuess: st.GetWrongGuess()}
	for _, f := range st.GetFields() {
		step.Fields = append(step.Fields, source.StepField{Name: f.GetName(), Title: f.GetTitle(), Secret: f.GetSecret(), InputMode: f.GetInputMode()})
	}
	return source.Identity{Step: step}
}

func fieldErrorsToPB(fs []source.FieldError) []*pb.FieldError {
	out := make([]*pb.FieldError, 0, len(fs))
	for _, f := range fs {
		out = append(out, &pb.FieldError{Field: f.Field, Message: f.Message, Line: int32(f.Line), Column: int32(f.Column)})
	}
	return out
}

func fieldErrorsFromPB(fs []*pb.FieldError) []source.FieldError {
	var out []source.FieldError
	for _, f := range fs {
		out = append(out, source.FieldError{Field: f.GetField(), Message: f.GetMessage(), Line: int(f.GetLine()), Column: int(f.GetColumn())})
	}
	return out
}

func actionResultToPB(r source.ActionResult) *pb.RunActionResponse {
	switch {
	case r.Redirect != nil:
		return &pb.RunActionResponse{Result: &pb.RunActionResponse_Redirect{Redirect: &pb.ActionRedirect{
			Url: r.Redirect.URL, ActionState: r.Redirect.State, ExpiresAtUnix: unixOrZero(r.Redirect.ExpiresAt)}}}
	case r.Choices != nil:
		return &pb.RunActionResponse{Result: &pb.RunActionResponse_Choices{Choices: &pb.ActionChoices{
			Field: r.Choices.Field, Options: choicesToPB(r.Choices.Options), PatchJson: string(r.Choices.Patch)}}}
	case r.ConfigPatch != nil:
		return &pb.RunActionResponse{Result: &pb.RunActionResponse_ConfigPatch{ConfigPatch: &pb.ActionConfigPatch{ValuesJson: string(r.ConfigPatch)}}}
	case r.Message != nil:
		return &pb.RunActionResponse{Result: &pb.RunActionResponse_Message{Message: &pb.ActionMessage{Text: r.Message.Text, Level: r.Message.Level}}}
	}
	return &pb.RunActionResponse{}
}

func actionResultFromPB(r *pb.RunActionResponse) source.ActionResult {
	switch v := r.GetResult().(type) {
	case *pb.RunActionResponse_Redirect:
		return source.ActionResult{Redirect: &source.ActionRedirect{URL: v.Redirect.GetUrl(), State: v.Redirect.GetActionState(),
			ExpiresAt: timeOrZero(v.Redirect.GetExpiresAtUnix())}}
	case *pb.RunActionResponse_Choices:
		return source.ActionResult{Choices: &source.ActionChoices{Field: v.Choices.GetField(), Patch: rawOrNil(v.Choices.GetPatchJson()),
			Options: choicesFromPB(v.Choices.GetOptions())}}
	case *pb.RunActionResponse_ConfigPatch:
		return source.ActionResult{ConfigPatch: json.RawMessage(v.ConfigPatch.GetValuesJson())}
	case *pb.RunActionResponse_Message:
		return source.ActionResult{Message: &source.ActionMessage{Text: v.Message.GetText(), Level: v.Message.GetLevel()}}
	}
	return source.ActionResult{}
}

var kindCodes = map[source.Kind]codes.Code{
	source.KindAccessDenied:         codes.PermissionDenied,
	source.KindPending:              codes.FailedPrecondition,
	source.KindExpired:              codes.NotFound,
	source.KindUpstreamUnavailable:  codes.Unavailable,
	source.KindRateLimited:          codes.ResourceExhausted,
	source.KindInvalidConfig:        codes.InvalidArgument,
	source.KindInvalidCredentials:   codes.Unauthenticated,
	source.KindSecondFactorRequired: codes.Unauthenticated,
	source.KindInvalidRequest:       codes.InvalidArgument,
	source.KindReplayed:             codes.AlreadyExists,
	source.KindInternal:             codes.Internal,
	source.KindUnimplemented:        codes.Unimplemented,
}

// errorToStatus turns any error into a gRPC status carrying one SourceError.
func errorToStatus(err error) error {
	if err == nil {
		return nil
	}
	e := source.AsError(err)
	code, ok := kindCodes[e.Kind]
	if !ok {
		code = codes.Unknown
	}
	msg := e.Kind.String()
	if e.ReasonCode != "" {
		msg += ": " + e.ReasonCode
	}
	st := status.New(code, msg)
	withDetails, derr := st.WithDetails(sourceErrorToPB(e))
	if derr != nil {
		return st.Err()
	}
	return withDetails.Err()
}

func sourceErrorToPB(e *source.Error) *pb.SourceError {
	return &pb.SourceError{Kind: pb.ErrorKind(e.Kind), ReasonCode: e.ReasonCode, UserText: e.UserText,
		AdminDetail: e.AdminDetail, FieldErrors: fieldErrorsToPB(e.FieldErrors), Retryable: e.Retryable, Subject: e.Subject,
		DisplayName: e.DisplayName, WrongGuess: e.WrongGuess, SourceCredentialsExpired: e.SourceCredentialsExpired}
}

func sourceErrorFromPB(se *pb.SourceError) *source.Error {
	return &source.Error{Kind: source.Kind(se.GetKind()), ReasonCode: se.GetReasonCode(), UserText: se.GetUserText(),
		AdminDetail: se.GetAdminDetail(), FieldErrors: fieldErrorsFromPB(se.GetFieldErrors()), Retryable: se.GetRetryable(),
		Subject: se.GetSubject(), DisplayName: se.GetDisplayName(), WrongGuess: se.GetWrongGuess(),
		SourceCredentialsExpired: se.GetSourceCredentialsExpired()}
}

// renewalToPB and renewalFromPB carry a renewal's answer (contract 1.4).
func renewalToPB(r source.Renewal) *pb.RenewSourceCredentialsResponse {
	out := &pb.RenewSourceCredentialsResponse{ConfigPatchJson: string(r.ConfigPatch), RenewAfterUnix: unixOrZero(r.RenewAfter)}
	for _, c := range r.Credentials {
		pc := &pb.ExpiringCredential{Field: c.Field, Label: c.Label, ExpiresAtUnix: unixOrZero(c.ExpiresAt), RenewedAtUnix: unixOrZero(c.RenewedAt),
			Warning: c.Warning}
		if c.Err != nil {
			pc.Error = sourceErrorToPB(c.Err)
		}
		out.Credentials = append(out.Credentials, pc)
	}
	return out
}

func renewalFromPB(r *pb.RenewSourceCredentialsResponse) source.Renewal {
	out := source.Renewal{ConfigPatch: rawOrNil(r.GetConfigPatchJson()), RenewAfter: timeOrZero(r.GetRenewAfterUnix())}
	for _, c := range r.GetCredentials() {
		ec := source.ExpiringCredential{Field: c.GetField(), Label: c.GetLabel(), ExpiresAt: timeOrZero(c.GetExpiresAtUnix()),
			RenewedAt: timeOrZero(c.GetRenewedAtUnix()), Warning: c.GetWarning()}
		if c.GetError() != nil {
			ec.Err = sourceErrorFromPB(c.GetError())
		}
		out.Credentials = append(out.Credentials, ec)
	}
	return out
}

// ErrTransport marks a failure of the plugin process or connection rather than of the plugin's logic.
var ErrTransport = errors.New("plugin transport failure")

// errorFromStatus turns a gRPC error back into the *source.Error it carries.
func errorFromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if se, ok := d.(*pb.SourceError); ok {
			return sourceErrorFromPB(se)
		}
	}
	switch st.Code() {
	case codes.Unimplemented:
		return source.ErrUnimplemented
	case codes.Unavailable, codes.Canceled:
		return &transportError{err: err}
	}
	return &source.Error{Kind: source.KindInternal, ReasonCode: "plugin_error", UserText: "Something went wrong.", AdminDetail: st.Message()}
}

type transportError struct{ err error }

func (t *transportError) Error() string { return "plugin unreachable: " + t.err.Error() }
func (t *transportError) Unwrap() []error {
	return []error{ErrTransport, t.err}
}

// IsTransport reports whether err is a failure of the plugin process or connection (worth a restart).
func IsTransport(err error) bool { return errors.Is(err, ErrTransport) }
