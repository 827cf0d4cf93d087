package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The proof of the current admin that every change of the admin's ways in asks for
// (host/adminproof.go: the current TOTP code, else the current local password, else a recent
// sign-in through a source). The form fields come from the "proof" template
// (templates/proof.html); proofOrAsk checks it for any handler.

// proofForm is the "proof" template's data: the field the change asks for, or whether the
// session's sign-in through a source is recent enough.
type proofForm struct {
	Kind  string
	Fresh bool
	// Again signs in through a source again; Minutes is how recent a sign-in proves.
	Again   string
	Minutes int
}

// proofOf is the proof of the current admin that r carries.
func (s *adminKit) proofOf(r *http.Request) host.Proof {
	p := host.Proof{Attempt: s.attempt(r, s.knownDevice(r)), Code: r.FormValue("proof_code"), Password: r.FormValue("proof_password"), Now: s.now()}
	if sess := sessionOf(r); sess != nil {
		p.SessionID, p.UserID, p.AuthTime = sess.ID, sess.UserID, sess.AuthTime
	}
	return p
}

// proofForm is what the "proof" template shows for r.
func (s *adminKit) proofForm(r *http.Request) *proofForm {
	kind, _ := s.adm.ProofNeeded(r.Context())
	f := &proofForm{Kind: string(kind), Again: "/login?return=" + url.QueryEscape(sourceAdminPath), Minutes: int(sourceAdminFreshness / time.Minute)}
	if sess := sessionOf(r); sess != nil {
		f.Fresh = host.SourceProofFresh(sess.UserID, sess.AuthTime, s.now())
	}
	return f
}

// proofRefused is the words of a refused proof, when err is one (its cookie cleared when a
// wrong one locked the browser's known device out).
func (s *adminKit) proofRefused(w http.ResponseWriter, err error) (string, bool) {
	var p *host.ErrProof
	if !errors.As(err, &p) {
		return "", false
	}
	s.deviceLocked(w, p.Failed)
	code := p.Kind == host.ProofCode
	switch p.Why {
	case host.ProofStale:
		return fmt.Sprintf("Not changed: the local password is off, so this change needs a sign-in through your source "+
			"within the last %d minutes. Sign in again, then make the change.", int(sourceAdminFreshness/time.Minute)), true
	case host.ProofMissing:
		if code {
			return "Not changed: enter the current code of your authenticator app to prove it is you.", true
		}
		return "Not changed: enter the current admin password to prove it is you.", true
	case host.ProofLimited:
		return "Not changed: too many wrong codes or passwords. Wait a few minutes (up to an hour after many) and try again.", true
	}
	if code {
		return "Not changed: that is not the current code of your authenticator app (or it was used already).", true
	}
	return "Not changed: that is not the current admin password.", true
}

// waysInChanges are the changes of the admin's ways in of the last day (the admin home's
// banner), newest first, at most 20.
func (s *adminKit) waysInChanges(r *http.Request) []store.Event {
	out, err := s.adm.WaysInChanges(r.Context(), s.now())
	if err != nil {
		s.cfg.Logger.Error("read the changes of the admin's ways in", "error", err)
	}
	return out
}

// grantReachesSource reports whether an admin grant names the source srcID: changing it asks
// for the proof (host.Admin.GrantReachesSource).
func (s *adminKit) grantReachesSource(r *http.Request, srcID string) bool {
	return s.adm.GrantReachesSource(r.Context(), srcID)
}

// turningOnReachesGrant reports whether turning the source srcID on could let someone open
// the admin: it asks for the proof (host.Admin.TurningOnReachesGrant).
func (s *adminKit) turningOnReachesGrant(r *http.Request, srcID string) bool {
	return s.adm.TurningOnReachesGrant(r.Context(), srcID)
}

// holdsGrant reports whether u has a group an admin grant names: turning them on asks for the
// proof (host.Admin.HoldsGrant).
func (s *adminKit) holdsGrant(r *http.Request, u *store.User) bool {
	return s.adm.HoldsGrant(r.Context(), u)
}

// proofOrAsk checks the proof a change asks for (host.Admin.Prove). Without it, or with a
// wrong one, it answers a page that shows the form's fields and asks for the proof, and sends
// them on with it (nothing typed is lost), and reports false; why says what the change could do.
func (s *adminKit) proofOrAsk(w http.ResponseWriter, r *http.Request, why string) (how string, ok bool) {
	how, err := s.adm.Prove(r.Context(), s.proofOf(r))
	if err == nil {
		return how, true
	}
	s.askProof(w, r, err, why)
	return "", false
}

// askProof answers a change whose proof err refused (host.ErrProof) with the page that asks
// for it and sends the form's fields on with it; any other error is the outage page.
func (s *adminKit) askProof(w http.ResponseWriter, r *http.Request, err error, why string) {
	text, refused := s.proofRefused(w, err)
	if !refused {
		s.handle(func(http.ResponseWriter, *http.Request) error { return err })(w, r)
		return
	}
	var fields []resumeField
	for name, values := range r.PostForm {
		if name == "csrf" || name == "proof_code" || name == "proof_password" {
			continue
		}
		for _, v := range values {
			f := resumeField{Name: name, Value: v, Shown: v}
			if secretLike(name) {
				f.Shown = "(hidden)"
			}
			if len(fields) < maxResumeFields {
				fields = append(fields, f)
			}
		}
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	s.render(w, http.StatusForbidden, "resume.html", &resumePage{Head: Head{Session: sessionOf(r), Title: "Prove it is you"}, Action: r.URL.Path,
		Fields: fields, Why: why, Error: text, Proof: s.proofForm(r)})
}
