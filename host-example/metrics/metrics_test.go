package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

// A client's made-up grant type is counted as "other": a label cannot be made up from outside.
func TestUnknownGrantTypeIsOther(t *testing.T) {
	m := New(func() map[string]Plugin { return map[string]Plugin{"p": {Version: "1.2.3", Restarts: 2}} }, func() bool { return false })
	m.Grant("refresh_token", "issued")
	m.Grant("x-evil-"+strings.Repeat("a", 50), "refused")
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body := w.Body.String()
	for _, want := range []string{`hostexample_oidc_token_requests_total{grant_type="refresh_token",outcome="issued"} 1`,
		`hostexample_oidc_token_requests_total{grant_type="other",outcome="refused"} 1`,
		`hostexample_plugin_restarts_total{plugin="p"} 2`, `hostexample_plugin_info{plugin="p",version="1.2.3"} 1`, "hostexample_ready 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s", want)
		}
	}
	if strings.Contains(body, "x-evil") {
		t.Error("a made-up grant type became a label")
	}
}

// Hand-overs are counted by credential kind and navigation (issue 28 #7: an alert watches
// navigation="unknown").
func TestHandoversCountedByNavigation(t *testing.T) {
	m := New(nil, nil)
	m.HandedOver("plex.token", "yes")
	m.HandedOver("plex.token", "unknown")
	m.HandedOver("plex.token", "unknown")
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`hostexample_credential_handovers_total{kind="plex.token",navigation="yes"} 1`,
		`hostexample_credential_handovers_total{kind="plex.token",navigation="unknown"} 2`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("no %s", want)
		}
	}
}

// The change feed's gauge shows only on a shared database, and follows the feed; retried
// transactions are counted.
func TestChangeFeedGaugeAndRetries(t *testing.T) {
	m := New(nil, nil)
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	if strings.Contains(scrape(), "hostexample_store_change_feed_listening") {
		t.Fatal("a feed gauge without a shared database")
	}
	listening := true
	m.WatchFeed(func() bool { return listening })
	if !strings.Contains(scrape(), "hostexample_store_change_feed_listening 1") {
		t.Fatal("the feed listens, the gauge does not say 1")
	}
	listening = false
	m.TxRetry()
	m.TxRetry()
	body := scrape()
	if !strings.Contains(body, "hostexample_store_change_feed_listening 0") || !strings.Contains(body, "hostexample_store_tx_retries_total 2") {
		t.Fatalf("gauge or retries wrong:\n%s", body)
	}
}

// A 429 of a door not named is counted as "other", and every named door starts at zero; the
// live sessions are left out of a scrape whose count fails, and the rest still answers.
func TestLimitedDoorsAndSessionsGauge(t *testing.T) {
	m := New(nil, nil)
	m.Limited("forward_auth")
	m.Limited("x-made-up")
	counter := &fakeCounter{host: 3, forward: 2}
	m.CountSessions(counter)
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			t.Fatalf("scrape: %d", rec.Code)
		}
		return rec.Body.String()
	}
	body := scrape()
	for _, want := range []string{`hostexample_rate_limited_total{door="forward_auth"} 1`, `hostexample_rate_limited_total{door="other"} 1`,
		`hostexample_rate_limited_total{door="login"} 0`, `hostexample_rate_limited_total{door="admin"} 0`, `hostexample_rate_limited_total{door="oidc"} 0`,
		`hostexample_live_sessions{kind="host"} 3`, `hostexample_live_sessions{kind="forward_auth"} 2`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s", want)
		}
	}
	if strings.Contains(body, "x-made-up") {
		t.Error("a made-up door became a label")
	}
	counter.err = errors.New("database unreachable")
	body = scrape()
	if strings.Contains(body, "hostexample_live_sessions{") || !strings.Contains(body, "hostexample_rate_limited_total") {
		t.Errorf("a failed count:\n%s", body)
	}
}

// fakeCounter answers fixed counts of live sessions, or err.
type fakeCounter struct {
	host, forward int
	err           error
}

func (f *fakeCounter) CountLiveSessions(context.Context) (int, int, error) {
	return f.host, f.forward, f.err
}
