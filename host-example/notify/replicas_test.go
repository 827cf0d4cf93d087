package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Two replicas on one PostgreSQL database, each recording refusals and each running its
// sender: every message arrives once.
func TestTwoReplicasSendEachOnce(t *testing.T) {
	url := postgrestest.Shared(t).NewDatabase(t)
	dir := t.TempDir() // one key file: replicas share the key
	var fs []*fixture
	for range 2 {
		st, err := store.OpenWith(context.Background(), store.Options{Database: url, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fs = append(fs, fixtureOn(t, st, notify.Config{}))
	}
	r := newReceiver(t)
	fs[0].target(t, notify.TargetInput{Name: "hook", URL: r.URL + "/in", Format: notify.Webhook, Kinds: allKinds(), Secret: hookSecret})

	ctx, cancel := context.WithCancel(context.Background())
	var senders sync.WaitGroup
	for _, f := range fs {
		senders.Add(1)
		go func() {
			defer senders.Done()
			f.n.Run(ctx, 20*time.Millisecond)
		}()
	}
	const perReplica = 100
	var writers sync.WaitGroup
	for i, f := range fs {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for j := range perReplica {
				if err := f.st.AddEvent(context.Background(), store.Event{SourceID: "src", Kind: store.EventLoginDenied,
					Reason: fmt.Sprintf("replica%d_%d", i, j)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	writers.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for len(r.messages(t, "/in")) < 2*perReplica && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	senders.Wait()
	seen := map[string]int{}
	reasons := map[string]bool{}
	for _, m := range r.messages(t, "/in") {
		seen[m.ID]++
		reasons[m.Reason] = true
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s arrived %d times", id, n)
		}
	}
	if len(seen) != 2*perReplica || len(reasons) != 2*perReplica {
		t.Fatalf("%d messages (%d refusals) arrived, want %d", len(seen), len(reasons), 2*perReplica)
	}
	if tg, err := fs[1].n.Targets(context.Background()); err != nil || tg[0].Queued != 0 || tg[0].Status != "ok" {
		t.Fatalf("after sending: %+v %v", tg, err)
	}
}
