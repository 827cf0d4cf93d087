package web_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
)

// Admin sign-ins with the old password racing reset-admin-password: whichever way they
// interleave, no admin session of the old password (nor one that skipped the TOTP the reset
// turned off between its writes) lives after the reset (review D: a sign-in that checked the
// old password wrote its session after the reset ended the others, and kept it 12 hours).
func TestAdminSignInRacingTheResetOutlivesIt(t *testing.T) {
	for _, totp := range []bool{false, true} {
		t.Run(fmt.Sprintf("totp=%v", totp), func(t *testing.T) {
			clock := newTestClock()
			h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback; c.Clock = clock.now })
			if totp {
				admin := h.browser()
				admin.AdminLogin(adminPassword)
				admin.enrolTOTP(clock)
				clock.advance(2 * host.TOTPPeriod)
			}
			var stop atomic.Bool
			var wg sync.WaitGroup
			var mu sync.Mutex
			var signedIn []*browser
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						b := h.browser()
						if p := b.adminTry(fmt.Sprintf("192.0.2.%d", 10+g), adminPassword); p.Status == http.StatusSeeOther && p.Location == "/admin" {
							mu.Lock()
							signedIn = append(signedIn, b)
							mu.Unlock()
						}
					}
				}()
			}
			time.Sleep(300 * time.Millisecond)
			if _, err := host.NewAdmin(h.store, nil).Reset(context.Background(), "a-brand-new-password"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			stop.Store(true)
			wg.Wait()
			alive := 0
			for _, b := range signedIn {
				if p := b.Do("GET", "/admin/users", nil); p.Status == http.StatusOK {
					alive++
				}
			}
			t.Logf("admin sessions of the old password: %d, alive after the reset: %d", len(signedIn), alive)
			if alive > 0 {
				t.Fatalf("%d admin sessions of the old password outlived the reset", alive)
			}
		})
	}
}
