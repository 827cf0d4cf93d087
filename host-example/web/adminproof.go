package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The proof of the current admin that every change of the admin's ways in asks for, however
// the admin session began (a session alone, stolen or left open, changes none of them): the
// current TOTP code where one is kept, else the current local password, else (the password is
// off) a sign-in through a source within sourceAdminFreshness. freshProof checks it for any
// handler; the form fields come from the "proof" template (templates/proof.html).

// Wrong proofs count where a new session or address does not reset them: per admin
// session, per person (the local admin, or the source admin's user: a source admin gets a
// new session with each sign-in), and as admin login guesses (attemptLimits: per client and,
// from browsers not known from an earlier admin login, in the admin's bucket across all
// clients, which bounds the code guesses of every person and address together).
const (
	// proofFailuresPerSession is how many wrong proofs one admin session may send in
	// proofFailuresWindow.
	proofFailuresPerSession = 5
	proofFailuresWindow     = 15 * time.Minute
	// proofFailuresPerPerson is how many wrong proofs one person's admin sessions may send
	// together in proofFailuresPersonWindow.
	proofFailuresPerPerson    = 10
	proofFailuresPersonWindow = time.Hour
)

// proofPersonKey is the counter of the wrong proofs of the person of sess: the local admin,
// or a source admin by their source and subject there, which deleting the person (a new user
// id at the next sign-in) does not reset.
func (s *adminPages) proofPersonKey(r *http.Request, sess *store.Session) string {
	if sess.UserID == 0 {
		return "admin/proof/person/local"
	}
	if u, err := s.store.User(r.Context(), sess.UserID); err == nil {
		return "admin/proof/person/subject/" + u.SourceID + "/" + u.Subject
	}
	return "admin/proof/person/user/" + strconv.FormatInt(sess.UserID, 10)
}

// The kinds of proof (proofNeeded).
const (
	proofCode     = "code"
	proofPassword = "password"
	proofSource   = "source"
)

// errProof is a proof refused; its text says the admin what to do.
type errProof struct{ text string }

func (e *errProof) Error() string { return e.text }

// proofNeeded is the kind of proof a change asks for now.
func (s *adminPages) proofNeeded(r *http.Request) (string, error) {
	totpOn, err := host.AdminTOTPOn(r.Context(), s.store)
	switch {
	case err != nil:
		return "", err
	case totpOn:
		return proofCode, nil
	case host.AdminPasswordOn(r.Context(), s.store):
		return proofPassword, nil
	}
	return proofSource, nil
}

// signedInAt is when the person of a source admin's session signed in through the source
// (the session's auth_time, which an admin session copies from the sign-in).
func signedInAt(sess *store.Session) time.Time { return sess.AuthTime }

// sourceProofFresh reports whether sess is a source admin's session signed in recently
// enough to be the proof.
func (s *adminPages) sourceProofFresh(sess *store.Session) bool {
	return sess != nil && sess.UserID != 0 && s.now().Sub(signedInAt(sess)) <= sourceAdminFreshness
}

// freshProof checks the proof of the current admin that r carries (the form's proof_code or
// proof_password, or its session's recent sign-in through a source) and answers how it was
// proven; an *errProof when it was not, another error when the database failed. Wrong codes
// and passwords count per session, per person and as admin login guesses (above).
func (s *adminPages) freshProof(w http.ResponseWriter, r *http.Request) (string, error) {
	kind, err := s.proofNeeded(r)
	if err != nil {
		return "", err
	}
	sess := sessionOf(r)
	if kind == proofSource {
		if !s.sourceProofFresh(sess) {
			return "", &errProof{fmt.Sprintf("Not changed: the local password is off, so this change needs a sign-in through your source "+
				"within the last %d minutes. Sign in again, then make the change.", int(sourceAdminFreshness/time.Minute))}
		}
		return "sign-in through a source at " + signedInAt(sess).UTC().Format("15:04:05 UTC"), nil
	}
	field := map[string]string{proofCode: "proof_code", proofPassword: "proof_password"}[kind]
	if r.FormValue(field) == "" { // no guess: nothing to count
		if kind == proofCode {
			return "", &errProof{"Not changed: enter the current code of your authenticator app to prove it is you."}
		}
		return "", &errProof{"Not changed: enter the current admin password to prove it is you."}
	}
	device := s.knownDevice(r)
	done, ok := s.claimGuesses(r, append([]guessLimit{{"admin/proof/session/" + sess.ID, proofFailuresPerSession, proofFailuresWindow},
		{s.proofPersonKey(r, sess), proofFailuresPerPerson, proofFailuresPersonWindow}}, s.attemptLimits(r, device, false)...)...)
	if !ok {
		return "", &errProof{"Not changed: too many wrong codes or passwords. Wait a few minutes (up to an hour after many) and try again."}
	}
	defer done(false)
	var right bool
	if kind == proofCode {
		right, err = host.CheckAdminTOTP(r.Context(), s.store, r.FormValue(field), s.now())
	} else {
		right = host.CheckAdminPassword(r.Context(), s.store, r.FormValue(field))
	}
	if err != nil {
		return "", err
	}
	if !right {
		what := map[string]string{proofCode: "TOTP code", proofPassword: "password"}[kind]
		s.adminFailed(w, r, done, device, fmt.Sprintf("wrong %s to prove a change of the admin's ways in; %s", what, s.actor(r)))
		if kind == proofCode {
			return "", &errProof{"Not changed: that is not the current code of your authenticator app (or it was used already)."}
		}
		return "", &errProof{"Not changed: that is not the current admin password."}
	}
	return map[string]string{proofCode: "TOTP code", proofPassword: "password"}[kind], nil
}

// proofForm is what the "proof" template shows: the field the change asks for, or whether
// the session's sign-in through a source is recent enough.
func (s *adminPages) proofForm(r *http.Request) map[string]any {
	kind, _ := s.proofNeeded(r)
	return map[string]any{"Kind": kind, "Fresh": s.sourceProofFresh(sessionOf(r)),
		"Again": "/login?return=" + url.QueryEscape(sourceAdminPath), "Minutes": int(sourceAdminFreshness / time.Minute)}
}

// actor names who made a change in the admin: the local admin, or the source admin.
func (s *adminPages) actor(r *http.Request) string {
	sess := sessionOf(r)
	if sess == nil || sess.UserID == 0 {
		return "by the local admin"
	}
	if u, err := s.store.User(r.Context(), sess.UserID); err == nil {
		return fmt.Sprintf("by the source admin %s (user %d)", host.NameOf(u.Username, u.Name), u.ID)
	}
	return fmt.Sprintf("by the source admin of user %d", sess.UserID)
}

// isProofRefusal reports whether err is a refused proof, and its text.
func isProofRefusal(err error) (string, bool) {
	var p *errProof
	if errors.As(err, &p) {
		return p.text, true
	}
	return "", false
}

// waysInChangesShown is how long the admin home shows a change of the admin's ways in.
const waysInChangesShown = 24 * time.Hour

// waysInChanges are the changes of the admin's ways in of the last waysInChangesShown (the
// admin home's banner), newest first, at most 20.
func (s *adminPages) waysInChanges(r *http.Request) []store.Event {
	page, err := s.store.EventPage(r.Context(), store.EventFilter{Kinds: []store.EventKind{store.EventAdminSecurityChanged, store.EventAdminPasswordReset}, Limit: 20})
	if err != nil {
		s.cfg.Logger.Error("read the changes of the admin's ways in", "error", err)
		return nil
	}
	var out []store.Event
	for _, e := range page.Events {
		if s.now().Sub(e.At) <= waysInChangesShown {
			out = append(out, e)
		}
	}
	return out
}

// Actions that can later give a person a granted group (a source's settings decide the
// groups of its people; turning a source or a person on lets them use the groups they have)
// ask for the proof too, when a grant could be reached through them. The two predicates
// below say when; with grants of a source and a group, they narrow to the sources a grant names.

// grantReachesSource reports whether an admin grant names the source srcID (its settings
// decide who gets the granted group).
func (s *adminPages) grantReachesSource(r *http.Request, srcID string) bool {
	return slices.ContainsFunc(host.AdminGrants(r.Context(), s.store), func(g host.Grant) bool { return g.SourceID == srcID })
}

// holdsGrant reports whether u has a group an admin grant names, from the grant's source
// (disabled or not: turning the person on would make them an admin).
func (s *adminPages) holdsGrant(r *http.Request, u *store.User) bool {
	return slices.ContainsFunc(host.AdminGrants(r.Context(), s.store), func(g host.Grant) bool { return u.HasGroupFrom(g.Group, g.SourceID) })
}

// proofOrAsk checks the proof a change asks for (freshProof). Without it, or with a wrong
// one, it answers a page that shows the form's fields and asks for the proof, and sends them
// on with it (nothing typed is lost), and reports false; why says what the change could do.
func (s *adminPages) proofOrAsk(w http.ResponseWriter, r *http.Request, why string) (how string, ok bool) {
	how, err := s.freshProof(w, r)
	text, refused := isProofRefusal(err)
	if err == nil {
		return how, true
	}
	if !refused {
		dbunavailable.Answer(w)
		return "", false
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
	s.render(w, http.StatusForbidden, "resume.html", map[string]any{"Session": sessionOf(r), "Action": r.URL.Path, "Fields": fields,
		"Title": "Prove it is you", "Why": why, "Error": text, "Proof": s.proofForm(r)})
	return "", false
}
