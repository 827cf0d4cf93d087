package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
)

// fake is an in-memory Upstream for rule-level tests (the simulator covers the wire).
type fake struct {
	resources []plextv.Resource
	resErr    error
	users     []plextv.SharedUser
	usersErr  error
	home      []plextv.HomeUser
	homeErr   error
	ownerID   int64
	calls     atomic.Int32
}

func (f *fake) Resources(context.Context, string) ([]plextv.Resource, error) {
	f.calls.Add(1)
	return f.resources, f.resErr
}
func (f *fake) SharedUsers(context.Context, string) ([]plextv.SharedUser, error) {
	return f.users, f.usersErr
}
func (f *fake) HomeUsers(context.Context, string) ([]plextv.HomeUser, error) {
	return f.home, f.homeErr
}
func (f *fake) User(context.Context, string) (*plextv.User, error) {
	return &plextv.User{ID: plextv.Int(f.ownerID)}, nil
}

const mid = "abcdef0123456789"

func checker(f *fake, mode Mode) *Checker {
	return &Checker{Policy: Policy{Mode: mode, Servers: []Server{{MachineID: mid, Name: "Main"}}, OwnerTokens: []string{"owner-tok"}},
		Upstream: f, Cache: NewCache(time.Minute)}
}

func TestPlayersNeverCount(t *testing.T) {
	// A player whose identifier equals the allowed server's, owned by the user: not a server.
	f := &fake{ownerID: 1, resources: []plextv.Resource{{ClientIdentifier: mid, Provides: plextv.List{"client", "player"}, Owned: true}}}
	r := checker(f, ModeMembers).Evaluate(context.Background(), &plextv.User{ID: 5}, "t")
	if r.Allowed || r.Facts.IsOwner {
		t.Fatalf("a player counted as the server: %+v", r)
	}
}

func TestServerInCommaList(t *testing.T) {
	f := &fake{ownerID: 1, resources: []plextv.Resource{{ClientIdentifier: plextv.String(strings.ToUpper(mid)), Provides: plextv.List{"server", "player"}}}}
	r := checker(f, ModeMembers).Evaluate(context.Background(), &plextv.User{ID: 5}, "t")
	if !r.Allowed || r.Reason != ReasonMember {
		t.Fatalf("%+v", r)
	}
}

func TestOwnFlagsOfUserDoNotMakeHomeMember(t *testing.T) {
	// The user is admin of his own Home (home/homeAdmin on /api/v2/user) and a friend with a share.
	f := &fake{ownerID: 1, resources: []plextv.Resource{{ClientIdentifier: mid, Provides: plextv.List{"server"}}}}
	u := &plextv.User{ID: 5, Home: true, HomeAdmin: true}
	r := checker(f, ModeHome).Evaluate(context.Background(), u, "t")
	if r.Allowed || r.Facts.IsHomeMember {
		t.Fatalf("own Home flags made a Home member: %+v", r)
	}
}

func TestHomeByOwnerList(t *testing.T) {
	f := &fake{ownerID: 1, home: []plextv.HomeUser{{ID: 1, Admin: true}, {ID: 5}}}
	r := checker(f, ModeHome).Evaluate(context.Background(), &plextv.User{ID: 5}, "t")
	if !r.Allowed || r.Reason != ReasonHomeMember {
		t.Fatalf("%+v", r)
	}
}

func TestStaleAcceptedShareDoesNotOverrideResources(t *testing.T) {
	// The owner list still shows a share the user's own resources no longer list.
	f := &fake{ownerID: 1, users: []plextv.SharedUser{{ID: 5, Servers: []plextv.SharedWith{{MachineIdentifier: mid}}}}}
	r := checker(f, ModeMembers).Evaluate(context.Background(), &plextv.User{ID: 5}, "t")
	if r.Allowed {
		t.Fatalf("admitted on the owner list alone while resources answered: %+v", r)
	}
}

func TestManagedFact(t *testing.T) {
	f := &fake{ownerID: 1}
	r := checker(f, ModeAny).Evaluate(context.Background(), &plextv.User{ID: 9, Restricted: true}, "t")
	if !r.Facts.IsManaged || !r.Allowed {
		t.Fatalf("%+v", r)
	}
}

func TestCacheSingleflightAndStaleOnError(t *testing.T) {
	c := NewCache(time.Minute)
	now := time.Now()
	c.now = func() time.Time { return now }
	var calls atomic.Int32
	fetch := func(context.Context) (any, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return "v1", nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l, err := c.Get(context.Background(), "tok", "users", fetch); err != nil || l.Value != "v1" {
				t.Errorf("%v %v", l, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("%d fetches, want 1", calls.Load())
	}
	now = now.Add(2 * time.Minute)
	boom := errors.New("boom")
	l, err := c.Get(context.Background(), "tok", "users", func(context.Context) (any, error) { return nil, boom })
	if err != nil || l.Value != "v1" || !errors.Is(l.StaleErr, boom) {
		t.Fatalf("stale-on-error: %+v %v", l, err)
	}
	// Without a stale value the error is held briefly instead of refetched.
	_, err = c.Get(context.Background(), "tok", "home", func(context.Context) (any, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "tok", "home", func(context.Context) (any, error) { t.Fatal("refetched"); return nil, nil })
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
}

func TestRevalidateUnknownNeverRevoked(t *testing.T) {
	f := &fake{ownerID: 1, usersErr: &plextv.Error{Op: "GET /api/users"}}
	ans, _, _ := checker(f, ModeMembers).Revalidate(context.Background(), 5, "")
	if ans != Unknown {
		t.Fatalf("got %v, want Unknown", ans)
	}
}

// A kept token plex.tv refuses is reported and the owner lists answer; an outage is not a refusal.
func TestRevalidateWithARefusedToken(t *testing.T) {
	shared := []plextv.SharedUser{{ID: 5, Servers: []plextv.SharedWith{{MachineIdentifier: mid}}}}
	refused := fmt.Errorf("GET /api/v2/resources: %w", plextv.ErrUnauthorized)
	outage := &plextv.Error{Op: "GET /api/v2/resources"}
	for _, c := range []struct {
		name        string
		users       []plextv.SharedUser
		resErr      error
		want        Revalidation
		wantRefused bool
	}{
		{"refused, share stands", shared, refused, StillAllowed, true},
		{"refused, no share", nil, refused, Revoked, true},
		{"invalid token, no share", nil, fmt.Errorf("x: %w", plextv.ErrInvalidToken), Revoked, true},
		{"outage, no share", nil, outage, Unknown, false},
	} {
		f := &fake{ownerID: 1, users: c.users, resErr: c.resErr}
		ans, _, gotRefused := checker(f, ModeMembers).Revalidate(context.Background(), 5, "user-tok")
		if ans != c.want || gotRefused != c.wantRefused {
			t.Errorf("%s: got %v refused=%t, want %v refused=%t", c.name, ans, gotRefused, c.want, c.wantRefused)
		}
	}
}
