package source

import (
	"errors"
	"fmt"
	"time"
)

// Limits of a GuessGuard a host keeps.
const (
	// MaxGuardKey is the longest GuessGuard.Key, in bytes.
	MaxGuardKey = 200
	// MinGuardWindow is the shortest GuessGuard.Window (the wire carries whole seconds).
	MinGuardWindow = time.Second
)

// GuessGuard says that answering a choice of a login step is a guess of a secret (such as a
// PIN) and limits wrong guesses across the installation, whatever process answers (contract
// 1.3). Before ContinueLogin with the choice, the host counts one guess under Key (within the
// source); once Max were counted within Window (from the first of them) it refuses without
// calling the plugin, with ReasonCode and UserText. It takes the guess back unless the plugin
// answers that it was wrong (LoginStep.WrongGuess or Error.WrongGuess). An older host ignores
// guards, so a plugin keeps a limit of its own too.
type GuessGuard struct {
	// Key names what is guessed, unique within the source (for example "pin/<profile id>").
	Key string `json:"key"`
	// Max is how many wrong guesses Window allows, at least 1.
	Max int `json:"max"`
	// Window is how long the count lasts, from the first guess counted.
	Window time.Duration `json:"window"`
	// ReasonCode names the refusal once the limit is reached, for the admin's events.
	ReasonCode string `json:"reason_code,omitempty"`
	// UserText is the refusal in the person's words: what happened and when to try again.
	UserText string `json:"user_text,omitempty"`
}

// Check says what makes g unusable, nil when a host can keep it.
func (g GuessGuard) Check() error {
	switch {
	case g.Key == "":
		return errors.New("guess guard without a key")
	case len(g.Key) > MaxGuardKey:
		return fmt.Errorf("guess guard key longer than %d bytes", MaxGuardKey)
	case g.Max < 1:
		return fmt.Errorf("guess guard %q allows %d wrong guesses, at least 1 is needed", g.Key, g.Max)
	case g.Window < MinGuardWindow:
		return fmt.Errorf("guess guard %q has a window of %s, at least %s is needed", g.Key, g.Window, MinGuardWindow)
	}
	return nil
}

// GuardOf is the guard of the choice value among a step's choices, nil when it has none.
func (st *LoginStep) GuardOf(value string) *GuessGuard {
	for _, c := range st.Choices {
		if c.Value == value {
			return c.Guard
		}
	}
	return nil
}

// WrongGuess reports whether a ContinueLogin answer (an identity or step, or an error) says
// the guess it checked was wrong.
func WrongGuess(id Identity, err error) bool {
	if err != nil {
		var e *Error
		return errors.As(err, &e) && e.WrongGuess
	}
	return id.Step != nil && id.Step.WrongGuess
}
