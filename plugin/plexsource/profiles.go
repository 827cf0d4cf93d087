package plexsource

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// profileState is the state of a "Who is watching?" step; it holds the account's token,
// so the host keeps it server-side, encrypted.
type profileState struct {
	V        int    `json:"v"`
	Instance string `json:"instance"`
	Token    string `json:"token"`
	Expires  int64  `json:"exp"`
}

const selfChoice = "self"

// profileStep lists the managed profiles of the account's Home. It answers nil when there
// are none, and fails closed (try again) when the list cannot be read.
func (p *Plex) profileStep(ctx context.Context, in *instance, inst source.Instance, user *plextv.User, token, errText string) (*source.LoginStep, error) {
	home, err := in.client.HomeUsers(ctx, token)
	if err != nil {
		e := plexError(err, "list Home profiles")
		if e.Kind == source.KindInternal || e.Kind == source.KindInvalidCredentials {
			e.Kind, e.Retryable = source.KindUpstreamUnavailable, true
		}
		e.ReasonCode, e.UserText = "home_profiles_unavailable", "Plex could not list your Home profiles. Please try again."
		return nil, e
	}
	choices := []source.Choice{{Value: selfChoice, Label: user.DisplayName(), Description: "This Plex account"}}
	for _, h := range home {
		if !h.Managed() || int64(h.ID) == int64(user.ID) {
			continue
		}
		c := source.Choice{Value: string(h.UUID), Label: string(h.Title), Description: "Managed profile"}
		if h.Protected {
			c.Details = map[string]string{"pin": "required"}
		}
		choices = append(choices, c)
	}
	if len(choices) == 1 {
		return nil, nil
	}
	exp := time.Now().Add(5 * time.Minute)
	st, _ := json.Marshal(profileState{V: 1, Instance: inst.ID, Token: token, Expires: exp.Unix()})
	return &source.LoginStep{Title: "Who is watching?", Text: "Pick your profile. A protected profile needs its PIN.",
		Choices: choices, Fields: []source.StepField{{Name: "pin", Title: "Profile PIN", Secret: true, InputMode: "numeric"}},
		State: st, ExpiresAt: exp, Error: errText}, nil
}

// ContinueLogin answers the profile step: the account itself, or a managed profile by
// switching to it with its PIN (a wrong PIN asks again).
func (p *Plex) ContinueLogin(ctx context.Context, inst source.Instance, req source.ContinueLogin) (source.Identity, error) {
	in, err := p.instance(inst)
	if err != nil {
		return source.Identity{}, err
	}
	var st profileState
	if err := json.Unmarshal(req.State, &st); err != nil || st.V != 1 || st.Token == "" || st.Instance != inst.ID {
		return source.Identity{}, errBadState
	}
	if time.Now().Unix() > st.Expires {
		return source.Identity{}, &source.Error{Kind: source.KindExpired, ReasonCode: "step_expired", UserText: "This login has expired. Please start again."}
	}
	user, err := in.client.User(ctx, st.Token)
	if err != nil {
		return source.Identity{}, plexError(err, "read account")
	}
	if req.Choice == selfChoice || req.Choice == "" {
		return p.decide(ctx, in, inst, user, st.Token)
	}
	profile, err := in.client.SwitchHomeUser(ctx, st.Token, req.Choice, req.Values["pin"])
	if errors.Is(err, plextv.ErrHomePIN) {
		step, serr := p.profileStep(ctx, in, inst, user, st.Token, "That PIN is not right.")
		if serr != nil || step == nil {
			return source.Identity{}, plexError(err, "switch profile")
		}
		return source.Identity{Step: step}, nil
	}
	if err != nil {
		return source.Identity{}, plexError(err, "switch profile")
	}
	return p.decide(ctx, in, inst, profile, string(profile.AuthToken))
}
