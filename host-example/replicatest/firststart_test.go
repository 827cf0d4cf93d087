package replicatest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// firstStartRounds is how many empty databases three replicas start on at once.
const firstStartRounds = 4

// testFirstStartTogether: three replicas started at once on an empty database, each with a
// copy of one key, agree: all become ready, and the database holds one bootstrap source
// and one active signing key (a replica that signs with a key the others retired, or none,
// breaks every token exchange).
func testFirstStartTogether(t *testing.T, c *cluster) {
	for round := 1; round <= firstStartRounds; round++ {
		dsn := c.pg.NewDatabase(t)
		var rs []*replica
		for i := 1; i <= 3; i++ {
			rs = append(rs, c.newReplica(t, fmt.Sprintf("first%d-r%d", round, i), dsn))
		}
		for _, r := range rs {
			r.start(t)
		}
		for _, r := range rs {
			r.waitReady(t)
		}
		own := filepath.Join(c.base, fmt.Sprintf("first%d-test", round))
		mkdir(t, own)
		writeFile(t, filepath.Join(own, store.KeyFile), string(c.key))
		st, err := store.OpenWith(context.Background(), store.Options{Database: dsn, Dir: own})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		sources, err := st.Sources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := st.SigningKeys(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		active := 0
		for _, k := range keys {
			if k.RetiredAt.IsZero() {
				active++
			}
		}
		t.Logf("round %d: %d source(s), %d signing key(s) of which %d active", round, len(sources), len(keys), active)
		if len(sources) != 1 {
			t.Errorf("round %d: %d sources after three first starts, want the bootstrap's one", round, len(sources))
		}
		if active != 1 {
			t.Errorf("round %d: %d active signing keys after three first starts at once, want 1 (each replica made one and retired the others')",
				round, active)
		}
		for _, r := range rs {
			r.stop()
			if t.Failed() {
				t.Logf("%s log:\n%s", r.name, r.logTail())
			}
		}
	}
}
