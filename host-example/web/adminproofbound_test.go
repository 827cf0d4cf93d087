package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// Wrong proofs count where a new admin session or a new address does not reset them: per
// person (ten in an hour), and, from browsers not known from an admin login, in the admin
// login's bucket across all clients (twenty in three minutes). The attack of review B: source
// admins sign in again and again from new /64s, each session guessing the TOTP code. The
// owner's known browser still proves meanwhile, and anyone proves again once the guessing
// stops for the bucket's window.
func TestProofCodeGuessesAreBoundedAcrossSessions(t *testing.T) {
	clock := newTestClock()
	h, owner := proofHarnessMapping(t, clock, "[admins]\ngroups: [\"admins\"]") // every person of the source holds the group
	h.store.SetClock(clock.now)
	ctx := context.Background()
	secret := owner.enrolTOTP(clock)
	clock.advance(2 * host.TOTPPeriod)
	if err := host.NewAdmin(h.store, nil).SetGrants(ctx, []host.Grant{{SourceID: h.source.ID, Group: "admins"}}); err != nil {
		t.Fatal(err)
	}
	nets := 0
	signIn := func(persona string) *browser { // a new admin session from a new /64
		t.Helper()
		nets++
		b := h.browser()
		b.Header.Set("X-Forwarded-For", fmt.Sprintf("2001:db8:%d::1", 100+nets))
		if p := h.sourceAdminSignIn(b, persona); p.Status != http.StatusSeeOther || p.Location != "/admin" {
			t.Fatalf("%s through the source: %d %s", persona, p.Status, p.Body)
		}
		return b
	}
	prove := func(b *browser, code string) (checked, limited bool, p page) {
		t.Helper()
		p = b.grantsPost("admins", url.Values{"proof_code": {code}})
		return strings.Contains(p.Body, "not the current code"), strings.Contains(p.Body, "too many wrong"), p
	}
	checked := map[string]int{}
	total := 0
	for _, persona := range []string{"friend", "otherhome", "google"} {
		for s := 0; s < 4; s++ {
			b := signIn(persona)
			for g := 0; g < 6; g++ {
				ok, limited, p := prove(b, clock.wrongCode(t, secret))
				if ok == limited {
					t.Fatalf("%s, guess %d: neither checked nor refused as too many: %d %.300s", persona, g, p.Status, p.Body)
				}
				if ok {
					checked[persona]++
					total++
				}
			}
		}
	}
	// friend: ten (per person) of 24; otherhome: the ten the bucket still had; google: none.
	if checked["friend"] != 10 || total != 20 {
		t.Fatalf("wrong codes checked: %v, %d in all; want 10 for one person, 20 in all (the admin's bucket)", checked, total)
	}

	// The owner's browser, known from the admin login, proves with the right code meanwhile.
	if p := owner.grantsPost("admins", url.Values{"proof_code": {clock.code(t, secret, 0)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the owner's known browser with the right code during the guessing: %d %.300s", p.Status, p.Body)
	}
	// A person with no wrong proof of their own, in a new browser from a new address: the
	// bucket across all clients is full, so even the right code is not checked...
	clock.advance(host.TOTPPeriod)
	fresh := signIn("owner")
	if _, limited, p := prove(fresh, clock.code(t, secret, 0)); !limited {
		t.Fatalf("a new browser while the admin's bucket is full: %d %.300s", p.Status, p.Body)
	}
	// ...until the guessing has stopped for its window: then the right code proves. The
	// person who guessed stays refused for the person's window.
	clock.advance(4 * time.Minute)
	if p := fresh.grantsPost("admins", url.Values{"proof_code": {clock.code(t, secret, 0)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the right code after the guessing stopped: %d %.300s", p.Status, p.Body)
	}
	if _, limited, p := prove(signIn("friend"), clock.wrongCode(t, secret)); !limited {
		t.Fatalf("the guessing person's new session 4 minutes later: %d %.300s", p.Status, p.Body)
	}
}
