package host

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Admin secret guessing: the admin password and TOTP code, at the sign-in and as the proof of
// a change. Guesses are counted before they are checked, in the store (every replica counts
// the same), and only failures stay counted: per client and, from browsers not known from an
// earlier admin sign-in (KnownDevice), across all clients, in one bucket that bounds the
// bcrypt and code guesses of every address together. A known browser's failures count per
// device instead (AdminDeviceMaxFailures in a row lock that device out).
const (
	adminFailuresPerClient = 5
	adminFailuresWindow    = 5 * time.Minute
	adminFailuresAll       = 20
	adminFailuresAllWindow = 3 * time.Minute
	// adminAllKey is the counter across all clients: wrong admin passwords and codes of
	// unknown browsers, at the sign-in and as the proof of a change.
	adminAllKey = AdminGuessPrefix + "all"
)

// ErrAdminLockedOut refuses an admin attempt once a guess limit is reached; the secret was not checked.
var ErrAdminLockedOut = errors.New("too many wrong admin passwords or codes")

// Attempt is who makes a guess of an admin secret.
type Attempt struct {
	// Client is the rate-limit key of the client's address; ClientIP its address, for events.
	Client, ClientIP string
	// Device is the id of the browser's known admin device ("": none).
	Device string
	// Recovery is set when the browser came by the live recovery link: exempt from the
	// bucket across all clients, as a known device is.
	Recovery bool
}

// GuessLimit is a limit of guesses: at most Max under Key within Window.
type GuessLimit struct {
	Key    string
	Max    int
	Window time.Duration
}

// Failed is what a wrong admin guess did.
type Failed struct {
	// DeviceLocked is set when it locked the browser's known device out (its cookie is void).
	DeviceLocked bool
}

// attemptLimits are the limits of a guess of at: per client, and across all clients unless
// the browser is a known device or came by the recovery link.
func attemptLimits(at Attempt) []GuessLimit {
	limits := []GuessLimit{{AdminGuessPrefix + "client/" + at.Client, adminFailuresPerClient, adminFailuresWindow}}
	if at.Device == "" && !at.Recovery {
		limits = append(limits, GuessLimit{adminAllKey, adminFailuresAll, adminFailuresAllWindow})
	}
	return limits
}

// claimed is the guesses one attempt counted; settle decides, once, whether they stay.
type claimed struct {
	a       *Admin
	guesses []*store.Guess
	once    sync.Once
}

// claim is the attempt prelude of every admin guess (the sign-in's password, its code, the
// proof of a change): it counts one guess under each of the attempt's limits and extra ones
// before the secret is checked, so guesses sent at once get no more checks than ones sent in
// turn. ErrAdminLockedOut (nothing stays counted) when a limit is reached or the store fails.
// The caller settles the claim: wrong keeps the guesses counted, right takes them back.
func (a *Admin) claim(ctx context.Context, at Attempt, extra ...GuessLimit) (*claimed, error) {
	c := &claimed{a: a}
	for _, l := range append(extra, attemptLimits(at)...) {
		g, err := a.st.ClaimGuess(ctx, l.Key, l.Max, l.Window)
		if g != nil {
			c.guesses = append(c.guesses, g)
		}
		if g == nil || err != nil {
			c.settle(ctx, false)
			return nil, ErrAdminLockedOut
		}
	}
	return c, nil
}

// settle keeps the guesses counted when the guess was wrong and takes them back otherwise;
// the first call decides.
func (c *claimed) settle(ctx context.Context, wrong bool) {
	c.once.Do(func() {
		if wrong {
			return
		}
		for _, g := range c.guesses {
			_ = c.a.st.ForgiveGuess(context.WithoutCancel(ctx), g)
		}
	})
}

// Guess checks one guess of an admin secret, the attempt prelude once: it claims the
// guesses (claim: ErrAdminLockedOut at a limit, the secret unchecked), runs check, and
// settles them. A wrong guess (check false) stays counted, counts against the known device,
// and is recorded as a failed admin sign-in with what and the client; a right one, or one
// check could not decide (an error), is taken back.
func (a *Admin) Guess(ctx context.Context, at Attempt, what string, check func() (bool, error), extra ...GuessLimit) (right bool, failed Failed, err error) {
	c, err := a.claim(ctx, at, extra...)
	if err != nil {
		return false, failed, err
	}
	defer c.settle(ctx, false)
	right, err = check()
	if err != nil || right {
		return right, failed, err
	}
	return false, a.failed(ctx, c, at, what), nil
}

// failed keeps a wrong guess counted: per client, and across all clients or per known
// device; and records it.
func (a *Admin) failed(ctx context.Context, c *claimed, at Attempt, what string) Failed {
	c.settle(ctx, true)
	var f Failed
	if at.Device != "" {
		f.DeviceLocked = a.deviceFailed(ctx, at)
	}
	_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminLoginFailed, Detail: what + "; client " + at.ClientIP})
	return f
}

// Known admin devices (OWASP "device cookies"). Wrong admin passwords from unknown browsers
// share one global bucket, so bcrypt work stays bounded however many addresses guess — and a
// handful of addresses can empty it. A browser that signed in as admin before holds a signed,
// long-lived cookie that exempts it from that bucket: the admin still gets in during such an
// attack. Its per-address limit still applies, and AdminDeviceMaxFailures wrong passwords in a
// row sent with one device's cookie lock that device out (a stolen cookie buys few guesses).
// Reset forgets every device.
const (
	// AdminDeviceLife is how long a known-device cookie is honoured.
	AdminDeviceLife = 365 * 24 * time.Hour
	// AdminDeviceMaxFailures wrong passwords in a row lock a known device out.
	AdminDeviceMaxFailures = 10
	maxAdminDeviceCookie   = 200
)

// deviceMAC signs a device id and its issue time under the store's MAC key and the current
// device key (replaced by a reset).
func (a *Admin) deviceMAC(ctx context.Context, payload string) (string, error) {
	key, err := a.st.AdminDeviceKey(ctx)
	if err != nil {
		return "", fmt.Errorf("admin device key: %w", err)
	}
	return a.st.MAC("admin-device|"+key, payload), nil
}

// KnownDevice is the id of the known admin device whose cookie value is cookie: signed under
// the current key, issued within AdminDeviceLife, of a device not locked out; "" otherwise.
func (a *Admin) KnownDevice(ctx context.Context, cookie string) string {
	if cookie == "" || len(cookie) > maxAdminDeviceCookie {
		return ""
	}
	id, issuedAt, mac, ok := cutDevice(cookie)
	if !ok {
		return ""
	}
	issued, err := strconv.ParseInt(issuedAt, 10, 64)
	if err != nil {
		return ""
	}
	if at := time.Unix(issued, 0); time.Since(at) > AdminDeviceLife || time.Until(at) > time.Minute {
		return ""
	}
	want, err := a.deviceMAC(ctx, id+"."+issuedAt)
	if err != nil || !macEqual(want, mac) {
		return ""
	}
	if locked, err := a.st.AdminDeviceLocked(ctx, id); err != nil || locked {
		return ""
	}
	return id
}

// RememberDevice is the known-device cookie value to give a browser after an admin sign-in:
// the same device id when it had one (its failures forgotten), else a new one, with a new
// issue time.
func (a *Admin) RememberDevice(ctx context.Context, id string) (string, error) {
	if id == "" {
		id = store.RandomID(16)
	} else {
		_ = a.st.AdminDeviceSucceeded(ctx, id)
	}
	payload := id + "." + strconv.FormatInt(time.Now().Unix(), 10)
	mac, err := a.deviceMAC(ctx, payload)
	if err != nil {
		return "", err
	}
	return payload + "." + mac, nil
}

// deviceFailed counts a wrong guess sent with a known device's cookie; it reports whether the
// device reached AdminDeviceMaxFailures and is locked out (recorded).
func (a *Admin) deviceFailed(ctx context.Context, at Attempt) bool {
	locked, err := a.st.AdminDeviceFailed(ctx, at.Device, AdminDeviceMaxFailures, AdminDeviceLife)
	if err != nil || !locked {
		return false
	}
	_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminDeviceLocked,
		Detail: fmt.Sprintf("%d wrong passwords in a row from a browser known from an earlier admin login (client %s)", AdminDeviceMaxFailures, at.ClientIP)})
	return true
}

// cutDevice splits a known-device cookie value into its id, issue time and MAC.
func cutDevice(v string) (id, issued, mac string, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 || len(parts[0]) != 32 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// macEqual compares two MACs in constant time.
func macEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }
