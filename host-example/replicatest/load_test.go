package replicatest

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/oidcload"
	"github.com/plexlogin/plexlogin/host-example/openid"
)

// forwardLoad is a closed-loop load on the protected app through nginx: each worker asks for
// a page with one seeded session after another, one request in flight at a time.
type forwardLoad struct {
	mu       sync.Mutex
	outcomes map[string]int // "ok", "refused" (sent to the sign-in), "wrong user", "status 502", "transport: …"
	failedAt []time.Time    // when each request that was neither ok nor refused ended
	wg       sync.WaitGroup
	stop     chan struct{}
}

// startForwardLoad runs workers until the load's end is called.
func (c *cluster) startForwardLoad(sessions []session, workers int) *forwardLoad {
	l := &forwardLoad{outcomes: map[string]int{}, stop: make(chan struct{})}
	hc := client("127.0.0.1:" + c.port)
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; ; i += workers {
				select {
				case <-l.stop:
					return
				default:
				}
				s := sessions[i%len(sessions)]
				p, err := try(hc, "GET", fmt.Sprintf("%s/load/%d", c.app, i), nil, http.Header{"Cookie": {"hx_forward=" + s.token}})
				l.record(outcomeOf(p, err, s.user))
			}
		}()
	}
	return l
}

// outcomeOf classifies an answer of the protected app for user.
func outcomeOf(p page, err error, user string) string {
	switch {
	case err != nil:
		return "transport: " + err.Error()
	case p.status == http.StatusOK && strings.Contains(p.body, "user="+user+"\n"):
		return "ok"
	case p.status == http.StatusOK:
		return "wrong user"
	case p.status == http.StatusFound:
		return "refused"
	default:
		return fmt.Sprintf("status %d", p.status)
	}
}

func (l *forwardLoad) record(outcome string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outcomes[outcome]++
	if outcome != "ok" && outcome != "refused" {
		l.failedAt = append(l.failedAt, time.Now())
	}
}

// end stops the workers, waits for their last requests and answers the outcomes.
func (l *forwardLoad) end() map[string]int {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.outcomes
}

// failures is how many requests failed (neither ok nor refused).
func failures(outcomes map[string]int) int {
	n := 0
	for k, v := range outcomes {
		if k != "ok" && k != "refused" {
			n += v
		}
	}
	return n
}

// describe lists outcomes in a stable order.
func describe(outcomes map[string]int) string {
	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, outcomes[k])
	}
	return strings.Join(parts, ", ")
}

// refreshLoad is oidcload's open-loop refresh-token load through nginx at rate for d, on
// families fresh refresh-token families of a seeded user; it runs in the background.
type refreshLoad struct {
	done chan struct{}
	res  oidcload.Result
	err  error
}

func (c *cluster) startRefreshLoad(t *testing.T, user string, families, rate int, d time.Duration) *refreshLoad {
	t.Helper()
	seed, err := openid.SeedLoad(context.Background(), c.st, clientID, c.seedUser(t, user), 0, families, 30*time.Minute)
	if err != nil {
		t.Fatalf("seed refresh families: %v", err)
	}
	l := &refreshLoad{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.res, l.err = oidcload.Run(context.Background(), oidcload.Options{TokenURL: "http://127.0.0.1:" + c.port + "/oauth/token",
			ClientID: clientID, ClientSecret: clientSecret, Grant: "refresh_token", Rate: rate, Duration: d, RefreshTokens: seed.RefreshTokens})
	}()
	return l
}

// wait answers the run's result once it ended.
func (l *refreshLoad) wait(t *testing.T) oidcload.Result {
	t.Helper()
	<-l.done
	if l.err != nil {
		t.Fatalf("oidcload: %v", l.err)
	}
	return l.res
}
