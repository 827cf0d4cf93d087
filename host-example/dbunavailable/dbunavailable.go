// Package dbunavailable is the host's one answer when its database cannot be reached (a
// restart or failover of a shared PostgreSQL): 503 with a Retry-After, so a browser, a load
// balancer or a proxy sees an outage that passes, not a refusal.
package dbunavailable

import "net/http"

// RetryAfter is the seconds a client is asked to wait.
const RetryAfter = "5"

// Answer writes the outage answer.
func Answer(w http.ResponseWriter) {
	w.Header().Set("Retry-After", RetryAfter)
	http.Error(w, "The sign-in service cannot reach its database just now. Try again in a moment.", http.StatusServiceUnavailable)
}
