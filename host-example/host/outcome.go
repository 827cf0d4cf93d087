package host

import (
	"errors"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Outcome is where a login step leads: exactly one of Redirect, Step or SignedIn is set.
type Outcome struct {
	// Source is the login method.
	Source *store.Source
	// Redirect is the upstream's page the browser goes to (after Begin).
	Redirect string
	// Step is one more question for the person; its state is kept server-side.
	Step *source.LoginStep
	// SignedIn is the session the login started.
	SignedIn *SignedIn
	// Return is where the browser goes after the login, as it was asked for.
	Return string
}

// SignedIn is a finished login: the new session's cookie value and the cookie's expiry (zero:
// a browser-session cookie, for a session not kept on the device), and its user.
type SignedIn struct {
	Token   string
	Expires time.Time
	UserID  int64
	// Remembered: the session is kept on this device ("keep me signed in").
	Remembered bool
}

// The ways a login ends without an outcome, besides *FailedError, *PausedError,
// *ThrottledError, *SecondFactorError and store errors.
var (
	// ErrUnknownSource: no usable source of that slug (at the start of a login).
	ErrUnknownSource = errors.New("unknown login method")
	// ErrSourceOff: the source was turned off or removed while the login was under way.
	ErrSourceOff = errors.New("login method turned off")
	// ErrStale: the login's state expired, was used, or belongs to another session.
	ErrStale = errors.New("this login has expired or was already used")
	// ErrUserDisabled: the person's account here is disabled.
	ErrUserDisabled = errors.New("account disabled")
)

// FailedError is a login the plugin refused or could not finish; the event is recorded.
type FailedError struct {
	Source *store.Source
	Err    *source.Error
	// Retry is set when the same link may be tried again.
	Retry bool
}

func (e *FailedError) Error() string { return fmt.Sprintf("login with %s: %v", e.Source.Slug, e.Err) }

// Unwrap is the plugin's error.
func (e *FailedError) Unwrap() error { return e.Err }

// PausedError says a source's upstream asked us to back off: for Wait, only clients that
// are not flooding start logins with it.
type PausedError struct {
	Source *store.Source
	Wait   time.Duration
}

func (e *PausedError) Error() string {
	return fmt.Sprintf("%s asked to slow down: logins from busy networks paused for %s", e.Source.Name, e.Wait)
}

// ThrottledError says this client starts logins too fast, or (Busy) that the host's budget
// of login starts is spent for now; it may try again after Wait.
type ThrottledError struct {
	Wait time.Duration
	Busy bool
}

func (e *ThrottledError) Error() string {
	if e.Busy {
		return fmt.Sprintf("too many logins started on this host: wait %s", e.Wait)
	}
	return fmt.Sprintf("too many login attempts: wait %s", e.Wait)
}

// SecondFactorError asks for a one-time code; the password is kept for a few minutes.
type SecondFactorError struct {
	Source  *store.Source
	Account string
	// Text is the plugin's words for the person.
	Text string
	// Rejected is set when a code was given and not accepted.
	Rejected bool
}

func (e *SecondFactorError) Error() string { return "a one-time code is needed for " + e.Account }
