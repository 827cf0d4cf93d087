package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Store is the persistence notifications use: the targets, the queue, and the people and
// sources a message names.
type Store interface {
	NotifyTargets(ctx context.Context) ([]store.NotifyTarget, error)
	NotifyTarget(ctx context.Context, id string) (*store.NotifyTarget, error)
	PutNotifyTarget(ctx context.Context, t store.NotifyTarget) error
	DeleteNotifyTarget(ctx context.Context, id string) error
	EnqueueNotification(ctx context.Context, kind, body string, bound int) (queued, dropped int, err error)
	ClaimNotifications(ctx context.Context, limit int, lease time.Duration) ([]store.Notification, error)
	NotificationSent(ctx context.Context, n store.Notification) error
	NotificationFailed(ctx context.Context, n store.Notification, why string, backoff time.Duration, maxAttempts int) error
	ReleaseNotifications(ctx context.Context, ids []int64) error
	FindUser(ctx context.Context, sourceID, who string) (*store.User, error)
	Source(ctx context.Context, id string) (*store.Source, error)
	AddEvent(ctx context.Context, e store.Event) error
	RunAlone(ctx context.Context, name string, fn func(context.Context)) (bool, error)
}

var _ Store = (*store.Store)(nil)

// Defaults of Config.
const (
	DefaultBound       = 1000             // messages kept per target and kind
	DefaultMaxAttempts = 20               // tries of a message before it is dropped
	DefaultMinBackoff  = 30 * time.Second // the wait after a target's first failure
	DefaultMaxBackoff  = time.Hour        // the longest wait between tries
)

// batch is how many messages a sender claims at once, and lease how long it holds them.
const (
	batch = 20
	lease = 5 * time.Minute
)

// Config tunes the notifier.
type Config struct {
	// PublicURL is what the links of a message are built from (a person's page).
	PublicURL *url.URL
	// Bound is how many messages of one kind a target's queue keeps; past it the oldest of
	// that kind are dropped.
	Bound int
	// MaxAttempts is how often a message is tried before it is dropped.
	MaxAttempts int
	// MinBackoff is the wait after a target's first failed delivery, doubled at each
	// failure in a row up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Dropped, when set, is told of messages dropped (reason "bound" or "attempts").
	Dropped func(reason string, n int)
	// Delivered, when set, is told each delivery's outcome ("delivered" or "failed").
	Delivered func(outcome string)
	Logger    hclog.Logger
	// Client sends the deliveries (nil: one that follows no redirect, 10 s timeout).
	Client *http.Client
	// Now is the clock of messages and signatures (nil: time.Now).
	Now func() time.Time
}

// Notifier queues the messages of recorded events and delivers them; it is also the
// admin's service for the targets.
type Notifier struct {
	st   Store
	cfg  Config
	wake chan struct{}
	// told keeps a refusal repeated by the same person for the same reason to one message.
	told repeats
}

// New returns the notifier over st.
func New(st Store, cfg Config) *Notifier {
	if cfg.Bound <= 0 {
		cfg.Bound = DefaultBound
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Client == nil {
		cfg.Client = newClient()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dropped == nil {
		cfg.Dropped = func(string, int) {}
	}
	if cfg.Delivered == nil {
		cfg.Delivered = func(string) {}
	}
	return &Notifier{st: st, cfg: cfg, wake: make(chan struct{}, 1)}
}

// recordTimeout bounds what queueing an event's message adds to the request that recorded it.
const recordTimeout = 5 * time.Second

// Recorded queues the message of an event the store recorded, when its kind notifies: the
// one hook of every event (the store's observer), so each is queued once, by the replica
// that recorded it.
func (n *Notifier) Recorded(e store.Event) {
	kind, ok := KindOf(e)
	if !ok || !n.told.fresh(kind, e, n.cfg.Now()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := n.Queue(ctx, n.message(ctx, kind, e)); err != nil {
		n.cfg.Logger.Warn("queue a notification", "kind", kind, "error", err)
	}
}

// Queue queues m for every target that receives its kind, and wakes this replica's sender.
func (n *Notifier) Queue(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode the %s message: %w", m.Kind, err)
	}
	queued, dropped, err := n.st.EnqueueNotification(ctx, string(m.Kind), string(body), n.cfg.Bound)
	if err != nil {
		return err
	}
	if dropped > 0 {
		n.cfg.Dropped("bound", dropped)
	}
	if queued > 0 {
		select {
		case n.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// link is the public URL of a path of the host.
func (n *Notifier) link(path string) string {
	if n.cfg.PublicURL == nil {
		return ""
	}
	return n.cfg.PublicURL.JoinPath(path).String()
}

// message is the message of an event of kind: its source and person looked up (the person
// by the host's id; their name and e-mail kept for the targets that may receive them).
func (n *Notifier) message(ctx context.Context, kind Kind, e store.Event) Message {
	m := Message{ID: store.RandomID(16), Kind: kind, At: n.cfg.Now().UTC(), Title: Titles[kind], Reason: e.Reason,
		ReasonWords: reasonWords(e.Reason), Detail: e.Detail}
	srcName := "a source"
	if e.SourceID != "" {
		m.Source = &Source{ID: e.SourceID}
		if src, err := n.st.Source(ctx, e.SourceID); err == nil {
			m.Source.Name, srcName = src.Name, src.Name
		}
	}
	if e.Subject != "" || e.Name != "" {
		p := &Person{Name: e.Name}
		if u, err := n.st.FindUser(ctx, e.SourceID, e.Subject); err == nil && e.Subject != "" && u.Subject == e.Subject {
			p.ID, p.URL, p.Email = u.ID, n.link("/admin/users/"+strconv.FormatInt(u.ID, 10)), u.Email
			m.Link = p.URL
		}
		if *p != (Person{}) {
			m.Person = p
		}
	}
	switch kind {
	case FirstSignIn:
		m.Text = "A person signed in through " + srcName + " for the first time."
	case Refusal:
		m.Text = "A sign-in through " + srcName + " was refused."
		if e.Kind == store.EventOIDCDenied {
			m.Text = "An application refused a person who signed in through " + srcName + " (its allowed groups)."
		}
		if m.ReasonWords != "" {
			m.Text += " Reason: " + m.ReasonWords + "."
		}
		if m.Link == "" {
			m.Link = n.link("/admin/events")
		}
	case AccessRemoved:
		m.Text = "Re-validation removed the access of a person of " + srcName + ": they are disabled and their sessions ended."
	case HealthChanged:
		m.Check, _ = e.Kind.HealthAction()
		m.State, m.Reason, m.ReasonWords = e.Reason, "", ""
		m.Text = "The health check " + m.Check + " of " + srcName + " is now " + e.Reason + "."
		m.Link = n.link("/admin/sources/" + e.SourceID)
	case AdminWays:
		m.Text = map[store.EventKind]string{store.EventAdminPasswordSet: "The admin password was set.",
			store.EventAdminPasswordReset: "The admin password was reset on the server.",
		}[e.Kind]
		if m.Text == "" {
			m.Text = "The admin's ways in changed (admin grants, the second factor or the local password)."
		}
		m.Link = n.link("/admin/security")
	}
	return m
}

// backoff is the wait after a target's failures-th failed delivery in a row.
func (n *Notifier) backoff(failures int) time.Duration {
	d := n.cfg.MinBackoff
	for i := 1; i < failures && d < n.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, n.cfg.MaxBackoff)
}

// SendDue delivers the queued messages whose targets are not waiting out a back-off,
// oldest first, and answers how many were delivered. A target that fails keeps its other
// messages for its next try, so they arrive in order.
func (n *Notifier) SendDue(ctx context.Context) (int, error) {
	sent := 0
	for ctx.Err() == nil {
		ns, err := n.st.ClaimNotifications(ctx, batch, lease)
		if err != nil {
			return sent, err
		}
		k, err := n.sendClaimed(ctx, ns)
		sent += k
		if err != nil || len(ns) < batch {
			return sent, err
		}
	}
	return sent, ctx.Err()
}

// sendClaimed delivers claimed messages; those of a target that failed in this round are let go.
func (n *Notifier) sendClaimed(ctx context.Context, ns []store.Notification) (int, error) {
	targets := map[string]*store.NotifyTarget{}
	failed := map[string]bool{}
	var release []int64
	sent := 0
	for _, q := range ns {
		if failed[q.TargetID] {
			release = append(release, q.ID)
			continue
		}
		t, ok := targets[q.TargetID]
		if !ok {
			var err error
			t, err = n.st.NotifyTarget(ctx, q.TargetID)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since: its queue went with it
			} else if err != nil {
				return sent, err
			}
			targets[q.TargetID] = t
		}
		var m Message
		err := json.Unmarshal([]byte(q.Body), &m)
		if err == nil {
			err = n.deliver(ctx, t, m)
		}
		if err == nil {
			n.cfg.Delivered("delivered")
			sent++
			if err := n.st.NotificationSent(ctx, q); err != nil {
				return sent, err
			}
			continue
		}
		n.cfg.Delivered("failed")
		failed[q.TargetID] = true
		if err := n.st.NotificationFailed(ctx, q, err.Error(), n.backoff(t.Failures+1), n.cfg.MaxAttempts); err != nil {
			return sent, err
		}
		if q.Attempts+1 >= n.cfg.MaxAttempts {
			n.cfg.Dropped("attempts", 1)
		}
	}
	return sent, n.st.ReleaseNotifications(ctx, release)
}

// deliver sends m to t in t's format.
func (n *Notifier) deliver(ctx context.Context, t *store.NotifyTarget, m Message) error {
	req, err := Render(t.Format, m, t.Names, t.Secret, n.cfg.Now())
	if err != nil {
		return err
	}
	return post(ctx, n.cfg.Client, t.URL, req)
}

// Run sends the queued messages every interval, and soon after this replica queues one,
// until ctx ends. Sending is database-wide: one replica at a time sends (RunAlone), a
// replica that finds it running elsewhere skips that round.
func (n *Notifier) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, _ = n.st.RunAlone(ctx, "notify", func(ctx context.Context) {
			if _, err := n.SendDue(ctx); err != nil && ctx.Err() == nil {
				n.cfg.Logger.Warn("send notifications", "error", err)
			}
		})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.wake:
		}
	}
}

// Every is how often each replica looks for queued messages (a replica that queues one
// sends it at once).
const Every = 15 * time.Second
