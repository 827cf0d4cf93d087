package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// limitedDoors are the doors whose 429s are counted by name; any other is "other".
var limitedDoors = []string{"login", "admin", "oidc", "forward_auth", "other"}

// signInBuckets span a password sign-in (a fraction of a second) to a person who finds
// their upstream password first (minutes).
var signInBuckets = []float64{0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800}

// sessionsTimeout bounds a scrape's count of the live sessions.
const sessionsTimeout = 2 * time.Second

// SessionCounter counts the live sessions by kind (the store).
type SessionCounter interface {
	CountLiveSessions(ctx context.Context) (host, forward int, err error)
}

// newService makes the counters of what people meet: 429s by door, sign-in latency.
func (m *Metrics) newService() []prometheus.Collector {
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_rate_limited_total",
		Help: "Answers 429 (too many requests) of the sign-in limits, by door (login, admin, oidc, forward_auth)."}, []string{"door"})
	for _, d := range limitedDoors {
		m.limited.WithLabelValues(d)
	}
	m.signInTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hostexample_signin_seconds",
		Help: "Time from a sign-in's start (the host began it) to the person signed in, by source (its slug).", Buckets: signInBuckets},
		[]string{"source"})
	return []prometheus.Collector{m.limited, m.signInTime, sessionCollector{m}}
}

// Limited counts a 429 answered by door; an unknown door is counted as "other".
func (m *Metrics) Limited(door string) {
	known := "other"
	for _, d := range limitedDoors {
		if d == door {
			known = d
		}
	}
	m.limited.WithLabelValues(known).Inc()
}

// SignedIn observes a sign-in through source that took d from its start to signed in.
func (m *Metrics) SignedIn(source string, d time.Duration) {
	m.signInTime.WithLabelValues(source).Observe(d.Seconds())
}

// CountSessions has each scrape report the live sessions c counts (the gauge is left out
// of a scrape whose count fails, such as while the database is unreachable).
func (m *Metrics) CountSessions(c SessionCounter) { m.sessions.Store(&c) }

// sessionCollector counts the live sessions at each scrape: nothing on a request's path.
type sessionCollector struct{ m *Metrics }

var sessionsDesc = prometheus.NewDesc("hostexample_live_sessions",
	"Live sessions at the scrape, by kind (host: signed in to host-example, a person or the admin; forward_auth: an app's forward-auth cookie).",
	[]string{"kind"}, nil)

func (c sessionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- sessionsDesc }

func (c sessionCollector) Collect(ch chan<- prometheus.Metric) {
	sc := c.m.sessions.Load()
	if sc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionsTimeout)
	defer cancel()
	host, forward, err := (*sc).CountLiveSessions(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(host), "host")
	ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(forward), "forward_auth")
}
