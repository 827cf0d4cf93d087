// Package metrics is the host's Prometheus metrics: the build, sign-ins and refusals by
// source and reason, token grants by type, forward-auth decisions by outcome, the latency of
// forward-auth, of the token endpoint and of a sign-in, 429s by door, live sessions by kind,
// plugin versions and restarts and store latency, on a registry of their own. No label
// names a person.
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
)

// Metrics are the host's collectors; the zero of each count exists from the start.
type Metrics struct {
	reg         *prometheus.Registry
	signIns     *prometheus.CounterVec
	grants      *prometheus.CounterVec
	forward     *prometheus.CounterVec
	events      *prometheus.CounterVec
	handovers   *prometheus.CounterVec
	storeTime   *prometheus.HistogramVec
	forwardTime *prometheus.HistogramVec
	tokenTime   prometheus.Histogram
	limited     *prometheus.CounterVec
	signInTime  *prometheus.HistogramVec
	retries     prometheus.Counter
	pluginsFor  func() map[string]Plugin
	ready       func() bool
	// feed, when set (a shared database), answers whether the change feed listens.
	feed atomic.Pointer[func() bool]
	// sessions, when set, count the live sessions at each scrape.
	sessions atomic.Pointer[SessionCounter]
	// notifySent and notifyDropped count the notifications' deliveries and drops (notify.go).
	notifySent, notifyDropped *prometheus.CounterVec
}

// Plugin is what a scrape reports of a running plugin.
type Plugin struct {
	Version  string // its manifest's version
	Restarts int    // times its process was started again after it died
}

// New registers the collectors; plugins answers each running plugin (by id) and ready
// whether the host is ready, both read at each scrape.
func New(plugins func() map[string]Plugin, ready func() bool) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), pluginsFor: plugins, ready: ready}
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_signins_total",
		Help: "Sign-ins through a source, by source (its slug), outcome (allowed, denied, failed) and reason code."},
		[]string{"source", "outcome", "reason"})
	m.grants = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_oidc_token_requests_total",
		Help: "OpenID Connect token endpoint requests, by grant type and outcome (issued, refused, error)."},
		[]string{"grant_type", "outcome"})
	m.forward = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_forward_auth_decisions_total",
		Help: "Forward-auth answers, by proxy flavour and outcome (allow, login, forbid, handover, bad_request, unavailable)."},
		[]string{"proxy", "outcome"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_events_total",
		Help: "Events recorded (what the admin's Events page lists), by kind."}, []string{"kind"})
	m.handovers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_credential_handovers_total",
		Help: "Kept credentials written into an app's browser storage by the hand-over bridge, by credential kind and navigation " +
			"(yes: the browser's fetch metadata said a page load; unknown: it sent none)."}, []string{"kind", "navigation"})
	m.storeTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hostexample_store_seconds",
		Help:    "Time of each database statement, by database handle (read, write) and operation (query, exec).",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}},
		[]string{"db", "op"})
	m.retries = prometheus.NewCounter(prometheus.CounterOpts{Name: "hostexample_store_tx_retries_total",
		Help: "Write transactions run again after PostgreSQL refused them for a concurrent one (serialization failure or deadlock)."})
	bi := buildinfo.Get()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "hostexample_build_info",
		Help:        "Always 1; its labels are this build's version (git describe), commit and Go release (as host-example version).",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion}})
	build.Set(1)
	m.reg.MustRegister(m.signIns, m.grants, m.forward, m.events, m.handovers, m.storeTime, m.retries, build, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), pluginCollector{m})
	m.reg.MustRegister(m.newLatency()...)
	m.reg.MustRegister(m.newService()...)
	m.reg.MustRegister(m.newNotify()...)
	for _, p := range []string{"nginx", "traefik", "caddy"} {
		m.forwardTime.WithLabelValues(p)
	}
	for _, o := range []string{"allow", "login", "forbid", "handover", "bad_request", "unavailable"} {
		for _, p := range []string{"nginx", "traefik", "caddy"} {
			m.forward.WithLabelValues(p, o)
		}
	}
	for _, g := range grantTypes {
		for _, o := range []string{"issued", "refused", "error"} {
			m.grants.WithLabelValues(g, o)
		}
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// SignIn counts a sign-in's outcome.
func (m *Metrics) SignIn(source, outcome, reason string) {
	m.signIns.WithLabelValues(source, outcome, reason).Inc()
}

// Event counts a recorded event.
func (m *Metrics) Event(kind string) { m.events.WithLabelValues(kind).Inc() }

// grantTypes are the grant types counted by name; any other is "other".
var grantTypes = []string{"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange", "other"}

// Grant counts a token request; an unknown grant type is counted as "other", so a client
// cannot make up labels.
func (m *Metrics) Grant(grantType, outcome string) {
	known := "other"
	for _, g := range grantTypes {
		if g == grantType {
			known = g
		}
	}
	m.grants.WithLabelValues(known, outcome).Inc()
}

// Forward counts a forward-auth answer.
func (m *Metrics) Forward(proxy, outcome string) { m.forward.WithLabelValues(proxy, outcome).Inc() }

// HandedOver counts a credential of kind handed to a browser, with whether it was a navigation (yes, unknown).
func (m *Metrics) HandedOver(kind, navigation string) {
	m.handovers.WithLabelValues(kind, navigation).Inc()
}

// Query observes a database statement's time.
func (m *Metrics) Query(db, op string, d time.Duration) {
	m.storeTime.WithLabelValues(db, op).Observe(d.Seconds())
}

// TxRetry counts a write transaction run again.
func (m *Metrics) TxRetry() { m.retries.Inc() }

// WatchFeed has each scrape report whether listening answers true: the change feed of a
// shared database (1 listening, 0 polling only).
func (m *Metrics) WatchFeed(listening func() bool) { m.feed.Store(&listening) }

// pluginCollector reads the plugins' restarts and the host's readiness at each scrape.
type pluginCollector struct{ m *Metrics }

var (
	restartsDesc = prometheus.NewDesc("hostexample_plugin_restarts_total", "Times a plugin process was started again after it died.",
		[]string{"plugin"}, nil)
	pluginInfoDesc = prometheus.NewDesc("hostexample_plugin_info", "Always 1 for each running plugin; version is its manifest's.",
		[]string{"plugin", "version"}, nil)
	readyDesc = prometheus.NewDesc("hostexample_ready", "1 once the plugins are up and the host answers (as /healthz), else 0.", nil, nil)
	feedDesc  = prometheus.NewDesc("hostexample_store_change_feed_listening",
		"On a shared database: 1 while other replicas' changes arrive by LISTEN/NOTIFY, 0 while only polled (-forward-auth-cache).", nil, nil)
)

func (c pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- restartsDesc
	ch <- pluginInfoDesc
	ch <- readyDesc
	ch <- feedDesc
}

func (c pluginCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.pluginsFor != nil {
		for id, p := range c.m.pluginsFor() {
			ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(p.Restarts), id)
			ch <- prometheus.MustNewConstMetric(pluginInfoDesc, prometheus.GaugeValue, 1, id, p.Version)
		}
	}
	ready := 0.0
	if c.m.ready != nil && c.m.ready() {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready)
	if f := c.m.feed.Load(); f != nil {
		listening := 0.0
		if (*f)() {
			listening = 1
		}
		ch <- prometheus.MustNewConstMetric(feedDesc, prometheus.GaugeValue, listening)
	}
}
