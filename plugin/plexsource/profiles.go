package plexsource

import (
	"context"
	"errors"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// profileState is what a sealed "Who is watching?" step holds: the account's token, the
// choices offered (value → PIN required) and the wrong PINs so far in this login.
type profileState struct {
	Token   string          `json:"token"`
	Account int64           `json:"account"`
	Offered map[string]bool `json:"offered"`
	Tries   int             `json:"tries"`
}

const (
	selfChoice = "self"
	// stepLifetime bounds a profile step.
	stepLifetime = 5 * time.Minute
	// maxPINTriesPerLogin wrong profile PINs end a login.
	maxPINTriesPerLogin = 3
	// maxPINTriesPerProfile wrong PINs for one profile, across logins, within pinTryWindow.
	maxPINTriesPerProfile = 5
	pinTryWindow          = 15 * time.Minute
)

// profileStep lists the managed profiles of the account's Home. It answers nil when there
// are none, and fails closed (try again) when the list cannot be read.
func (p *Plex) profileStep(ctx context.Context, in *instance, inst source.Instance, user *plextv.User, token, errText string, tries int) (*source.LoginStep, error) {
	home, err := in.client.HomeUsers(ctx, token)
	if err != nil {
		e := plexError(err, "list Home profiles")
		if e.Kind == source.KindInternal || e.Kind == source.KindInvalidCredentials {
			e.Kind, e.Retryable = source.KindUpstreamUnavailable, true
		}
		e.ReasonCode, e.UserText = "home_profiles_unavailable", "Plex could not list your Home profiles. Please try again."
		return nil, e
	}
	self := source.Choice{Value: selfChoice, Label: user.DisplayName(), Description: "This Plex account"}
	if user.Thumb != "" {
		self.Details = map[string]string{"thumb": string(user.Thumb)}
	}
	choices := []source.Choice{self}
	offered := map[string]bool{selfChoice: false}
	for _, h := range home {
		if !h.Managed() || int64(h.ID) == int64(user.ID) || h.UUID == "" {
			continue
		}
		// Details: "pin" required for a protected profile (the host shows the PIN field
		// only for those), "thumb" its avatar on plex.tv.
		c := source.Choice{Value: string(h.UUID), Label: string(h.Title), Description: "Managed profile", Details: map[string]string{}}
		if h.Protected {
			c.Details["pin"] = "required"
			c.Guard = pinGuard(c.Value)
		}
		if h.Thumb != "" {
			c.Details["thumb"] = string(h.Thumb)
		}
		offered[c.Value] = bool(h.Protected)
		choices = append(choices, c)
	}
	if len(choices) == 1 {
		return nil, nil
	}
	exp := time.Now().Add(stepLifetime)
	st, _ := in.seal.seal("step", inst.ID, exp, profileState{Token: token, Account: int64(user.ID), Offered: offered, Tries: tries})
	return &source.LoginStep{Title: "Who is watching?", Text: "Pick your profile. A protected profile needs its PIN.",
		Choices: choices, Fields: []source.StepField{{Name: "pin", Title: "Profile PIN", Secret: true, InputMode: "numeric"}},
		State: st, ExpiresAt: exp, Error: errText}, nil
}

// pinGuard is the guess guard of a protected profile: its wrong PINs counted by the host,
// across its replicas and our restarts, with the limit and the words of our own counter.
func pinGuard(profile string) *source.GuessGuard {
	return &source.GuessGuard{Key: "pin/" + profile, Max: maxPINTriesPerProfile, Window: pinTryWindow,
		ReasonCode: errPINLocked.ReasonCode, UserText: errPINLocked.UserText}
}

// errPINLocked refuses a profile whose wrong PINs reached the limit of its window.
var errPINLocked = &source.Error{Kind: source.KindRateLimited, ReasonCode: "profile_pin_locked",
	UserText:    "Too many wrong PINs for this profile. Wait a quarter of an hour and try again.",
	AdminDetail: "profile PIN tries exhausted for this profile"}

var errNotOffered = &source.Error{Kind: source.KindInvalidRequest, ReasonCode: "choice_not_offered",
	UserText: "That profile was not one of the choices. Please start again.", AdminDetail: "step answered with a choice it did not offer"}

// ContinueLogin answers the profile step: the account itself, or a managed profile it offered,
// by switching to it with its PIN. A wrong PIN asks again, a few times per login and per profile.
func (p *Plex) ContinueLogin(ctx context.Context, inst source.Instance, req source.ContinueLogin) (source.Identity, error) {
	in, err := p.instance(inst)
	if err != nil {
		return source.Identity{}, err
	}
	var st profileState
	nonce, keep, err := openState(in, "step", inst.ID, req.State, &st, "step_expired")
	if err != nil {
		return source.Identity{}, err
	}
	needsPIN, offered := st.Offered[req.Choice]
	if !offered || st.Token == "" {
		return source.Identity{}, errNotOffered
	}
	return p.once("step/"+nonce, keep, func() (source.Identity, error) {
		user, err := in.client.User(ctx, st.Token)
		if err != nil {
			return source.Identity{}, plexError(err, "read account")
		}
		if int64(user.ID) != st.Account {
			return source.Identity{}, errBadState
		}
		if req.Choice == selfChoice {
			return p.decide(ctx, in, inst, user, st.Token, req.Want)
		}
		profileKey := "pin/" + inst.ID + "/" + req.Choice
		// The host counts guesses per profile in its database (the choice's guard, shared by
		// its replicas); this count of our own process is the limit for a host that does not.
		if needsPIN && p.pinTries.count(profileKey) >= maxPINTriesPerProfile {
			return source.Identity{}, errPINLocked
		}
		profile, err := in.client.SwitchHomeUser(ctx, st.Token, req.Choice, req.Values["pin"])
		if errors.Is(err, plextv.ErrHomePIN) {
			// Every answer below says the guess was wrong, so the host keeps it counted.
			p.pinTries.add(profileKey, time.Now().Add(pinTryWindow))
			if st.Tries+1 >= maxPINTriesPerLogin {
				return source.Identity{}, &source.Error{Kind: source.KindInvalidCredentials, ReasonCode: "profile_pin_tries_exhausted",
					UserText: "That PIN was wrong too often. Please start again.", AdminDetail: "wrong profile PIN, tries of this login exhausted",
					WrongGuess: true}
			}
			step, serr := p.profileStep(ctx, in, inst, user, st.Token, "That PIN is not right.", st.Tries+1)
			if serr != nil || step == nil {
				e := *plexError(err, "switch profile")
				e.WrongGuess = true
				return source.Identity{}, &e
			}
			step.WrongGuess = true
			return source.Identity{Step: step}, nil
		}
		if err != nil {
			return source.Identity{}, plexError(err, "switch profile")
		}
		// A profile signs in with its own token from the switch, never the account's.
		return p.decide(ctx, in, inst, profile, string(profile.AuthToken), req.Want)
	})
}
