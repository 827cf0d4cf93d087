package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Latency buckets: a forward-auth decision is mostly a cache hit (well under a millisecond),
// a token request hashes and signs (milliseconds, more with a database round trip).
var (
	forwardBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}
	tokenBuckets   = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
)

// newLatency makes the latency histograms.
func (m *Metrics) newLatency() []prometheus.Collector {
	m.forwardTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hostexample_forward_auth_decision_seconds",
		Help: "Time forward-auth takes to answer a proxy's question (its decision path), by proxy flavour.", Buckets: forwardBuckets},
		[]string{"proxy"})
	m.tokenTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hostexample_oidc_token_request_seconds",
		Help: "Time the OpenID Connect token endpoint takes to answer a POST.", Buckets: tokenBuckets})
	return []prometheus.Collector{m.forwardTime, m.tokenTime}
}

// TimeForwardAuth times the decisions h answers: a request to a path of decisions (a
// decision path → its proxy flavour) is observed in hostexample_forward_auth_decision_seconds;
// h's other paths pass untimed.
func (m *Metrics) TimeForwardAuth(h http.Handler, decisions map[string]string) http.Handler {
	obs := make(map[string]prometheus.Observer, len(decisions))
	for path, proxy := range decisions {
		obs[path] = m.forwardTime.WithLabelValues(proxy) // resolved once: no lookup per request
	}
	return timed(h, obs, "")
}

// TimeToken times the token endpoint h serves at path (POSTs only) in
// hostexample_oidc_token_request_seconds.
func (m *Metrics) TimeToken(h http.Handler, path string) http.Handler {
	return timed(h, map[string]prometheus.Observer{path: m.tokenTime}, http.MethodPost)
}

// timed is h observing the time of each request to a path of obs (of method, if set).
func timed(h http.Handler, obs map[string]prometheus.Observer, method string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, ok := obs[r.URL.Path]
		if !ok || (method != "" && r.Method != method) {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		h.ServeHTTP(w, r)
		o.Observe(time.Since(start).Seconds())
	})
}
