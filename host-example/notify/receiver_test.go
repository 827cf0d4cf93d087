package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// received is one request a receiver took.
type received struct {
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is a local HTTP server that takes notifications (answering 503 while down).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	down atomic.Bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, received{Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

// messages are the generic webhook messages the receiver took at path, in order of arrival.
func (r *receiver) messages(t *testing.T, path string) []notify.Message {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notify.Message
	for _, g := range r.got {
		if g.Path != path {
			continue
		}
		var m notify.Message
		if err := json.Unmarshal(g.Body, &m); err != nil {
			t.Fatalf("a body that is not a message: %s", g.Body)
		}
		out = append(out, m)
	}
	return out
}

// all are every request the receiver took.
func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// clock is a test's movable clock, shared by the store and the notifier.
type clock struct{ now atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.now.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *clock) advance(d time.Duration) { c.now.Add(int64(d)) }

// public is the host's public URL in the tests' messages.
var public, _ = url.Parse("https://id.example.test")

// fixture is a SQLite store whose recorded events go to a notifier, on a movable clock.
type fixture struct {
	st    *store.Store
	n     *notify.Notifier
	clock *clock
	// dropped counts the messages dropped, by reason.
	dropped map[string]int
	mu      sync.Mutex
}

func newFixture(t *testing.T, cfg notify.Config) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return fixtureOn(t, st, cfg)
}

// fixtureOn is a fixture over st.
func fixtureOn(t *testing.T, st *store.Store, cfg notify.Config) *fixture {
	f := &fixture{st: st, clock: newClock(), dropped: map[string]int{}}
	st.SetClock(f.clock.Now)
	cfg.PublicURL, cfg.Now = public, f.clock.Now
	cfg.Dropped = func(reason string, n int) {
		f.mu.Lock()
		f.dropped[reason] += n
		f.mu.Unlock()
	}
	f.n = notify.New(st, cfg)
	st.Observe(store.Observer{Event: f.n.Recorded})
	return f
}

// target adds a target; it fails the test if the notifier refuses it.
func (f *fixture) target(t *testing.T, in notify.TargetInput) *notify.Target {
	t.Helper()
	tg, err := f.n.Save(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// send delivers what is due.
func (f *fixture) send(t *testing.T) int {
	t.Helper()
	n, err := f.n.SendDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// allKinds are the kinds a target may receive, as the form sends them.
func allKinds() []string {
	var out []string
	for _, k := range notify.Kinds {
		out = append(out, string(k))
	}
	return out
}
