package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// The mapping editor's live preview and the "would this person get in?" dry run
// (host.Sources.Preview and DryRun).

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
	pv, err := s.sources.Preview(r.Context(), src, p, host.PreviewAsk{Field: in.Field, Text: in.Text, Person: in.Person, Sample: in.Sample})
	switch {
	case errors.Is(err, host.ErrUnknownPerson):
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "No one called " + strings.TrimSpace(in.Person) +
			" has logged in here yet. Enter their id to preview them from the owner's list."})
		return nil
	case errors.Is(err, host.ErrNoPerson):
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "Enter a person (username or id), or paste a document."})
		return nil
	case err != nil:
		se := source.AsError(err)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": strings.TrimSpace(se.UserText + " " + se.AdminDetail)})
		return nil
	}
	from := "the pasted document"
	switch u := pv.User; {
	case u != nil:
		from = fmt.Sprintf("%s's last login (%s UTC)", host.NameOf(u.Username, u.Name), u.LastLoginAt.UTC().Format("2006-01-02 15:04"))
	case pv.OwnerList:
		from = "the owner's list of users (what it cannot know is marked unknown)"
	}
	res := pv.Result
	out := map[string]any{"errors": res.Errors, "from": from}
	if len(res.Errors) == 0 {
		out["identity"] = map[string]any{"name": res.Identity.Name, "preferred_username": res.Identity.PreferredUsername,
			"email": res.Identity.Email, "email_verified": res.Identity.EmailVerified, "groups": res.Identity.Groups,
			"attributes": attributeRows(res.Identity.Attributes), "allowed": res.Identity.Decision.Allowed,
			"denied_text": res.Identity.Decision.UserText}
		out["unknown"] = res.Unknown
		if pv.User != nil { // what a sign-in of theirs keeps whatever the mapping gives
			out["kept"], out["admin_groups"] = host.KeptAtLogin(src.Sync, pv.User), pv.User.AdminGroups()
		}
	}
	_ = json.NewEncoder(w).Encode(out)
	return nil
}

// dryRunResult is a dry run's answer, in words, shown beside its form.
type dryRunResult struct {
	Who, Verdict, Level, Text, Reason string
	// ReasonWords is the reason code in words; Facts the plugin's detail as a list.
	ReasonWords string
	Facts       []fact
	// User is the person's last login here (their groups and attributes), when there is one.
	User *store.User
	// Kept are the display attributes their next sign-in keeps (first login only).
	Kept []host.KeptAttribute
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

// dryRun answers "would this person get in now?" by username or id.
func (s *sourcePages) dryRun(w http.ResponseWriter, r *http.Request) error {
	src, p, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	who := strings.TrimSpace(r.FormValue("who"))
	if who == "" {
		who = strings.TrimSpace(r.FormValue("sub"))
	}
	dr, err := s.sources.DryRun(r.Context(), src, p, who)
	res := dryRunResult{Who: who}
	switch person := dr.Person; {
	case person != nil && person.User != nil:
		u := person.User
		res.User, res.Who = u, fmt.Sprintf("%s (id %s)", host.NameOf(u.Name, u.Username), u.Subject)
		res.Kept = host.KeptAtLogin(src.Sync, u)
	case person != nil:
		res.Who = fmt.Sprintf("%s (id %s)", person.Name, person.Subject)
	}
	switch {
	case errors.Is(err, host.ErrNoPerson):
		res.Verdict, res.Level = "Enter a username or an id.", "warning"
	case errors.Is(err, host.ErrUnknownPerson):
		res.Verdict, res.Level = "No one called "+who+" has logged in here yet.", "warning"
		res.Text = p.Schema.SubjectHelp
		if res.Text == "" {
			res.Text = "Enter their id to check them before their first login."
		}
	case err != nil:
		return err
	default:
		detail := ""
		switch rv := dr.Result; {
		case dr.Err != nil:
			res.Verdict, res.Level, res.Text, detail, res.Reason = "Could not be checked now.", "warning", dr.Err.UserText, dr.Err.AdminDetail, dr.Err.ReasonCode
		case rv.Status == source.RevalidationAllowed:
			res.Verdict, res.Level = "Would get in.", "info"
		case rv.Status == source.RevalidationRevoked:
			res.Verdict, res.Level = "Would not get in.", "error"
		default:
			res.Verdict, res.Level = "Could not be decided now.", "warning"
		}
		if dr.Err == nil {
			res.Text, detail, res.Reason = dr.Result.Decision.UserText, dr.Result.Decision.AdminDetail, dr.Result.Decision.ReasonCode
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
