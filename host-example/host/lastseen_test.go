package host_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// movedClock is a clock the test moves (the store's: sessions read their times from it).
type movedClock struct{ unix atomic.Int64 }

func (c *movedClock) now() time.Time          { return time.Unix(c.unix.Load(), 0) }
func (c *movedClock) advance(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

// slidingOn is a fresh store on a moved clock, its sessions, and a person signed in there on terms.
func slidingOn(t *testing.T, terms store.SessionTerms) (*store.Store, *host.Sessions, *movedClock, *store.LoginDone) {
	t.Helper()
	st := openStore(t)
	clock := &movedClock{}
	clock.unix.Store(time.Now().Unix())
	st.SetClock(clock.now)
	ctx := context.Background()
	src, err := st.CreateSource(ctx, "demo", "demo", "Demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	done, err := st.FinishLoginWith(ctx, store.User{SourceID: src.ID, Subject: "1", Username: "ada"}, store.Event{Kind: store.EventLoginAllowed}, "", terms)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://127.0.0.1")
	return st, host.NewSessions(st, u), clock, done
}

// use loads the session of token as a request does, then writes what was noted (the timer's
// batch, written now); it answers whether the session was live.
func use(t *testing.T, ss *host.Sessions, token string) *store.Session {
	t.Helper()
	sess, err := ss.Load(request(ss, token))
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.FlushLastSeen(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sess.UserID == 0 && !sess.Admin {
		return nil
	}
	return sess
}

// A remembered session used every week lives past its first 30 days, its sign-in time never
// moves (OpenID Connect's max_age and the admin's freshness checks read it), and unused for
// its lifetime it ends.
func TestRememberedSessionSlides(t *testing.T) {
	const month = 30 * 24 * time.Hour
	st, ss, clock, done := slidingOn(t, store.SessionTerms{Life: 365 * 24 * time.Hour, Slide: month, Remembered: true})
	signedIn := clock.now()
	for range 8 {
		clock.advance(7 * 24 * time.Hour)
		sess := use(t, ss, done.Token)
		if sess == nil || !sess.AuthTime.Equal(signedIn) || !sess.Remembered {
			t.Fatalf("week %v: %+v", clock.now().Sub(signedIn), sess)
		}
	}
	got, err := st.Session(context.Background(), done.Token)
	if err != nil || !got.AuthTime.Equal(signedIn) || !got.ExpiresAt.Equal(clock.now().Add(month)) || !got.LastSeen.Equal(clock.now()) {
		t.Fatalf("after 8 weeks: %+v %v (now %v)", got, err, clock.now())
	}
	clock.advance(month + time.Second)
	if use(t, ss, done.Token) != nil {
		t.Fatal("a remembered session unused for its lifetime still lives")
	}
}

// Last seen is written at most every few minutes: loads in between note nothing.
func TestLastSeenIsThrottled(t *testing.T) {
	st, ss, clock, done := slidingOn(t, store.SessionTerms{Life: 12 * time.Hour})
	start := clock.now()
	clock.advance(time.Minute)
	use(t, ss, done.Token)
	if got, _ := st.Session(context.Background(), done.Token); !got.LastSeen.Equal(start) {
		t.Fatalf("written after a minute: %v", got.LastSeen)
	}
	clock.advance(5 * time.Minute)
	use(t, ss, done.Token)
	if got, _ := st.Session(context.Background(), done.Token); !got.LastSeen.Equal(clock.now()) || !got.ExpiresAt.Equal(start.Add(12*time.Hour)) {
		t.Fatalf("after six minutes: %+v (a fixed session's expiry never moves)", got)
	}
}

// With an idle timeout, an ordinary session used within it lives on, and one left idle for
// it ends, before its lifetime.
func TestIdleTimeoutEndsAnIdleSession(t *testing.T) {
	_, ss, clock, done := slidingOn(t, store.SessionTerms{Life: 12 * time.Hour, Slide: time.Hour})
	for range 4 {
		clock.advance(50 * time.Minute)
		if use(t, ss, done.Token) == nil {
			t.Fatalf("a session used every 50 minutes ended at %v", clock.now())
		}
	}
	clock.advance(time.Hour + time.Second)
	if use(t, ss, done.Token) != nil {
		t.Fatal("an idle session outlived its idle timeout")
	}
}

// An admin session is never extended: used all the time, it ends its lifetime after its
// sign-in, whether of the host's password or upgraded from a person's remembered session.
func TestAdminSessionIsNeverExtended(t *testing.T) {
	st, ss, clock, done := slidingOn(t, store.SessionTerms{Life: 365 * 24 * time.Hour, Slide: 30 * 24 * time.Hour, Remembered: true})
	ctx := context.Background()
	signedIn := clock.now()
	person, err := st.Session(ctx, done.Token)
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(10 * time.Minute)
	upTok, up, err := ss.Upgrade(ctx, person, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pwTok, pw, err := ss.Start(ctx, "", 0, true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if up.Remembered || pw.Remembered || !up.AuthTime.Equal(signedIn) {
		t.Fatalf("admin sessions: %+v %+v", up, pw)
	}
	for range 8 {
		clock.advance(6 * time.Minute)
		for _, tok := range []string{upTok, pwTok} {
			if sess := use(t, ss, tok); sess != nil && (!sess.ExpiresAt.Equal(up.ExpiresAt) && !sess.ExpiresAt.Equal(pw.ExpiresAt) || sess.Remembered) {
				t.Fatalf("an admin session moved: %+v", sess)
			}
		}
	}
	clock.advance(20 * time.Minute) // 68 minutes after the password sign-in, 78 after the person's
	for _, tok := range []string{upTok, pwTok} {
		if sess := use(t, ss, tok); sess != nil {
			t.Fatalf("an admin session outlived its lifetime: %+v", sess)
		}
	}
}
