package metrics

import "github.com/prometheus/client_golang/prometheus"

// newNotify makes the counters of the admin's notifications: deliveries by outcome and
// messages dropped by reason.
func (m *Metrics) newNotify() []prometheus.Collector {
	m.notifySent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_notifications_total",
		Help: "Deliveries of notifications to their targets, by outcome (delivered, failed: tried again later)."}, []string{"outcome"})
	m.notifyDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hostexample_notifications_dropped_total",
		Help: "Notifications dropped undelivered, by reason (bound: the oldest past a target's queue bound; attempts: tried too often)."},
		[]string{"reason"})
	for _, o := range []string{"delivered", "failed"} {
		m.notifySent.WithLabelValues(o)
	}
	for _, r := range []string{"bound", "attempts"} {
		m.notifyDropped.WithLabelValues(r)
	}
	return []prometheus.Collector{m.notifySent, m.notifyDropped}
}

// NotificationDelivered counts a delivery's outcome (delivered, failed).
func (m *Metrics) NotificationDelivered(outcome string) { m.notifySent.WithLabelValues(outcome).Inc() }

// NotificationsDropped counts n notifications dropped for reason (bound, attempts).
func (m *Metrics) NotificationsDropped(reason string, n int) {
	m.notifyDropped.WithLabelValues(reason).Add(float64(n))
}
