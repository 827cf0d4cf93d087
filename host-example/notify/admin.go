package notify

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Target is a target as the admin page shows it: its settings and delivery state, never its
// secret (only whether it has one).
type Target struct {
	ID, Name, URL, Format string
	Kinds                 []Kind
	Names, HasSecret      bool
	// Status is the last delivery's outcome ("" none yet, "ok", "failed"); LastError the
	// last failure's words, LastAt when that delivery was tried.
	Status, LastError string
	LastAt            time.Time
	// RetryAt is when a failing target is tried again (zero when it is not waiting).
	RetryAt time.Time
	Queued  int
	Dropped int64
}

// Receives reports whether the target receives kind.
func (t Target) Receives(kind Kind) bool { return slices.Contains(t.Kinds, kind) }

func targetOf(t store.NotifyTarget) Target {
	v := Target{ID: t.ID, Name: t.Name, URL: t.URL, Format: t.Format, Names: t.Names, HasSecret: len(t.Secret) > 0,
		Status: t.Status, LastError: t.LastError, LastAt: t.LastAt, Queued: t.Queued, Dropped: t.Dropped}
	if t.Failures > 0 {
		v.RetryAt = t.RetryAt
	}
	for _, k := range t.Kinds {
		v.Kinds = append(v.Kinds, Kind(k))
	}
	return v
}

// TargetInput is what the admin's form says of a target: ID "" makes a new one; Secret ""
// keeps the one it has (ClearSecret removes it).
type TargetInput struct {
	ID, Name, URL, Format string
	Kinds                 []string
	Names                 bool
	Secret                string
	ClearSecret           bool
}

// InvalidTarget is a form the checks refused: what was typed and why (the secret typed too,
// shown back only in the answer to the admin who typed it, so a suggested one is not lost).
type InvalidTarget struct {
	Input    TargetInput
	Problems []string
	// HasSecret: the target changed has a secret, which the form keeps when left empty.
	HasSecret bool
}

func (e *InvalidTarget) Error() string {
	return "notification target: " + strings.Join(e.Problems, "; ")
}

// Limits of a target's settings.
const (
	maxName      = 100
	maxURL       = 2000
	minSecret    = 16
	maxSecret    = 512
	suggestBytes = 24
)

// Targets are the notification targets, oldest first.
func (n *Notifier) Targets(ctx context.Context) ([]Target, error) {
	ts, err := n.st.NotifyTargets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Target, 0, len(ts))
	for _, t := range ts {
		out = append(out, targetOf(t))
	}
	return out, nil
}

// Target is the target of id (store.ErrNotFound when there is none).
func (n *Notifier) Target(ctx context.Context, id string) (*Target, error) {
	t, err := n.st.NotifyTarget(ctx, id)
	if err != nil {
		return nil, err
	}
	v := targetOf(*t)
	return &v, nil
}

// SuggestSecret is a new random secret the form offers for a generic webhook.
func (n *Notifier) SuggestSecret() string { return store.RandomID(suggestBytes) }

// Save creates or changes a target after checking the form (an *InvalidTarget when it is
// refused), and records the change as an admin event (naming the target, never its URL,
// which may hold a token).
func (n *Notifier) Save(ctx context.Context, in TargetInput) (*Target, error) {
	in.Name, in.URL, in.Secret = strings.TrimSpace(in.Name), strings.TrimSpace(in.URL), strings.TrimSpace(in.Secret)
	var old *store.NotifyTarget
	if in.ID != "" {
		var err error
		if old, err = n.st.NotifyTarget(ctx, in.ID); err != nil {
			return nil, err
		}
	}
	if problems := checkTarget(in, old); len(problems) > 0 {
		return nil, &InvalidTarget{Input: in, Problems: problems, HasSecret: old != nil && len(old.Secret) > 0}
	}
	t := store.NotifyTarget{ID: in.ID, Name: in.Name, URL: in.URL, Format: in.Format, Names: in.Names}
	for _, k := range Kinds {
		if slices.Contains(in.Kinds, string(k)) {
			t.Kinds = append(t.Kinds, string(k))
		}
	}
	switch {
	case in.Format == Discord:
	case in.Secret != "":
		t.Secret = []byte(in.Secret)
	case in.ClearSecret:
	case old != nil:
		t.Secret = old.Secret
	}
	what := "changed"
	if t.ID == "" {
		t.ID, what = store.RandomID(8), "added"
	}
	if err := n.st.PutNotifyTarget(ctx, t); err != nil {
		return nil, err
	}
	_ = n.st.AddEvent(ctx, store.Event{Kind: store.EventAdminNotifySaved,
		Detail: fmt.Sprintf("notification target %s %s (%s): %s; names %v", t.ID, what, t.Format, strings.Join(t.Kinds, ", "), t.Names)})
	return n.Target(ctx, t.ID)
}

// checkTarget is what is wrong with a target's form (old is the target it changes, nil for a new one).
func checkTarget(in TargetInput, old *store.NotifyTarget) []string {
	var problems []string
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxName {
		problems = append(problems, fmt.Sprintf("Give the target a name (at most %d characters).", maxName))
	}
	if !slices.Contains(Formats, in.Format) {
		problems = append(problems, "Pick a format: generic webhook, ntfy or Discord.")
	}
	u, err := url.Parse(in.URL)
	switch {
	case err != nil || len(in.URL) > maxURL || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		problems = append(problems, "The URL must be an absolute http:// or https:// address.")
	case u.User != nil:
		problems = append(problems, "Put no user or password in the URL: a webhook's secret goes in the secret field.")
	}
	for _, k := range in.Kinds {
		if !slices.Contains(Kinds, Kind(k)) {
			problems = append(problems, fmt.Sprintf("%q is not a kind of notification.", k))
		}
	}
	if len(in.Secret) > maxSecret {
		problems = append(problems, fmt.Sprintf("The secret is longer than %d characters.", maxSecret))
	}
	if strings.ContainsFunc(in.Secret, unicode.IsControl) { // ntfy sends it in a header
		problems = append(problems, "The secret has a line break or another control character: paste it on one line.")
	}
	if in.Format == Webhook {
		has := in.Secret != "" || (!in.ClearSecret && old != nil && len(old.Secret) > 0)
		if !has || (in.Secret != "" && len(in.Secret) < minSecret) {
			problems = append(problems, fmt.Sprintf("A generic webhook needs a secret of at least %d characters to sign with (the form suggests one).", minSecret))
		}
	}
	return problems
}

// Delete deletes a target and its queued messages (store.ErrNotFound when there is none),
// recorded as an admin event.
func (n *Notifier) Delete(ctx context.Context, id string) error {
	if err := n.st.DeleteNotifyTarget(ctx, id); err != nil {
		return err
	}
	_ = n.st.AddEvent(ctx, store.Event{Kind: store.EventAdminNotifyDeleted, Detail: "notification target " + id + " deleted"})
	return nil
}

// NotDelivered is why a test was not delivered: what the target answered, or why no answer came.
type NotDelivered struct{ Err error }

func (e *NotDelivered) Error() string { return e.Err.Error() }

// SendTest sends target id a test message at once (not queued); a *NotDelivered error says
// why the target did not take it.
func (n *Notifier) SendTest(ctx context.Context, id string) error {
	t, err := n.st.NotifyTarget(ctx, id)
	if err != nil {
		return err
	}
	m := Message{ID: store.RandomID(16), Kind: Test, At: n.cfg.Now().UTC(), Title: Titles[Test],
		Text: "This is a test of the notification target " + t.Name + ".", Link: n.link("/admin/notifications")}
	if err := n.deliver(ctx, t, m); err != nil {
		return &NotDelivered{Err: err}
	}
	return nil
}
