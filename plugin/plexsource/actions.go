package plexsource

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// TokenHealth is the three-state health of an owner token.
type TokenHealth string

// Token health states: only a 401 (or 422 "Invalid token") is ever "revoked".
const (
	TokenValid   TokenHealth = "valid"
	TokenRevoked TokenHealth = "revoked"
	TokenUnknown TokenHealth = "unknown"
)

// tokenHealth asks plex.tv whether token still works.
func tokenHealth(ctx context.Context, c *plextv.Client, token string) (TokenHealth, *plextv.User, error) {
	u, err := c.User(ctx, token)
	switch {
	case err == nil:
		return TokenValid, u, nil
	case plextv.IsRevokedToken(err):
		return TokenRevoked, nil, err
	}
	return TokenUnknown, nil, err
}

// RunAction runs the admin actions declared under x-actions.
func (p *Plex) RunAction(ctx context.Context, inst source.Instance, req source.ActionRequest) (source.ActionResult, error) {
	switch req.ActionID {
	case ActionLoadServers, ActionReauthorize:
		return p.ownerSignIn(ctx, inst, req)
	case ActionCheckMachineID:
		return p.checkMachineID(ctx, inst, req)
	case ActionOwnerTokenHealth:
		return p.ownerTokenHealth(ctx, inst)
	case ActionUpgrade:
		return p.upgrade(ctx, inst)
	case ActionReauthorizeKey:
		return p.reauthorizeKey(ctx, inst, req)
	}
	return source.ActionResult{}, source.Errorf(source.KindInvalidRequest, "unknown_action", "", "no action %q", req.ActionID)
}

// actionInstance is like instance but accepts a draft config whose only problem is
// a missing server list or owner token (the very things the actions fill in). A draft
// without a client identifier gets one derived from the instance id, so a PIN created
// before a plugin restart is still checked with the identifier that created it.
func (p *Plex) actionInstance(inst source.Instance) (*instance, error) {
	in, err := p.instance(inst)
	if err == nil {
		return in, nil
	}
	cfg, errs := decodeConfig(inst.Config)
	if len(errs) > 0 {
		return nil, err
	}
	if cfg.ClientIdentifier == "" {
		h := sha256.Sum256([]byte("plex-source-draft:" + inst.ID))
		cfg.ClientIdentifier = hex.EncodeToString(h[:16])
	}
	if cfg.StateKey == "" {
		// A never-saved source has no key yet: one derived from the instance id binds its
		// action states to it across plugin restarts (it does not hide them; the host keeps
		// them server-side, encrypted).
		h := sha256.Sum256([]byte("plex-source-draft-state:" + inst.ID))
		cfg.StateKey = base64.StdEncoding.EncodeToString(h[:])
	}
	normalize(&cfg)
	cfg.AccessMode, cfg.AllowFriends = "any", false
	fixed, _ := json.Marshal(cfg)
	// Same version as the draft: each draft version gets its own cached instance.
	inst.Config, inst.ID = fixed, inst.ID+"#action"
	return p.instance(inst)
}

// ownerSignIn runs the PIN redirect for the owner; on return it offers the owner's
// servers (load_servers) or patches only the owner token (reauthorize).
func (p *Plex) ownerSignIn(ctx context.Context, inst source.Instance, req source.ActionRequest) (source.ActionResult, error) {
	in, err := p.actionInstance(inst)
	if err != nil {
		return source.ActionResult{}, err
	}
	if len(req.State) == 0 {
		if req.CallbackURL == "" {
			return source.ActionResult{}, source.Errorf(source.KindInvalidRequest, "no_callback", "", "callback URL missing")
		}
		u, st, exp, err := p.startPIN(ctx, in, "action/"+req.ActionID, inst.ID, req.CallbackURL)
		if err != nil {
			return source.ActionResult{}, err
		}
		return source.ActionResult{Redirect: &source.ActionRedirect{URL: u, State: st, ExpiresAt: exp}}, nil
	}
	var st loginState
	_, keep, err := openState(in, "action/"+req.ActionID, inst.ID, req.State, &st, "login_expired")
	if err != nil {
		return source.ActionResult{}, err
	}
	key := "action/" + inst.ID + "/" + strconv.FormatInt(st.PINID, 10)
	if p.used.add(key, keep) > 1 {
		return source.ActionResult{}, errReplayed
	}
	token, err := p.claimPIN(ctx, in, st)
	if err != nil {
		if source.AsError(err).Retryable {
			p.used.remove(key)
		}
		return source.ActionResult{}, err
	}
	patch, _ := json.Marshal(map[string]string{"owner_token": token})
	if req.ActionID == ActionReauthorize {
		return source.ActionResult{ConfigPatch: patch}, nil
	}
	rs, err := in.client.Resources(ctx, token)
	if err != nil {
		return source.ActionResult{}, plexError(err, "list servers")
	}
	choices := &source.ActionChoices{Field: "allowed_servers", Patch: patch}
	for _, r := range rs {
		if !r.IsServer() {
			continue
		}
		owned := "shared with you"
		if r.Owned {
			owned = "yours"
		}
		choices.Options = append(choices.Options, source.Choice{Value: string(r.ClientIdentifier), Label: string(r.Name),
			Description: fmt.Sprintf("%s, %s", r.Product, owned),
			Details:     map[string]string{"Machine ID": string(r.ClientIdentifier), "Last seen": lastSeen(string(r.LastSeenAt), time.Now())}})
	}
	return source.ActionResult{Choices: choices}, nil
}

func (p *Plex) checkMachineID(ctx context.Context, inst source.Instance, req source.ActionRequest) (source.ActionResult, error) {
	var input struct {
		MachineID string `json:"machine_id"`
	}
	if err := json.Unmarshal(req.Input, &input); err != nil {
		return source.ActionResult{}, source.Errorf(source.KindInvalidRequest, "bad_input", "", "input must be {\"machine_id\": …}")
	}
	mid := strings.TrimSpace(input.MachineID)
	if !machineIDRE.MatchString(mid) {
		return msg("error", "%q is not a Plex machine ID: 8 to 64 letters and digits (Plex Web → Settings → your server → General).", mid), nil
	}
	in, err := p.actionInstance(inst)
	if err != nil {
		return source.ActionResult{}, err
	}
	if in.cfg.OwnerToken == "" {
		return msg("warning", "The machine ID looks right, but it cannot be checked without the owner's sign-in."), nil
	}
	rs, err := in.client.Resources(ctx, in.cfg.OwnerToken)
	if err != nil {
		return msg("warning", "The machine ID looks right, but Plex could not be asked: %s", plexError(err, "list servers").UserText), nil
	}
	for _, r := range rs {
		if r.IsServer() && strings.EqualFold(string(r.ClientIdentifier), mid) {
			return msg("info", "Found %q (%s, owned: %v).", r.Name, r.Product, bool(r.Owned)), nil
		}
	}
	return msg("warning", "No server with machine ID %s is visible to the owner account.", mid), nil
}

// ownerTokenHealth checks every owner token on its own: one account's dead token turns the
// check red ("error") without hiding how the others are. A device-key token says when it
// expires; one plex.tv answers 498 (expired early) fails the check with the typed error
// that makes the host renew at once (contract 1.4).
func (p *Plex) ownerTokenHealth(ctx context.Context, inst source.Instance) (source.ActionResult, error) {
	in, err := p.actionInstance(inst)
	if err != nil {
		return source.ActionResult{}, err
	}
	slots := in.cfg.tokenSlots()
	if in.cfg.OwnerToken == "" || len(slots) == 0 {
		return msg("warning", "No owner token: use Sign in to Plex to load servers."), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	level, rank := "info", map[string]int{"info": 0, "warning": 1, "error": 2}
	var lines []string
	for i, s := range slots {
		h, u, err := tokenHealth(ctx, in.client, s.token)
		if errors.Is(err, plextv.ErrTokenExpired) {
			return source.ActionResult{}, plexError(err, "check "+s.field)
		}
		name := "the owner token"
		if i > 0 {
			name = "the owner token " + s.field
		}
		kind := ""
		if d := in.cfg.deviceFor(s.token); d != nil {
			kind = fmt.Sprintf(", a device-key token expiring %s", time.Unix(d.ExpiresAt, 0).UTC().Format(time.RFC3339))
		}
		var line, l string
		switch h {
		case TokenValid:
			line, l = fmt.Sprintf("valid: %s works (account %s%s).", name, u.DisplayName(), kind), "info"
		case TokenRevoked:
			line, l = fmt.Sprintf("revoked: Plex no longer accepts %s. Use Re-authorise with Plex.", name), "error"
		default:
			line, l = fmt.Sprintf("unknown: Plex could not be asked about %s (%s). Nothing was changed.", name, plexError(err, "check token").AdminDetail), "warning"
		}
		lines = append(lines, line)
		if rank[l] > rank[level] {
			level = l
		}
	}
	return msg(level, "%s", strings.Join(lines, "\n")), nil
}

func msg(level, format string, args ...any) source.ActionResult {
	return source.ActionResult{Message: &source.ActionMessage{Level: level, Text: fmt.Sprintf(format, args...)}}
}

// lastSeen says when plex.tv last saw a server, in words ("3 days ago"); plex.tv gives an
// RFC 3339 time or Unix seconds, and "unknown" when it gives neither.
func lastSeen(v string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		secs, err2 := strconv.ParseInt(v, 10, 64)
		if err2 != nil || secs <= 0 {
			return "unknown"
		}
		t = time.Unix(secs, 0)
	}
	d := now.Sub(t)
	switch {
	case d < 2*time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}
