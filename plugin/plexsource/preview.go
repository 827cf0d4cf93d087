package plexsource

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/plexlogin/plexlogin/plugin/access"
	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// previewDraft is the draft a mapping preview evaluates.
type previewDraft struct {
	Mappings               string `json:"mappings"`
	IncludeDefaultMappings *bool  `json:"include_default_mappings"`
}

// PreviewMapping evaluates draft mappings against a pasted Plex account document or a
// user of the owner's share list, and returns the attributes or the compile errors.
func (p *Plex) PreviewMapping(ctx context.Context, inst source.Instance, req source.PreviewRequest) (source.PreviewResult, error) {
	in, err := p.actionInstance(inst)
	if err != nil {
		return source.PreviewResult{}, err
	}
	draft := previewDraft{Mappings: in.cfg.Mappings, IncludeDefaultMappings: in.cfg.IncludeDefaultMappings}
	if len(req.Mappings) > 0 {
		if err := json.Unmarshal(req.Mappings, &draft); err != nil {
			return source.PreviewResult{}, source.Errorf(source.KindInvalidRequest, "bad_draft", "", "draft must be {\"mappings\": text, \"include_default_mappings\": bool}")
		}
	}
	prog, ferrs := compileMappings(draft.Mappings, draft.IncludeDefaultMappings == nil || *draft.IncludeDefaultMappings)
	if len(ferrs) > 0 {
		return source.PreviewResult{Errors: ferrs}, nil
	}
	var user *plextv.User
	var facts access.Facts
	switch {
	case req.SampleUserID != "":
		user, facts, err = p.ownerListUser(ctx, in, req.SampleUserID)
		if err != nil {
			return source.PreviewResult{}, err
		}
	case len(req.Sample) > 0:
		var doc loginDocument
		if json.Unmarshal(req.Sample, &doc) == nil && doc.Version == 1 && doc.Account != nil {
			// A login's own document: the account as plex.tv gave it and the facts the login found.
			account, _ := json.Marshal(doc.Account)
			if user, err = plextv.DecodeUser(account); err != nil {
				return source.PreviewResult{}, source.Errorf(source.KindInvalidRequest, "bad_sample", "", "login document: %v", err)
			}
			facts = doc.Facts
			break
		}
		user, err = plextv.DecodeUser(req.Sample)
		if err != nil {
			return source.PreviewResult{}, source.Errorf(source.KindInvalidRequest, "bad_sample", "", "sample is not a Plex account document: %v", err)
		}
		// A pasted document says nothing about servers; the facts stay false.
		facts.IsManaged = bool(user.Restricted) && user.Username == "" && user.Email == ""
	default:
		return source.PreviewResult{}, source.Errorf(source.KindInvalidRequest, "no_sample", "", "give a sample document or a user id")
	}
	input := mappingInput(user, facts, inst)
	if err := mappingDecl.CheckSizes(input); err != nil {
		return source.PreviewResult{}, source.Errorf(source.KindInvalidRequest, "sample_too_large",
			"The sample is larger than a Plex account document may be: "+err.Error()+".", "%v", err)
	}
	id, mres, err := applyMappings(ctx, prog, input)
	if err != nil {
		return source.PreviewResult{Errors: []source.FieldError{{Field: "mappings", Line: 1, Column: 1, Message: source.AsError(err).AdminDetail}}}, nil
	}
	id.Decision = source.Decision{Allowed: !mres.Denied, ReasonCode: "preview"}
	if mres.Denied {
		id.Decision.ReasonCode, id.Decision.UserText = "mapping_condition", mres.DenyReason
	}
	res := source.PreviewResult{Identity: id}
	if req.SampleUserID != "" {
		// The owner's lists do not carry these; the standard attributes made of them are unknown.
		res.Unknown = ownerListUnknown
	}
	return res, nil
}

// loginDocument is a login's mapping input, kept by the host (Identity.PreviewSample) and
// passed back as a preview sample: the account document (secrets stripped) and the facts.
type loginDocument struct {
	Version int            `json:"plex_login_document"`
	Account map[string]any `json:"account"`
	Facts   access.Facts   `json:"facts"`
}

// ownerListUnknown are the attributes an owner-side list cannot know (it has no
// confirmed flag, uuid or subscription for a friend).
var ownerListUnknown = []string{"email_verified", "uuid", "plex_pass"}

// ownerListUser builds a user and facts from the owner's share and Home lists.
func (p *Plex) ownerListUser(ctx context.Context, in *instance, id string) (*plextv.User, access.Facts, error) {
	var f access.Facts
	if in.cfg.OwnerToken == "" {
		return nil, f, source.Errorf(source.KindInvalidRequest, "no_owner_token", "", "a user id needs the owner's sign-in")
	}
	want, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, f, source.Errorf(source.KindInvalidRequest, "bad_user_id", "", "%q is not a Plex user id", id)
	}
	users, err := in.client.SharedUsers(ctx, in.cfg.OwnerToken)
	if err != nil {
		return nil, f, plexError(err, "read the owner's share list")
	}
	for _, u := range users {
		if int64(u.ID) != want {
			continue
		}
		f.IsFriend = true
		f.IsManaged = bool(u.Restricted) && u.Username == "" && u.Email == ""
		f.IsHomeMember = bool(u.Home)
		for _, s := range u.Servers {
			for _, a := range in.cfg.AllowedServers {
				if strings.EqualFold(a.MachineID, string(s.MachineIdentifier)) {
					name := a.Name
					if name == "" {
						name = string(s.Name)
					}
					f.Servers = append(f.Servers, access.ServerFact{MachineID: a.MachineID, Name: name, Pending: bool(s.Pending)})
				}
			}
		}
		return &plextv.User{ID: u.ID, UUID: u.UUID, Username: u.Username, Title: u.Title, Email: u.Email, Thumb: u.Thumb,
			Restricted: u.Restricted, Raw: map[string]any{"id": int64(u.ID), "username": string(u.Username),
				"title": string(u.Title), "email": string(u.Email), "thumb": string(u.Thumb)}}, f, nil
	}
	return nil, f, source.Errorf(source.KindInvalidRequest, "unknown_user", "", "no user %s in the owner's share list", id)
}
