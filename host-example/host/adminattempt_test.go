package host_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// guess makes one guess of at through the attempt prelude, right or wrong, and reports
// whether its check ran.
func guess(t *testing.T, a *host.Admin, at host.Attempt, right bool, extra ...host.GuessLimit) (checked bool, f host.Failed, err error) {
	t.Helper()
	ok, f, err := a.Guess(context.Background(), at, "wrong test secret", func() (bool, error) { checked = true; return right, nil }, extra...)
	if err == nil && ok != right {
		t.Fatalf("Guess answered %v for a guess that was %v", ok, right)
	}
	return checked, f, err
}

// The one attempt prelude of admin guesses: wrong guesses stay counted (per client, and in
// the bucket across all clients of unknown browsers) and are recorded; right ones and ones
// that could not be checked are taken back; at a limit the secret is not checked at all.
func TestAdminGuessPrelude(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	a := host.NewAdmin(st, nil)
	client := func(i int) host.Attempt {
		return host.Attempt{Client: fmt.Sprintf("client-%d", i), ClientIP: fmt.Sprintf("192.0.2.%d", i)}
	}

	// Right guesses are taken back: many never reach the per-client limit.
	for range 12 {
		if checked, _, err := guess(t, a, client(1), true); !checked || err != nil {
			t.Fatalf("a right guess: checked %v, %v", checked, err)
		}
	}
	// So are guesses whose check failed.
	boom := errors.New("the store is down")
	for range 12 {
		if _, _, err := a.Guess(ctx, client(1), "x", func() (bool, error) { return false, boom }); !errors.Is(err, boom) {
			t.Fatalf("a check that failed: %v", err)
		}
	}
	// Wrong ones stay counted: the per-client limit is reached and then nothing is checked.
	wrong := 0
	for {
		checked, _, err := guess(t, a, client(1), false)
		if errors.Is(err, host.ErrAdminLockedOut) {
			if checked {
				t.Fatal("the secret was checked past the limit")
			}
			break
		}
		if !checked || err != nil {
			t.Fatalf("a wrong guess: checked %v, %v", checked, err)
		}
		if wrong++; wrong > 10 {
			t.Fatal("no per-client limit")
		}
	}
	if wrong != 5 {
		t.Fatalf("the per-client limit let %d wrong guesses in, want 5", wrong)
	}
	page, err := st.EventPage(ctx, store.EventFilter{Kinds: []store.EventKind{store.EventAdminLoginFailed}, Limit: 50})
	if err != nil || len(page.Events) != 5 || !strings.Contains(page.Events[0].Detail, "wrong test secret; client 192.0.2.1") {
		t.Fatalf("the wrong guesses recorded: %v %+v", err, page.Events)
	}

	// An extra limit counts beside the attempt's.
	extra := host.GuessLimit{Key: host.AdminGuessPrefix + "test/extra", Max: 1, Window: 1 << 40}
	if _, _, err := guess(t, a, client(2), false, extra); err != nil {
		t.Fatal(err)
	}
	if checked, _, err := guess(t, a, client(3), false, extra); !errors.Is(err, host.ErrAdminLockedOut) || checked {
		t.Fatalf("past an extra limit: checked %v, %v", checked, err)
	}

	// The bucket across all clients fills with the wrong guesses of unknown browsers from
	// many addresses; a known admin browser is not held up by it.
	cookie, err := a.RememberDevice(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	device := a.KnownDevice(ctx, cookie)
	if device == "" {
		t.Fatal("the cookie RememberDevice gave is not a known device")
	}
	locked := false
	for i := 10; i < 60 && !locked; i++ {
		_, _, err := guess(t, a, client(i), false)
		locked = errors.Is(err, host.ErrAdminLockedOut)
	}
	if !locked {
		t.Fatal("no limit across all clients")
	}
	known := client(100)
	known.Device = device
	if checked, _, err := guess(t, a, known, true); !checked || err != nil {
		t.Fatalf("a known browser during the attack: checked %v, %v", checked, err)
	}

	// A known browser's own wrong guesses lock it out after AdminDeviceMaxFailures in a row.
	var f host.Failed
	for i := range host.AdminDeviceMaxFailures {
		at := client(200 + i)
		at.Device = device
		if _, f, err = guess(t, a, at, false); err != nil {
			t.Fatal(err)
		}
		if f.DeviceLocked != (i == host.AdminDeviceMaxFailures-1) {
			t.Fatalf("after %d wrong guesses the device locked: %v", i+1, f.DeviceLocked)
		}
	}
	if a.KnownDevice(ctx, cookie) != "" {
		t.Fatal("a locked-out device is still known")
	}
}
