package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// The mapping editor's live preview and the "would this person get in?" dry run.

// preview is the mapping editor's live preview (JSON in, JSON out).
func (s *sourcePages) preview(w http.ResponseWriter, r *http.Request) error {
	src, p, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	var in struct {
		Field  string `json:"field"`
		Text   string `json:"text"`
		Sample string `json:"sample"`
		// Person is a username or id: their last login's document when the host has one,
		// else (an id) the owner-side view of them.
		Person string `json:"person"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	draft, _ := json.Marshal(map[string]string{in.Field: in.Text})
	req := source.PreviewRequest{Mappings: draft}
	from := "the pasted document"
	switch person := strings.TrimSpace(in.Person); {
	case person != "":
		// A person refused before any login is known by the id their events have.
		known := s.sources.FindPerson(r.Context(), src.ID, person)
		switch {
		case known != nil && known.User != nil && len(known.User.PreviewSample) > 0:
			u := known.User
			req.Sample = json.RawMessage(u.PreviewSample)
			from = fmt.Sprintf("%s's last login (%s UTC)", host.NameOf(u.Username, u.Name), u.LastLoginAt.UTC().Format("2006-01-02 15:04"))
		case known != nil || isDigits(person):
			req.SampleUserID = person
			if known != nil {
				req.SampleUserID = known.Subject
			}
			from = "the owner's list of users (what it cannot know is marked unknown)"
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"error": "No one called " + person + " has logged in here yet. Enter their id to preview them from the owner's list."})
			return nil
		}
	case strings.TrimSpace(in.Sample) != "":
		req.Sample = json.RawMessage(in.Sample)
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "Enter a person (username or id), or paste a document."})
		return nil
	}
	res, err := p.P.PreviewMapping(r.Context(), host.Draft(src), req)
	if err != nil {
		se := source.AsError(err)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": strings.TrimSpace(se.UserText + " " + se.AdminDetail)})
		return nil
	}
	out := map[string]any{"errors": res.Errors, "from": from}
	if len(res.Errors) == 0 {
		out["identity"] = map[string]any{"name": res.Identity.Name, "preferred_username": res.Identity.PreferredUsername,
			"email": res.Identity.Email, "email_verified": res.Identity.EmailVerified, "groups": res.Identity.Groups,
			"attributes": attributeRows(res.Identity.Attributes), "allowed": res.Identity.Decision.Allowed,
			"denied_text": res.Identity.Decision.UserText}
		out["unknown"] = res.Unknown
	}
	_ = json.NewEncoder(w).Encode(out)
	return nil
}

// isDigits reports whether s is a non-empty run of ASCII digits (an id rather than a name).
func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// dryRunResult is a dry run's answer, in words, shown beside its form.
type dryRunResult struct {
	Who, Verdict, Level, Text, Reason string
	// ReasonWords is the reason code in words; Facts the plugin's detail as a list.
	ReasonWords string
	Facts       []fact
	// User is the person's last login here (their groups and attributes), when there is one.
	User *store.User
}

// dryRunForm is the source page with the dry run's person filled in (?who=, as the events
// page's "Check again" links to it), not yet checked: a GET asks nothing of the upstream.
func (s *sourcePages) dryRunForm(w http.ResponseWriter, r *http.Request) error {
	src, p, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	s.renderEdit(w, r, http.StatusOK, editForm{src: src, p: p, cfg: host.Editing(src)},
		func(d *sourceEditPage) { d.DryRunWho = strings.TrimSpace(r.FormValue("who")) })
	return nil
}

// dryRun answers "would this person get in now?" from the plugin's re-validation: by
// username or id; a person who logged in here is checked with their own stored state, one
// refused before any login by the subject of their newest event here.
func (s *sourcePages) dryRun(w http.ResponseWriter, r *http.Request) error {
	src, p, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	who := strings.TrimSpace(r.FormValue("who"))
	if who == "" {
		who = strings.TrimSpace(r.FormValue("sub"))
	}
	res := dryRunResult{Who: who}
	req := source.RevalidateRequest{Subject: who}
	person := s.sources.FindPerson(r.Context(), src.ID, who)
	known := person != nil
	switch {
	case known && person.User != nil:
		u := person.User
		res.User, req.Subject, req.State = u, u.Subject, u.Revalidation
		res.Who = fmt.Sprintf("%s (id %s)", host.NameOf(u.Name, u.Username), u.Subject)
	case known:
		req.Subject = person.Subject
		res.Who = fmt.Sprintf("%s (id %s)", person.Name, person.Subject)
	}
	switch {
	case who == "":
		res.Verdict, res.Level = "Enter a username or an id.", "warning"
	case !known && !isDigits(who):
		res.Verdict, res.Level = "No one called "+who+" has logged in here yet.", "warning"
		res.Text = p.Schema.SubjectHelp
		if res.Text == "" {
			res.Text = "Enter their id to check them before their first login."
		}
	default:
		rv, err := p.P.Revalidate(r.Context(), host.ForAction(src), req)
		detail := ""
		switch {
		case err != nil:
			se := source.AsError(err)
			res.Verdict, res.Level, res.Text, detail, res.Reason = "Could not be checked now.", "warning", se.UserText, se.AdminDetail, se.ReasonCode
		case rv.Status == source.RevalidationAllowed:
			res.Verdict, res.Level = "Would get in.", "info"
		case rv.Status == source.RevalidationRevoked:
			res.Verdict, res.Level = "Would not get in.", "error"
		default:
			res.Verdict, res.Level = "Could not be decided now.", "warning"
		}
		if err == nil {
			res.Text, detail, res.Reason = rv.Decision.UserText, rv.Decision.AdminDetail, rv.Decision.ReasonCode
		}
		if res.User == nil {
			res.Text = strings.TrimSpace(res.Text + " They have not logged in here yet.")
		}
		res.Facts, res.ReasonWords = factsOf(detail), reasonWords(res.Reason)
	}
	s.renderEdit(w, r, http.StatusOK, editForm{src: src, p: p, cfg: host.Editing(src)},
		func(d *sourceEditPage) { d.DryRun, d.DryRunWho = &res, who })
	return nil
}
