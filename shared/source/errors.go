package source

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an *Error.
type Kind int

// Error kinds; the numbers match the wire enum.
const (
	KindUnspecified Kind = iota
	KindAccessDenied
	KindPending
	KindExpired
	KindUpstreamUnavailable
	KindRateLimited
	KindInvalidConfig
	KindInvalidCredentials
	KindSecondFactorRequired
	KindInvalidRequest
	KindReplayed
	KindInternal
	// KindUnimplemented marks an optional call the plugin does not have (gRPC UNIMPLEMENTED on the wire).
	KindUnimplemented Kind = 100
)

var kindNames = map[Kind]string{
	KindUnspecified:          "unspecified",
	KindAccessDenied:         "access_denied",
	KindPending:              "pending",
	KindExpired:              "expired",
	KindUpstreamUnavailable:  "upstream_unavailable",
	KindRateLimited:          "rate_limited",
	KindInvalidConfig:        "invalid_config",
	KindInvalidCredentials:   "invalid_credentials",
	KindSecondFactorRequired: "second_factor_required",
	KindInvalidRequest:       "invalid_request",
	KindReplayed:             "replayed",
	KindInternal:             "internal",
	KindUnimplemented:        "unimplemented",
}

// AllKinds lists the kinds a plugin can return over the wire.
var AllKinds = []Kind{KindAccessDenied, KindPending, KindExpired, KindUpstreamUnavailable, KindRateLimited,
	KindInvalidConfig, KindInvalidCredentials, KindSecondFactorRequired, KindInvalidRequest, KindReplayed, KindInternal}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// FieldError is a problem with one config field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

func (f FieldError) String() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", f.Field, f.Line, f.Column, f.Message)
	}
	return f.Field + ": " + f.Message
}

// Error is the typed error every call may return; it survives the wire.
type Error struct {
	Kind        Kind
	ReasonCode  string
	UserText    string
	AdminDetail string
	FieldErrors []FieldError
	Retryable   bool
	// Subject and DisplayName say who a refused login was about, when known (else empty).
	Subject, DisplayName string
	// WrongGuess says a ContinueLogin answer was a wrong guess at a guarded choice and the
	// login ends here: the host keeps the guess counted (contract 1.3).
	WrongGuess bool
	// SourceCredentialsExpired says the call failed because credentials the source's own
	// config holds expired early: the host renews them at once (contract 1.4).
	SourceCredentialsExpired bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.ReasonCode != "" {
		b.WriteString(" (" + e.ReasonCode + ")")
	}
	if e.AdminDetail != "" {
		b.WriteString(": " + e.AdminDetail)
	} else if e.UserText != "" {
		b.WriteString(": " + e.UserText)
	}
	for _, f := range e.FieldErrors {
		b.WriteString("; " + f.String())
	}
	return b.String()
}

// Is matches another *Error of the same kind (and reason code, when target has one).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Kind == e.Kind && (t.ReasonCode == "" || t.ReasonCode == e.ReasonCode)
}

// Errorf returns an *Error of kind k whose admin detail is the formatted text.
func Errorf(k Kind, reason, userText, format string, args ...any) *Error {
	return &Error{Kind: k, ReasonCode: reason, UserText: userText, AdminDetail: fmt.Sprintf(format, args...),
		Retryable: k == KindUpstreamUnavailable || k == KindRateLimited || k == KindPending}
}

// InvalidConfig returns an invalid-config error carrying field errors.
func InvalidConfig(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalidConfig, ReasonCode: "invalid_config", UserText: "The configuration is not valid.",
		FieldErrors: fields}
}

// KindOf returns the kind of err's *Error, KindUnspecified when it has none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnspecified
}

// AsError returns err's *Error, or an internal one wrapping err's text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, ReasonCode: "internal", UserText: "Something went wrong.", AdminDetail: err.Error()}
}

// ErrUnimplemented is returned by hosts for optional calls a plugin lacks.
var ErrUnimplemented = &Error{Kind: KindUnimplemented, ReasonCode: "unimplemented", UserText: "Not supported by this source."}

// ExpiredSourceCredentials is the error of a call that failed because the source's own
// credentials expired early (contract 1.4): retryable and of kind upstream_unavailable, as a
// host of an earlier version should see it, and marked so a host of 1.4 renews at once.
func ExpiredSourceCredentials(userText, format string, args ...any) *Error {
	e := Errorf(KindUpstreamUnavailable, "source_credentials_expired", userText, format, args...)
	e.SourceCredentialsExpired = true
	return e
}

// SourceCredentialsExpired reports whether err says the source's own credentials expired.
func SourceCredentialsExpired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.SourceCredentialsExpired
}
