package replicatest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// testNotificationsOncePerReplicaSet: a webhook target on the shared database, refusals on
// each of the three replicas (each queues its own, and tells a repeat of the same person and
// reason once: notify.RepeatWindow), every replica's sender running: each message arrives
// once, signed, and the queue ends empty.
func testNotificationsOncePerReplicaSet(t *testing.T, c *cluster) {
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string]int{}
	const secret = "replica-hook-secret-0123456789"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m notify.Message
		if json.Unmarshal(body, &m) != nil || !notify.Verify([]byte(secret), r.Header.Get(notify.HeaderTimestamp), body, r.Header.Get(notify.HeaderSignature)) {
			t.Errorf("an unsigned or garbled message: %s", body)
		}
		mu.Lock()
		got[m.ID]++
		mu.Unlock()
	}))
	defer recv.Close()
	if err := c.st.PutNotifyTarget(ctx, store.NotifyTarget{ID: "replicas", Name: "hook", URL: recv.URL + "/in", Format: notify.Webhook,
		Kinds: []string{string(notify.Refusal)}, Secret: []byte(secret)}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.st.DeleteNotifyTarget(ctx, "replicas") }()
	const perReplica = 3
	for _, r := range c.replicas {
		for range perReplica {
			if p := c.browser(t, r.addr).Login("plex", "noshare"); p.Location == "/" {
				t.Fatalf("noshare got in on %s", r.name)
			}
		}
	}
	want := len(c.replicas)                 // the same refusal repeated on one replica is told once
	deadline := time.Now().Add(time.Minute) // a replica's sender looks every 15 s at the latest
	for time.Now().Before(deadline) {
		tg, err := c.st.NotifyTarget(ctx, "replicas")
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if err == nil && tg.Queued == 0 && n >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != want {
		t.Fatalf("%d messages arrived, want %d", len(got), want)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("message %s arrived %d times", id, n)
		}
	}
}
