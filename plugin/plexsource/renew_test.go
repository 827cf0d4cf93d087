package plexsource

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/source"
)

// TestRenewalScheduleWithInjectedClock drives 7-day tokens through a month with the plugin's
// and the simulator's clocks moved together: nothing is renewed before half of the token's
// own life (3½ days), each renewal asks to be called again at the new token's half life, and
// a token that plex.tv already answers 498 is renewed at once whatever its claims say.
func TestRenewalScheduleWithInjectedClock(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	advance := func(d time.Duration) { offset.Add(int64(d)); sim.Advance(d) }
	p := New(Options{BaseURL: srv.URL, AppURL: srv.URL, Backoff: time.Millisecond, Now: now})
	ctx := context.Background()
	cfg, _ := json.Marshal(map[string]any{"access_mode": "members", "owner_token": sim.TokenFor("owner", "schedule-client-1"),
		"client_identifier": "schedule-client-1", "allowed_servers": []map[string]string{{"machine_id": plexsim.ServerLivingRoom}}})
	inst := source.Instance{ID: "schedule", ConfigVersion: 1, Config: cfg}
	validate := func() {
		t.Helper()
		inst.ConfigVersion++
		norm, err := p.ValidateConfig(ctx, inst)
		if err != nil {
			t.Fatal(err)
		}
		inst.Config = norm
	}
	merge := func(patch json.RawMessage) {
		t.Helper()
		var c, pt map[string]json.RawMessage
		_ = json.Unmarshal(inst.Config, &c)
		_ = json.Unmarshal(patch, &pt)
		for k, v := range pt {
			c[k] = v
		}
		inst.Config, _ = json.Marshal(c)
		validate()
	}
	validate()
	res, err := p.RunAction(ctx, inst, source.ActionRequest{ActionID: ActionUpgrade})
	if err != nil {
		t.Fatal(err)
	}
	merge(res.ConfigPatch)
	renew := func() source.Renewal {
		t.Helper()
		r, err := p.RenewSourceCredentials(ctx, inst)
		if err != nil || r.Check(now()) != nil || len(r.Credentials) != 1 || r.Credentials[0].Err != nil {
			t.Fatalf("renew: %v %+v", err, r)
		}
		return r
	}
	half := plexsim.DefaultJWTLife / 2
	r := renew()
	start := now()
	if len(r.ConfigPatch) != 0 || r.RenewAfter.Sub(start) < half-time.Minute || r.RenewAfter.Sub(start) > half+time.Minute {
		t.Fatalf("fresh 7-day token: renew after %v, want about 3.5 days", r.RenewAfter.Sub(start))
	}
	renewals := 0
	for day := 1; day <= 30; day++ {
		advance(24 * time.Hour)
		due := !now().Before(r.RenewAfter)
		r2 := renew()
		if due != (len(r2.ConfigPatch) > 0) {
			t.Fatalf("day %d: due %t, renewed %t", day, due, len(r2.ConfigPatch) > 0)
		}
		if due {
			renewals++
			merge(r2.ConfigPatch)
			if got := r2.RenewAfter.Sub(now()); got < half-time.Minute || got > half+time.Minute {
				t.Fatalf("day %d: next renewal in %v, want half of 7 days", day, got)
			}
		}
		r = r2
	}
	if renewals < 7 || renewals > 8 {
		t.Fatalf("%d renewals in 30 days of 7-day tokens renewed at half life", renewals)
	}
	// Expired early (plex.tv answers 498 before the token's exp): renewed at once.
	time.Sleep(1100 * time.Millisecond) // JWT times are whole seconds
	sim.ExpireJWTs()
	if r := renew(); len(r.ConfigPatch) == 0 {
		t.Fatal("a token plex.tv answers 498 was not renewed at once")
	}
}
