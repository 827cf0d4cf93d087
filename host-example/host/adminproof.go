package host

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The proof of the current admin that every change of the admin's ways in asks for, however
// the admin session began (a session alone, stolen or left open, changes none of them): the
// current TOTP code where one is kept, else the current local password, else (the password is
// off) a sign-in through a source within SourceAdminFreshness.

// Wrong proofs count where a new session or address does not reset them: per admin
// session, per person (the local admin, or the source admin's user: a source admin gets a
// new session with each sign-in), and as admin sign-in guesses (per client and, from
// browsers not known from an earlier admin sign-in, in the admin's bucket across all
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

// ProofKind is the kind of proof a change asks for.
type ProofKind string

// The kinds of proof.
const (
	ProofCode     ProofKind = "code"
	ProofPassword ProofKind = "password"
	ProofSource   ProofKind = "source"
)

// What proves each kind, in events and refusals.
var proofWords = map[ProofKind]string{ProofCode: "TOTP code", ProofPassword: "password"}

// ProofRefusal is why a proof was refused.
type ProofRefusal int

// The refusals of a proof.
const (
	// ProofStale: the password is off and the session's sign-in through a source is too old.
	ProofStale ProofRefusal = iota + 1
	// ProofMissing: no code or password was given.
	ProofMissing
	// ProofLimited: too many wrong proofs (a guess limit); nothing was checked.
	ProofLimited
	// ProofWrong: the code or password is not the current one (counted, recorded).
	ProofWrong
)

// ErrProof is a proof refused: Why, and the Kind asked for.
type ErrProof struct {
	Why  ProofRefusal
	Kind ProofKind
	// Failed is what a wrong code or password did.
	Failed Failed
}

func (e *ErrProof) Error() string {
	return fmt.Sprintf("the proof of the current admin (%s) was refused (%d)", e.Kind, e.Why)
}

// Proof is the proof of the current admin a request carries, and who sends it.
type Proof struct {
	Attempt
	// SessionID, UserID (0: the local admin) and AuthTime are the admin session's.
	SessionID string
	UserID    int64
	AuthTime  time.Time
	// Code and Password are the form's; the kind asked for is read.
	Code, Password string
	Now            time.Time
}

// ProofNeeded is the kind of proof a change asks for now.
func (a *Admin) ProofNeeded(ctx context.Context) (ProofKind, error) {
	totpOn, err := a.TOTPOn(ctx)
	switch {
	case err != nil:
		return "", err
	case totpOn:
		return ProofCode, nil
	case a.PasswordOn(ctx):
		return ProofPassword, nil
	}
	return ProofSource, nil
}

// SourceProofFresh reports whether an admin session of the person userID (0: the local
// admin, never) that signed in through a source at authTime is recent enough at now to be
// the proof.
func SourceProofFresh(userID int64, authTime, now time.Time) bool {
	return userID != 0 && now.Sub(authTime) <= SourceAdminFreshness
}

// Prove checks the proof of the current admin p carries and says how it was proven (for the
// event of the change); an *ErrProof when it was not, another error when the store failed.
// Wrong codes and passwords count per session, per person and as admin sign-in guesses (the
// attempt prelude once, Guess).
func (a *Admin) Prove(ctx context.Context, p Proof) (string, error) {
	kind, err := a.ProofNeeded(ctx)
	if err != nil {
		return "", err
	}
	if kind == ProofSource {
		if !SourceProofFresh(p.UserID, p.AuthTime, p.Now) {
			return "", &ErrProof{Why: ProofStale, Kind: kind}
		}
		return "sign-in through a source at " + p.AuthTime.UTC().Format("15:04:05 UTC"), nil
	}
	secret := map[ProofKind]string{ProofCode: p.Code, ProofPassword: p.Password}[kind]
	if secret == "" { // no guess: nothing to count
		return "", &ErrProof{Why: ProofMissing, Kind: kind}
	}
	what := fmt.Sprintf("wrong %s to prove a change of the admin's ways in; %s", proofWords[kind], a.Actor(ctx, p.UserID))
	right, failed, err := a.Guess(ctx, p.Attempt, what, func() (bool, error) {
		if kind == ProofCode {
			return a.CheckTOTP(ctx, secret, p.Now)
		}
		return a.CheckPassword(ctx, secret), nil
	}, GuessLimit{AdminGuessPrefix + "proof/session/" + p.SessionID, proofFailuresPerSession, proofFailuresWindow},
		GuessLimit{a.proofPersonKey(ctx, p.UserID), proofFailuresPerPerson, proofFailuresPersonWindow})
	switch {
	case errors.Is(err, ErrAdminLockedOut):
		return "", &ErrProof{Why: ProofLimited, Kind: kind}
	case err != nil:
		return "", err
	case !right:
		return "", &ErrProof{Why: ProofWrong, Kind: kind, Failed: failed}
	}
	return proofWords[kind], nil
}

// proofPersonKey is the counter of the wrong proofs of the person userID: the local admin
// (0), or a source admin by their source and subject there, which deleting the person (a new
// user id at the next sign-in) does not reset.
func (a *Admin) proofPersonKey(ctx context.Context, userID int64) string {
	if userID == 0 {
		return AdminGuessPrefix + "proof/person/local"
	}
	if u, err := a.st.User(ctx, userID); err == nil {
		return AdminGuessPrefix + "proof/person/subject/" + u.SourceID + "/" + u.Subject
	}
	return AdminGuessPrefix + "proof/person/user/" + strconv.FormatInt(userID, 10)
}

// Actor names who made a change in the admin: the local admin (userID 0), or the source admin.
func (a *Admin) Actor(ctx context.Context, userID int64) string {
	if userID == 0 {
		return "by the local admin"
	}
	if u, err := a.st.User(ctx, userID); err == nil {
		return fmt.Sprintf("by the source admin %s (user %d)", NameOf(u.Username, u.Name), u.ID)
	}
	return fmt.Sprintf("by the source admin of user %d", userID)
}

// WaysInChange is a change of the admin's ways in, as its event records it.
type WaysInChange struct {
	// What changed.
	What string
	// ProofNote is added to how the change was proven ("": nothing).
	ProofNote string
}

// ChangeWaysIn makes a change of the admin's ways in once p proves the current admin
// (Prove): it reads the state before, runs change, and records what changed, the state
// before and after, the proof, who and from where (the admin home shows it for a day). An
// error of change (nothing changed) is returned as is, and nothing is recorded.
func (a *Admin) ChangeWaysIn(ctx context.Context, p Proof, change func(context.Context) (WaysInChange, error)) error {
	before, err := a.WaysIn(ctx)
	if err != nil {
		return err
	}
	how, err := a.Prove(ctx, p)
	if err != nil {
		return err
	}
	c, err := change(ctx)
	if err != nil {
		return err
	}
	after, err := a.WaysIn(ctx)
	state := "after: unknown (" + fmt.Sprint(err) + ")"
	if err == nil {
		state = "after: " + after.String()
	}
	_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminSecurityChanged, Detail: fmt.Sprintf("%s; before: %s; %s; proof: %s%s; %s; client %s",
		c.What, before, state, how, c.ProofNote, a.Actor(ctx, p.UserID), p.ClientIP)})
	return nil
}

// waysInChangesShown is how long the admin home shows a change of the admin's ways in.
const waysInChangesShown = 24 * time.Hour

// WaysInChanges are the changes of the admin's ways in of the day before now (the admin
// home's banner), newest first, at most 20.
func (a *Admin) WaysInChanges(ctx context.Context, now time.Time) ([]store.Event, error) {
	page, err := a.st.EventPage(ctx, store.EventFilter{Kinds: []store.EventKind{store.EventAdminSecurityChanged, store.EventAdminPasswordReset}, Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("read the changes of the admin's ways in: %w", err)
	}
	var out []store.Event
	for _, e := range page.Events {
		if now.Sub(e.At) <= waysInChangesShown {
			out = append(out, e)
		}
	}
	return out, nil
}

// Actions that can later give a person a granted group (a source's settings decide the
// groups of its people; turning a source or a person on lets them use the groups they have)
// ask for the proof too, when a grant could be reached through them. The two predicates
// below say when; with grants of a source and a group, they narrow to the sources a grant names.

// GrantReachesSource reports whether an admin grant names the source srcID (its settings
// decide who gets the granted group).
func (a *Admin) GrantReachesSource(ctx context.Context, srcID string) bool {
	return slices.ContainsFunc(a.Grants(ctx), func(g Grant) bool { return g.SourceID == srcID })
}

// TurningOnReachesGrant reports whether turning the source srcID on could let someone open
// the admin: an admin grant names it, or one of its people holds a group the admin set that a
// grant names (they open the admin through their own source, which must be on). When its
// people cannot be read, it answers yes: the proof is asked rather than skipped.
func (a *Admin) TurningOnReachesGrant(ctx context.Context, srcID string) bool {
	grants := a.Grants(ctx)
	if slices.ContainsFunc(grants, func(g Grant) bool { return g.SourceID == srcID }) {
		return true
	}
	if !slices.ContainsFunc(grants, func(g Grant) bool { return g.SourceID == store.FromAdmin }) {
		return false
	}
	users, err := a.st.SourceUsers(ctx, srcID)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(users, func(u *store.User) bool {
		return slices.ContainsFunc(grants, func(g Grant) bool { return g.SourceID == store.FromAdmin && u.HasGroupFrom(g.Group, g.SourceID) })
	})
}

// HoldsGrant reports whether u has a group an admin grant names, from the grant's source
// (disabled or not: turning the person on would make them an admin).
func (a *Admin) HoldsGrant(ctx context.Context, u *store.User) bool {
	return slices.ContainsFunc(a.Grants(ctx), func(g Grant) bool { return u.HasGroupFrom(g.Group, g.SourceID) })
}
