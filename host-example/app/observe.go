package app

import (
	"context"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/auditlog"
	"github.com/plexlogin/plexlogin/host-example/metrics"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// observe makes the metrics and the audit log and has the store report to them: every
// recorded event is counted and written to the log (rate-limited per kind); sign-ins are
// counted by source, outcome and reason.
func (a *App) observe(cfg Config) {
	a.Metrics = metrics.New(func() map[string]metrics.Plugin {
		out := map[string]metrics.Plugin{}
		for id, p := range a.Plugins.All() {
			out[id] = metrics.Plugin{Version: p.Manifest.Info.Version, Restarts: p.Process.Restarts()}
		}
		return out
	}, a.Plugins.Ready)
	a.audit = auditlog.New(cfg.Logger.Named("audit"), 0)
	a.Store.Observe(store.Observer{Query: a.Metrics.Query, Event: a.recorded, Retry: a.Metrics.TxRetry})
	if a.Store.Shared() {
		a.Metrics.WatchFeed(func() bool { return a.Store.Feed().Listening })
	}
	a.Metrics.CountSessions(liveSessions{a.Store})
}

// signedIn observes a sign-in's time from its start to signed in (host.LoginConfig.SignedIn).
func (a *App) signedIn(src *store.Source, took time.Duration) { a.Metrics.SignedIn(src.Slug, took) }

// liveSessions count the store's live sessions for the metrics, at each scrape.
type liveSessions struct{ st *store.Store }

// CountLiveSessions counts the signed-in host sessions and the forward-auth sessions.
func (l liveSessions) CountLiveSessions(ctx context.Context) (host, forward int, err error) {
	n, err := l.st.CountLiveSessions(ctx)
	return n.Host, n.Forward, err
}

// signInOutcomes are the event kinds of a sign-in and the outcome each counts as.
var signInOutcomes = map[store.EventKind]string{
	store.EventLoginAllowed: "allowed",
	store.EventLoginDenied:  "denied",
	store.EventLoginFailed:  "failed",
}

// recorded counts and logs an event the store recorded, and queues its notification: the
// one hook of every event.
func (a *App) recorded(e store.Event) {
	if a.Notify != nil {
		a.Notify.Recorded(e)
	}
	a.Metrics.Event(string(e.Kind))
	src := ""
	if e.SourceID != "" {
		if s, err := a.Store.Source(context.Background(), e.SourceID); err == nil {
			src = s.Slug
		}
	}
	if outcome, ok := signInOutcomes[e.Kind]; ok {
		a.Metrics.SignIn(src, outcome, e.Reason)
	}
	kind := string(e.Kind)
	if strings.HasPrefix(kind, "admin_") {
		kind = "admin"
	}
	a.audit.Info(kind, "event", "event", string(e.Kind), "source", src, "who", e.Name, "subject", e.Subject, "reason", e.Reason,
		"detail", e.Detail)
}
