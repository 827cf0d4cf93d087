// Package notify tells the admin what happens: the events that matter (a person's first
// sign-in, a refusal, access removed at re-validation, a health check that changed, a change
// to the admin's ways in) become messages, queued in the database for each target that
// receives their kind and delivered by one replica, retried with back-off, in a target's
// format: a generic JSON webhook signed with HMAC-SHA256, ntfy, or Discord. Names and
// e-mails go to a target only when the admin lets them; no token or secret is ever sent.
package notify

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Kind is a kind of notification: what a target receives or not.
type Kind string

// The kinds of notification.
const (
	FirstSignIn   Kind = "first_sign_in"      // a person signed in for the first time
	Refusal       Kind = "refusal"            // a sign-in (or an application) refused a person
	AccessRemoved Kind = "access_removed"     // re-validation removed a person's access
	HealthChanged Kind = "health_changed"     // a source's health check changed state
	AdminWays     Kind = "admin_ways_changed" // the admin's ways in changed
	Test          Kind = "test"               // the admin's "send a test"
)

// Kinds are the kinds a target may receive, in the order the admin page lists them.
var Kinds = []Kind{FirstSignIn, Refusal, AccessRemoved, HealthChanged, AdminWays}

// Titles name each kind in words.
var Titles = map[Kind]string{
	FirstSignIn:   "A person signed in for the first time",
	Refusal:       "A sign-in was refused",
	AccessRemoved: "Access removed at re-validation",
	HealthChanged: "A source's health check changed",
	AdminWays:     "The admin's ways in changed",
	Test:          "A test from the admin page",
}

// kindOfEvent maps the event kinds that notify to their notification kind (health checks
// and first sign-ins are told apart by KindOf).
var kindOfEvent = map[store.EventKind]Kind{
	store.EventLoginDenied:          Refusal,
	store.EventOIDCDenied:           Refusal,
	store.EventUserRevoked:          AccessRemoved,
	store.EventAdminSecurityChanged: AdminWays,
	store.EventAdminPasswordSet:     AdminWays,
	store.EventAdminPasswordReset:   AdminWays,
}

// KindOf is the notification kind of a recorded event (ok false for one that does not notify).
func KindOf(e store.Event) (Kind, bool) {
	if e.Kind == store.EventLoginAllowed {
		return FirstSignIn, e.Joined
	}
	if _, ok := e.Kind.HealthAction(); ok {
		return HealthChanged, true
	}
	k, ok := kindOfEvent[e.Kind]
	return k, ok
}

// Message is one notification as the host writes it, before a target's format: what
// happened, the source, and the person. Render leaves out what a target may not receive.
type Message struct {
	// ID is the message's own id: a receiver that is sent it twice (a retry after a timeout)
	// can tell.
	ID    string    `json:"id"`
	Kind  Kind      `json:"kind"`
	At    time.Time `json:"at"`
	Title string    `json:"title"`
	// Text says what happened in a sentence, naming nobody.
	Text   string  `json:"text"`
	Source *Source `json:"source,omitempty"`
	Person *Person `json:"person,omitempty"`
	// Reason is the decision's reason code and ReasonWords it in words.
	Reason      string `json:"reason,omitempty"`
	ReasonWords string `json:"reason_words,omitempty"`
	// Check and State are a health check's action and its new state (valid, revoked, unknown).
	Check string `json:"check,omitempty"`
	State string `json:"state,omitempty"`
	// Detail is the event's detail: sent only where names may go (it may name the person or
	// their address; a health check's, the plugin's words, may name the owner's account).
	Detail string `json:"detail,omitempty"`
	// Link is the admin page to open about it.
	Link string `json:"link,omitempty"`
}

// Source is the source a message is about.
type Source struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Person is who a message is about: the host's id and their page always (when the host has
// them); their name and e-mail only for a target that may receive them.
type Person struct {
	ID    int64  `json:"id,omitempty"`
	URL   string `json:"url,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// reasonWords is a reason code in words ("not_a_member" reads "Not a member").
func reasonWords(code string) string {
	words := strings.TrimSpace(strings.ReplaceAll(code, "_", " "))
	r, n := utf8.DecodeRuneInString(words)
	if words == "" || r == utf8.RuneError {
		return words
	}
	return string(unicode.ToUpper(r)) + words[n:]
}

// forTarget is m as a target receives it: without names, e-mails and the detail unless
// names may go to it.
func (m Message) forTarget(names bool) Message {
	if names {
		return m
	}
	if m.Person != nil {
		p := *m.Person
		p.Name, p.Email = "", ""
		m.Person = &p
		if p == (Person{}) {
			m.Person = nil
		}
	}
	m.Detail = "" // a health check's too: the plugin's words may name the owner's account
	return m
}
