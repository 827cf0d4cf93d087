package host

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// What an admin asks of a source's plugin about one person without logging anyone in: the
// mapping editor's preview and the "would this person get in?" dry run.

// ErrNoPerson: no person (and, for a preview, no document) was given.
var ErrNoPerson = errors.New("no person given")

// ErrUnknownPerson: no one of that name logged in or was refused here, and it is not an id.
var ErrUnknownPerson = errors.New("no one of that name is known here")

// IsID reports whether who is a non-empty run of ASCII digits: an id rather than a name.
func IsID(who string) bool {
	for _, c := range who {
		if c < '0' || c > '9' {
			return false
		}
	}
	return who != ""
}

// PreviewAsk asks what a draft mapping makes of one person.
type PreviewAsk struct {
	// Field is the mapping's field in the settings and Text its draft.
	Field, Text string
	// Person is a username or id: their last login's document when the host has one, else
	// (someone known here, or an id) the owner-side view of them. Sample is a pasted
	// document, used when Person is empty.
	Person, Sample string
}

// Preview is what a draft mapping makes of one person.
type Preview struct {
	Result source.PreviewResult
	// User is the person whose last login's document was mapped (nil: another document).
	User *store.User
	// OwnerList is set when the person was looked up in the owner's list of users.
	OwnerList bool
}

// Preview maps one person with the draft mapping of ask, unsaved. ErrNoPerson,
// ErrUnknownPerson, or the plugin's error.
func (s *Sources) Preview(ctx context.Context, src *store.Source, p *Plugin, ask PreviewAsk) (Preview, error) {
	draft, _ := json.Marshal(map[string]string{ask.Field: ask.Text})
	req := source.PreviewRequest{Mappings: draft}
	var out Preview
	switch person := strings.TrimSpace(ask.Person); {
	case person != "":
		// A person refused before any login is known by the id their events have.
		known := s.FindPerson(ctx, src.ID, person)
		switch {
		case known != nil && known.User != nil && len(known.User.PreviewSample) > 0:
			req.Sample, out.User = json.RawMessage(known.User.PreviewSample), known.User
		case known != nil || IsID(person):
			req.SampleUserID, out.OwnerList = person, true
			if known != nil {
				req.SampleUserID = known.Subject
			}
		default:
			return Preview{}, ErrUnknownPerson
		}
	case strings.TrimSpace(ask.Sample) != "":
		req.Sample = json.RawMessage(ask.Sample)
	default:
		return Preview{}, ErrNoPerson
	}
	res, err := p.Process.PreviewMapping(ctx, Draft(src), req)
	if err != nil {
		return Preview{}, err
	}
	out.Result = res
	return out, nil
}

// DryRun is whether a person would get in now, by the plugin's re-validation.
type DryRun struct {
	// Person is who was checked when known here (nil: checked by the id given).
	Person *PersonRef
	// Result is the plugin's answer, or Err why it could not check.
	Result source.Revalidation
	Err    *source.Error
}

// DryRun checks whether who (a username, name or id) would get in now with the saved
// settings, without logging anyone in: a person who logged in here with their own stored
// state, one refused before any login by the subject of their newest event here.
// ErrNoPerson, or ErrUnknownPerson (the plugin is not asked).
func (s *Sources) DryRun(ctx context.Context, src *store.Source, p *Plugin, who string) (DryRun, error) {
	if who == "" {
		return DryRun{}, ErrNoPerson
	}
	out := DryRun{Person: s.FindPerson(ctx, src.ID, who)}
	req := source.RevalidateRequest{Subject: who}
	switch {
	case out.Person == nil && !IsID(who):
		return DryRun{}, ErrUnknownPerson
	case out.Person != nil && out.Person.User != nil:
		req.Subject, req.State = out.Person.User.Subject, out.Person.User.Revalidation
	case out.Person != nil:
		req.Subject = out.Person.Subject
	}
	rv, err := p.Process.Revalidate(ctx, ForAction(src), req)
	if err != nil {
		s.NoteExpired(ctx, src, err)
		out.Err = source.AsError(err)
		return out, nil
	}
	out.Result = rv
	return out, nil
}
