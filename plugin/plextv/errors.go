package plextv

import (
	"errors"
	"fmt"
)

// Sentinel errors an *Error matches with errors.Is.
var (
	ErrMissingClientID = errors.New("client identifier missing (1000)")
	ErrUnauthorized    = errors.New("token or credentials not accepted (401/1001)")
	ErrInvalidToken    = errors.New("token deauthorized (422 Invalid token)")
	ErrRateLimited     = errors.New("rate limited (429/1003)")
	ErrNotFound        = errors.New("code not found or expired (404/1020)")
	ErrSecondFactor    = errors.New("verification code required (1029)")
	ErrLockedOut       = errors.New("sign-in throttled after repeated failures (1031)")
	ErrHomePIN         = errors.New("a valid Home PIN is required (1041)")
	ErrGone            = errors.New("endpoint removed (410)")
	ErrForbidden       = errors.New("forbidden (403)")
	ErrUnavailable     = errors.New("plex.tv unavailable")
	ErrMalformed       = errors.New("malformed plex.tv answer")
	ErrTooLarge        = errors.New("plex.tv answer too large")
	// The device-key (JWT) errors Plex documents (plex-api.md §10).
	ErrTokenExpired    = errors.New("token expired (498)")
	ErrSignature       = errors.New("device key not accepted (422 Signature Verification Failed)")
	ErrThumbprintTaken = errors.New("device key already registered (422 Thumbprint Already Taken)")
	ErrBadRequest      = errors.New("request refused (400)")
)

// Error is a failed plex.tv call. Op names the endpoint with ids redacted; no URL,
// token or PIN id ever appears in it.
type Error struct {
	Op      string
	Status  int
	Code    int
	Message string
	kind    error
	cause   error
}

func (e *Error) Error() string {
	kind := ErrUnavailable
	if e.kind != nil {
		kind = e.kind
	}
	s := e.Op + ": " + kind.Error()
	if e.Status != 0 {
		s += fmt.Sprintf(" [HTTP %d", e.Status)
		if e.Code != 0 {
			s += fmt.Sprintf(", code %d", e.Code)
		}
		s += "]"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap lets errors.Is match the sentinel kind.
func (e *Error) Unwrap() error { return e.kind }

// Temporary reports whether trying again later may succeed.
func (e *Error) Temporary() bool {
	return e.kind == ErrUnavailable || e.kind == ErrRateLimited || e.kind == ErrMalformed || e.kind == ErrTooLarge
}

// IsTemporary reports whether err is a plex.tv failure that may pass (timeouts, 5xx, 429).
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary()
}

// IsRevokedToken reports whether err says the token itself is dead (401, or 422 "Invalid token").
func IsRevokedToken(err error) bool {
	return errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrInvalidToken)
}

// classify maps an HTTP status and plex.tv error code to a sentinel.
func classify(status, code int, message string) error {
	switch code {
	case 1000:
		return ErrMissingClientID
	case 1003:
		return ErrRateLimited
	case 1020:
		return ErrNotFound
	case 1029:
		return ErrSecondFactor
	case 1031:
		return ErrLockedOut
	case 1041:
		return ErrHomePIN
	case 1001:
		return ErrUnauthorized
	}
	switch {
	case status == 498:
		return ErrTokenExpired
	case status == 422 && message == "Signature Verification Failed":
		return ErrSignature
	case status == 422 && message == "Thumbprint Already Taken":
		return ErrThumbprintTaken
	case status == 400:
		return ErrBadRequest
	case status == 401:
		return ErrUnauthorized
	case status == 422 && message == "Invalid token":
		return ErrInvalidToken
	case status == 429:
		return ErrRateLimited
	case status == 404:
		return ErrNotFound
	case status == 410:
		return ErrGone
	case status == 403:
		return ErrForbidden
	case status >= 500:
		return ErrUnavailable
	}
	return ErrMalformed
}
