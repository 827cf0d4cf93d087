package replicatest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Load of the kill and restart proofs: closed-loop forward-auth workers through nginx (each
// with at most one request in flight) and oidcload's refresh grants at a fixed rate.
const (
	loadWorkers  = 8
	loadSessions = 40
	refreshRate  = 30 // refresh grants per second
	refreshFams  = 30
)

// testKillDuringLoad: kill -9 of a replica during a load through nginx. No session is lost
// (every session made before works afterwards through nginx on the two survivors), and the
// only failed requests are ones that nginx had sent to the killed replica; the replica's
// plugin process ends with it. The killed replica is started again at the end.
func testKillDuringLoad(t *testing.T, c *cluster) {
	sessions := c.seedForwardSessions(t, "load", loadSessions)
	victim := c.replicas[1]
	mark := c.nginx.mark(t)
	fl := c.startForwardLoad(sessions, loadWorkers)
	rl := c.startRefreshLoad(t, "refresher", refreshFams, refreshRate, 4*time.Second)
	time.Sleep(1500 * time.Millisecond) // the load runs on three replicas
	children := victim.kill(t)
	killedAt := time.Now()
	t.Logf("kill -9 %s (pid %d) at %s; its children were %v", victim.name, victim.pid(), killedAt.Format("15:04:05.000"), children)
	refresh := rl.wait(t)
	outcomes := fl.end()
	t.Logf("forward-auth load through nginx: %s", describe(outcomes))
	t.Logf("refresh load through nginx (oidcload): %s", refresh)

	if left := waitGone(children); len(left) > 0 {
		t.Errorf("the killed replica's children still run: %v (its plugin outlived it)", left)
	}
	if n := outcomes["refused"] + outcomes["wrong user"]; n > 0 {
		t.Errorf("%d forward-auth answers refused a valid session or named another user", n)
	}
	if n := failures(outcomes); n > loadWorkers {
		t.Errorf("%d forward-auth requests failed; at most %d were in flight on the killed replica", n, loadWorkers)
	}

	// Every failure nginx saw was a request it had sent to the killed replica. nginx passes a
	// request on to the next replica (proxy_next_upstream error timeout, the default) when
	// the connection fails: in flight at the kill (GETs, and anything not yet sent) or
	// refused afterwards; those are counted as passed on.
	failed, retried, onVictim, total := 0, 0, 0, 0
	for _, e := range c.nginx.entries(t, mark) {
		total++
		sent := false
		for _, u := range e.upstreams {
			if u == victim.addr {
				sent = true
			}
		}
		if sent {
			onVictim++
			if len(e.upstreams) > 1 {
				retried++
			}
		}
		if strings.HasPrefix(e.status, "5") {
			failed++
			if !sent {
				t.Errorf("a failed request never sent to the killed replica: %+v", e)
			}
		}
	}
	t.Logf("nginx during the load: %d requests (subrequests included), %d tried on %s, %d of those passed on to another replica, %d answered 5xx; "+
		"clients saw %d forward-auth failures and %d refresh-grant errors", total, onVictim, victim.name, retried, failed,
		failures(outcomes), refresh.Errors)

	// No session lost: each works through nginx on the two survivors.
	mark = c.nginx.mark(t)
	hc := client("127.0.0.1:" + c.port)
	for i, s := range sessions {
		p, err := try(hc, "GET", c.app+"/after-kill", nil, http.Header{"Cookie": {"hx_forward=" + s.token}})
		if o := outcomeOf(p, err, s.user); o != "ok" {
			t.Errorf("session %d after the kill: %s", i, o)
		}
	}
	served := map[string]int{}
	for _, e := range c.nginx.entries(t, mark) {
		if len(e.upstreams) > 0 && strings.HasPrefix(e.request, "GET /after-kill ") {
			if r := c.replicaOf(e.upstreams[len(e.upstreams)-1]); r != e.upstreams[len(e.upstreams)-1] {
				served[r]++ // the auth subrequest's line; the app's own names the app
			}
		}
	}
	t.Logf("the %d sessions after the kill, forward-auth answered by %v", len(sessions), served)
	if served[victim.name] > 0 || len(served) != 2 {
		t.Errorf("after the kill the answers came from %v, want the two survivors", served)
	}

	victim.start(t)
	victim.waitReady(t)
	t.Logf("%s started again and ready", victim.name)
}
