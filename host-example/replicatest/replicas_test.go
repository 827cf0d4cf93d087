package replicatest

import (
	"testing"
	"time"
)

// TestReplicas runs every proof on one cluster (starting it is most of the cost): three
// replicas on one PostgreSQL behind nginx round-robin. The faults come last: a replica is
// killed (and started again), then PostgreSQL restarts.
func TestReplicas(t *testing.T) {
	t0 := time.Now()
	c := newCluster(t)
	t.Logf("cluster up in %v", time.Since(t0).Round(time.Millisecond))
	t.Run("BrowserLogin", func(t *testing.T) { testBrowserLogin(t, c) })
	t.Run("OIDC", func(t *testing.T) { testOIDCAcrossReplicas(t, c) })
	t.Run("CodeRacingEndOfAccess", func(t *testing.T) { testCodeRacingEndOfAccess(t, c) })
	t.Run("ForwardStartRacingEndOfAccess", func(t *testing.T) { testForwardStartRacingEndOfAccess(t, c) })
	t.Run("LogoutEndsForwardAuth", func(t *testing.T) { testLogoutEndsForwardAuthEverywhere(t, c) })
	t.Run("BreakGlass", func(t *testing.T) { testBreakGlassAcrossReplicas(t, c) })
	t.Run("Notifications", func(t *testing.T) { testNotificationsOncePerReplicaSet(t, c) })
	t.Run("KillDuringLoad", func(t *testing.T) { testKillDuringLoad(t, c) })
	t.Run("PostgresRestartUnderLoad", func(t *testing.T) { testPostgresRestartUnderLoad(t, c) })
	t.Run("FirstStartTogether", func(t *testing.T) { testFirstStartTogether(t, c) })
}
