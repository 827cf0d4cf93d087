package notify_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Review probes of the notification targets' doors (issue 32).

// Probe: a target's URL is an http(s) address with a host and no user or password, however
// it is spelt; a target answering with a redirect (307 keeps the method and the body) is not
// followed: the place it points to gets nothing, and the delivery fails.
func TestProbeTargetURLsAndRedirects(t *testing.T) {
	f := newFixture(t, notify.Config{})
	for _, bad := range []string{"ftp://example.test/x", "file:///etc/passwd", "javascript:alert(1)", "gopher://127.0.0.1:25/x",
		"http://user@127.0.0.1/x", "http://user:pw@127.0.0.1/x", "https://%75ser:pw@example.test/x", "http:///no-host",
		"//example.test/x", "/relative", "http://exa mple.test/", "http://example.test/\r\nX-Evil: 1", "unix:///run/docker.sock",
		"HTTP://u:p@example.test/"} {
		_, err := f.n.Save(context.Background(), notify.TargetInput{Name: "bad", URL: bad, Format: notify.Ntfy, Kinds: allKinds()})
		var invalid *notify.InvalidTarget
		if !errors.As(err, &invalid) {
			t.Errorf("the target URL %q was taken: %v", bad, err)
		}
	}

	var elsewhere atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(inside.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/admin/delete-everything", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	tg := f.target(t, notify.TargetInput{Name: "redirects", URL: redirecting.URL + "/hook", Format: notify.Webhook, Kinds: allKinds(),
		Secret: hookSecret})
	err := f.n.SendTest(context.Background(), tg.ID)
	if err == nil || !strings.Contains(err.Error(), "307") {
		t.Fatalf("a redirecting target's test: %v", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect was followed: the place it pointed to got %d requests", n)
	}
}

// Probe: a delivery's error, kept on the target and shown on the page, never holds the URL's
// path or query (a Discord webhook's URL is its token), whether nothing answers, TLS fails or
// the host has no address.
func TestProbeDeliveryErrorsHoldNoURL(t *testing.T) {
	f := newFixture(t, notify.Config{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(tls.Close)
	const token = "SECRETTOKENabcdef0123456789"
	for _, u := range []string{"http://" + closed + "/api/webhooks/1/" + token + "?wait=" + token,
		tls.URL + "/api/webhooks/1/" + token + "?x=" + token, "http://no-such-host.invalid/api/webhooks/1/" + token} {
		tg := f.target(t, notify.TargetInput{Name: "down", URL: u, Format: notify.Discord, Kinds: allKinds()})
		err := f.n.SendTest(context.Background(), tg.ID)
		if err == nil {
			t.Fatalf("%s: delivered", u)
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "/api/webhooks") {
			t.Errorf("the error of a delivery holds the URL: %v", err)
		}
	}
	// The same through the queue: the last error kept on each target.
	if err := f.n.Queue(context.Background(), notify.Message{ID: "m1", Kind: notify.Refusal, Title: "t", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	_, _ = f.n.SendDue(context.Background())
	ts, err := f.n.Targets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		if tg.LastError == "" || strings.Contains(tg.LastError, token) {
			t.Errorf("target %s's last error: %q", tg.Name, tg.LastError)
		}
	}
}

// Probe: the page shows no more of a target's answer than its status: neither the first line
// of a service that is no HTTP server (an SSH banner, a Redis error) nor a status line's own
// words.
func TestProbeDeliveryErrorsShowOnlyTheStatus(t *testing.T) {
	f := newFixture(t, notify.Config{})
	const leak = "SECRETBANNERxyz"
	serve := func(answer string) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				_, _ = c.Write([]byte(answer))
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				c.Close()
			}
		}()
		return "http://" + l.Addr().String() + "/hook"
	}
	for _, answer := range []string{"SSH-2.0-OpenSSH_9.6 " + leak + "\r\n", "-ERR " + leak + "\r\n",
		"HTTP/1.1 500 " + leak + "\r\nContent-Length: 0\r\n\r\n"} {
		tg := f.target(t, notify.TargetInput{Name: "inside", URL: serve(answer), Format: notify.Ntfy, Kinds: allKinds()})
		err := f.n.SendTest(context.Background(), tg.ID)
		if err == nil || strings.Contains(err.Error(), leak) {
			t.Errorf("a test to a service answering %q: %v", answer, err)
		}
	}
}

// Probe: a flood of refusals (which a signed-in friend makes at will, one per refused
// /authorize) while a target is down does not push the admin's ways-in alert queued before it
// out of the target's queue: the bound drops the oldest of the flood's own kind.
func TestProbeRefusalFloodKeepsTheAdminWaysAlert(t *testing.T) {
	f := newFixture(t, notify.Config{Bound: 20})
	r := newReceiver(t)
	f.target(t, notify.TargetInput{Name: "hook", URL: r.URL + "/in", Format: notify.Webhook, Kinds: allKinds(), Secret: hookSecret})
	ctx := context.Background()
	r.down.Store(true)
	if err := f.st.AddEvent(ctx, store.Event{Kind: store.EventAdminSecurityChanged, Detail: "admin grants changed"}); err != nil {
		t.Fatal(err)
	}
	f.send(t)
	for i := range 100 {
		if err := f.st.AddEvent(ctx, store.Event{SourceID: "src", Kind: store.EventOIDCDenied, Subject: strconv.Itoa(i), Reason: "not_in_allowed_groups"}); err != nil {
			t.Fatal(err)
		}
	}
	r.down.Store(false)
	f.clock.advance(time.Hour)
	f.send(t)
	ms := r.messages(t, "/in")
	if !slices.ContainsFunc(ms, func(m notify.Message) bool { return m.Kind == notify.AdminWays }) {
		t.Fatalf("the admin's ways-in alert was pushed out by a flood of refusals: %d delivered", len(ms))
	}
	if n := len(ms); n > 21 {
		t.Fatalf("%d delivered: the refusals are not bounded", n)
	}
}
