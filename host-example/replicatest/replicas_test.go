package replicatest

import (
	"testing"
	"time"
)

// TestReplicas runs every proof on one cluster (starting it is most of the cost): three
// replicas on one PostgreSQL behind nginx round-robin.
func TestReplicas(t *testing.T) {
	t0 := time.Now()
	c := newCluster(t)
	t.Logf("cluster up in %v", time.Since(t0).Round(time.Millisecond))
	t.Run("SmokeLogin", func(t *testing.T) {
		hc := c.viaNginx()
		p := c.plexLogin(t, hc, "friend")
		t.Logf("login ended: %d %s", p.status, p.location)
	})
}
