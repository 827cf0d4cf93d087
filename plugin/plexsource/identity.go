package plexsource

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/plexlogin/plexlogin/mappings"
	"github.com/plexlogin/plexlogin/plugin/access"
	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// mappingInput turns a Plex account and its access facts into the mapping input. The names
// a person chooses at plex.tv are cut to the host's bound (source.MaxNameLength), so a long
// one never makes the mapping's value limit fail the login.
func mappingInput(u *plextv.User, f access.Facts, inst source.Instance) mappings.Input {
	servers := make([]Server, 0, len(f.Servers))
	for _, s := range f.Servers {
		servers = append(servers, Server{MachineID: s.MachineID, Name: s.Name, Owned: s.Owned, Home: s.Home, Product: s.Product, Pending: s.Pending})
	}
	return mappings.Input{
		Vars: map[string]any{"user": User{ID: int64(u.ID), UUID: string(u.UUID), Username: source.CutName(string(u.Username)), Title: source.CutName(u.DisplayName()),
			Email: string(u.Email), Confirmed: bool(u.Confirmed), Thumb: string(u.Thumb), Locale: string(u.Locale),
			PlexPass: u.PlexPass(), TwoFactor: bool(u.TwoFactorEnabled), IsOwner: f.IsOwner, IsHomeMember: f.IsHomeMember,
			IsManaged: f.IsManaged, IsFriend: f.IsFriend, Servers: servers}},
		Source: mappings.Source{ID: inst.ID, Slug: inst.Slug, Name: inst.Name},
		Raw:    u.Raw,
	}
}

// applyMappings evaluates prog and fills the identity's attributes; the subject is never mapped.
func applyMappings(ctx context.Context, prog *mappings.Program, in mappings.Input) (source.Identity, *mappings.Result, error) {
	user := mappedUser(in)
	id := source.Identity{Subject: strconv.FormatInt(user.ID, 10)}
	res, err := prog.Eval(ctx, in)
	if err != nil {
		return id, nil, &source.Error{Kind: source.KindInternal, ReasonCode: "mapping_failed",
			UserText: "This login could not be completed because of a configuration problem. The administrator can see why.", AdminDetail: err.Error()}
	}
	extra := map[string]any{}
	for k, v := range res.Attributes {
		switch k {
		case "preferred_username":
			id.PreferredUsername, _ = v.(string)
		case "email":
			id.Email, _ = v.(string)
		case "email_verified":
			id.EmailVerified, _ = v.(bool)
		case "name":
			id.Name, _ = v.(string)
		case "picture":
			id.Picture, _ = v.(string)
		case "groups":
			id.Groups, _ = v.([]string)
		default:
			extra[k] = v
		}
	}
	// email_verified only ever comes from Plex's confirmed flag, for the email Plex has.
	if id.EmailVerified && (!user.Confirmed || id.Email != user.Email) {
		id.EmailVerified = false
	}
	id.Attributes, _ = json.Marshal(extra)
	raw, _ := json.Marshal(in.Raw)
	id.Raw = raw
	return id, &res, nil
}

// buildIdentity maps an admitted user; an access condition of the mappings may still deny.
// With SSOField on, token is kept once: handed over when want asks (the host keeps it, deletes
// it when access ends and passes it to Revalidate), else in the revalidation state.
func buildIdentity(ctx context.Context, in *instance, inst source.Instance, u *plextv.User, res access.Result, token string, want []string) (source.Identity, error) {
	id, mres, err := applyMappings(ctx, in.prog, mappingInput(u, res.Facts, inst))
	if err != nil {
		return source.Identity{}, err
	}
	if mres.Denied {
		return source.Identity{}, &source.Error{Kind: source.KindAccessDenied, ReasonCode: "mapping_condition", UserText: mres.DenyReason,
			AdminDetail: "access condition of mapping set [" + mres.DeniedBy + "] is false | " + res.AdminDetail,
			Subject:     strconv.FormatInt(int64(u.ID), 10), DisplayName: u.AdminName()}
	}
	st := revalidationState{ID: int64(u.ID)}
	id.Credentials = handOver(in.cfg, want, token)
	if in.cfg.PlexWebSSO && len(id.Credentials) == 0 {
		st.Token = token // a host that does not keep it (did not ask): the state is the one copy
	}
	id.RevalidationState, _ = json.Marshal(st)
	id.Decision = source.Decision{Allowed: true, ReasonCode: res.Reason, UserText: res.UserText, AdminDetail: res.AdminDetail}
	id.PreviewSample, _ = json.Marshal(loginDocument{Version: 1, Account: u.Raw, Facts: res.Facts})
	return id, nil
}

// Icon is the Plex chevron as a data URL.
const Icon = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA2NCA2NCI+PHJlY3Qgd2lkdGg9IjY0IiBoZWlnaHQ9IjY0IiByeD0iMTIiIGZpbGw9IiMxZjFmMWYiLz48cGF0aCBkPSJNMjIgMTJoMTRsMTYgMjAtMTYgMjBIMjJsMTYtMjB6IiBmaWxsPSIjZTVhMDBkIi8+PC9zdmc+"
