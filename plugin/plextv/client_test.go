package plextv_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/plugin/plextv"
)

func setup(t *testing.T) (*plexsim.Sim, *plextv.Client) {
	t.Helper()
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := plextv.New(plextv.Identity{ClientID: "test-client-1234", Product: "Test"}, plextv.Options{BaseURL: srv.URL,
		Backoff: time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

func TestPINFlow(t *testing.T) {
	sim, c := setup(t)
	ctx := context.Background()
	pin, err := c.CreatePIN(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pin.Code) != 25 || pin.ExpiresIn != 1800 {
		t.Fatalf("strong pin: code %q expiresIn %d", pin.Code, pin.ExpiresIn)
	}
	got, err := c.CheckPIN(ctx, int64(pin.ID))
	if err != nil || got.Token() != "" {
		t.Fatalf("pending pin: %+v %v", got, err)
	}
	if err := sim.Claim(string(pin.Code), "friend"); err != nil {
		t.Fatal(err)
	}
	got, err = c.CheckPIN(ctx, int64(pin.ID))
	if err != nil || got.Token() == "" {
		t.Fatalf("claimed pin: %+v %v", got, err)
	}
	u, err := c.User(ctx, got.Token())
	if err != nil || u.ID != 2001 || u.Username != "frank" || !bool(u.Confirmed) {
		t.Fatalf("user: %+v %v", u, err)
	}
	for _, k := range []string{"authToken", "services"} {
		if k == "services" {
			svc := u.Raw["services"].([]any)[0].(map[string]any)
			if _, ok := svc["token"]; ok {
				t.Error("services[].token not stripped")
			}
			continue
		}
		if _, ok := u.Raw[k]; ok {
			t.Errorf("%s not stripped from raw", k)
		}
	}
	rs, err := c.Resources(ctx, got.Token())
	if err != nil {
		t.Fatal(err)
	}
	servers := 0
	for _, r := range rs {
		if r.IsServer() {
			servers++
			if r.ClientIdentifier != plexsim.ServerLivingRoom || bool(r.Owned) {
				t.Errorf("unexpected server %+v", r)
			}
		}
	}
	if servers != 1 || len(rs) != 2 {
		t.Fatalf("resources: %d servers of %d", servers, len(rs))
	}
}

func TestPINOfAnotherClientIsNotFound(t *testing.T) {
	srv := httptest.NewServer(plexsim.NewDefault())
	defer srv.Close()
	c, _ := plextv.New(plextv.Identity{ClientID: "first-client-12", Product: "Test"}, plextv.Options{BaseURL: srv.URL})
	pin, err := c.CreatePIN(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := plextv.New(plextv.Identity{ClientID: "another-client-99", Product: "Test"}, plextv.Options{BaseURL: srv.URL})
	_, err = other.CheckPIN(context.Background(), int64(pin.ID))
	if !errors.Is(err, plextv.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound (1020)", err)
	}
}

func TestErrorsAreTypedAndRedacted(t *testing.T) {
	sim, c := setup(t)
	ctx := context.Background()
	cases := []struct {
		endpoint, mode string
		call           func() error
		want           error
	}{
		{"pins.check", plexsim.FaultRateLimit, func() error { _, err := c.CheckPIN(ctx, 1234567890); return err }, plextv.ErrRateLimited},
		{"user", plexsim.Fault503, func() error { _, err := c.User(ctx, "secret-token-xyz"); return err }, plextv.ErrUnavailable},
		{"user", plexsim.FaultInvalid, func() error { _, err := c.User(ctx, "secret-token-xyz"); return err }, plextv.ErrInvalidToken},
		{"resources", plexsim.FaultMalformed, func() error { _, err := c.Resources(ctx, "secret-token-xyz"); return err }, plextv.ErrMalformed},
		{"resources", plexsim.FaultOversized, func() error { _, err := c.Resources(ctx, "secret-token-xyz"); return err }, plextv.ErrTooLarge},
		{"friends", plexsim.FaultGone, func() error { _, err := c.Friends(ctx, "secret-token-xyz"); return err }, plextv.ErrGone},
		{"", "", func() error { _, err := c.User(ctx, "secret-token-xyz"); return err }, plextv.ErrUnauthorized},
		{"", "", func() error { _, err := c.CheckPIN(ctx, 1234567890); return err }, plextv.ErrNotFound},
	}
	for _, tc := range cases {
		if tc.endpoint != "" {
			sim.Inject(tc.endpoint, tc.mode, -1)
		}
		err := tc.call()
		sim.ClearFaults()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s %s: got %v, want %v", tc.endpoint, tc.mode, err, tc.want)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "1234567890") || strings.Contains(msg, "secret-token-xyz") || strings.Contains(msg, "127.0.0.1") {
			t.Errorf("error leaks an id, token or URL: %s", msg)
		}
	}
}

func TestFriendsGoneByDefault(t *testing.T) {
	_, c := setup(t)
	_, err := c.Friends(context.Background(), "x")
	if !errors.Is(err, plextv.ErrGone) {
		t.Fatalf("got %v, want ErrGone", err)
	}
}

func TestRetriesWithBackoffOn429(t *testing.T) {
	sim, c := setup(t)
	sim.Inject("pins.create", plexsim.FaultRateLimit, 2)
	if _, err := c.CreatePIN(context.Background(), ""); err != nil {
		t.Fatalf("two 429s then success: %v", err)
	}
	if n := sim.Counts()["pins.create"]; n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestSignInIsNeverRetried(t *testing.T) {
	sim, c := setup(t)
	sim.Inject("signin", plexsim.Fault503, 1)
	if _, err := c.SignIn(context.Background(), "frank", "frank-pass", ""); !errors.Is(err, plextv.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if n := sim.Counts()["signin"]; n != 1 {
		t.Fatalf("sign-in tried %d times", n)
	}
}

func TestSignInErrors(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	if _, err := c.SignIn(ctx, "tess", "tf-pass", ""); !errors.Is(err, plextv.ErrSecondFactor) {
		t.Errorf("2FA without code: %v", err)
	}
	if u, err := c.SignIn(ctx, "tess", "tf-pass", "123456"); err != nil || u.AuthToken == "" {
		t.Errorf("2FA with code: %v", err)
	}
	if _, err := c.SignIn(ctx, "gus@example.com", "anything", ""); !errors.Is(err, plextv.ErrUnauthorized) {
		t.Errorf("password-less account: %v", err)
	}
	var err error
	for i := 0; i < 6; i++ {
		_, err = c.SignIn(ctx, "nora", "wrong", "")
	}
	if !errors.Is(err, plextv.ErrLockedOut) {
		t.Errorf("after repeated failures: %v", err)
	}
}

func TestTokenOnlyInHeader(t *testing.T) {
	var sawQuery, sawHeader atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "tok-abc") {
			sawQuery.Store(true)
		}
		if r.Header.Get("X-Plex-Token") == "tok-abc" && r.Header.Get("X-Plex-Client-Identifier") == "cid-12345678" &&
			r.Header.Get("X-Plex-Product") == "P" {
			sawHeader.Store(true)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": 5, "uuid": null, "username": null, "confirmed": "1"}`))
	}))
	defer srv.Close()
	c, _ := plextv.New(plextv.Identity{ClientID: "cid-12345678", Product: "P"}, plextv.Options{BaseURL: srv.URL})
	u, err := c.User(context.Background(), "tok-abc")
	if err != nil {
		t.Fatal(err)
	}
	if !sawHeader.Load() || sawQuery.Load() {
		t.Fatalf("header %v, query %v", sawHeader.Load(), sawQuery.Load())
	}
	if u.ID != 5 || u.Username != "" || !bool(u.Confirmed) {
		t.Fatalf("lenient decode: %+v", u)
	}
}

func TestTimeoutIsBounded(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, _ := plextv.New(plextv.Identity{ClientID: "cid-12345678", Product: "P"}, plextv.Options{BaseURL: srv.URL, Timeout: 100 * time.Millisecond,
		Retries: -1})
	sim.Inject("user", plexsim.FaultTimeout, -1)
	start := time.Now()
	_, err := c.User(context.Background(), "t")
	if !errors.Is(err, plextv.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

func TestAuthURL(t *testing.T) {
	u := plextv.AuthURL("https://app.plex.tv", "cid", "code1", "My App", "https://idp.example/cb?x=1")
	code, fwd, err := plexsim.ForwardURL(u)
	if err != nil || code != "code1" || fwd != "https://idp.example/cb?x=1" {
		t.Fatalf("%s → %q %q %v", u, code, fwd, err)
	}
	if !strings.HasPrefix(u, "https://app.plex.tv/auth#?") || !strings.Contains(u, "context%5Bdevice%5D%5Bproduct%5D=My+App") {
		t.Fatalf("auth URL %s", u)
	}
}

func TestOwnerListsDecode(t *testing.T) {
	sim, c := setup(t)
	ctx := context.Background()
	owner := sim.Token("owner")
	users, err := c.SharedUsers(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]plextv.SharedUser{}
	for _, u := range users {
		byName[string(u.Title)] = u
	}
	if p := byName["Paula Pending"]; len(p.Servers) != 1 || !bool(p.Servers[0].Pending) {
		t.Fatalf("pending share: %+v", p)
	}
	if k := byName["Kid"]; k.Username != "" || k.Email != "" || !bool(k.Home) {
		t.Fatalf("managed profile: %+v", k)
	}
	if n := byName["Nora Noshare"]; len(n.Servers) != 0 {
		t.Fatalf("friend without share: %+v", n)
	}
	home, err := c.HomeUsers(ctx, owner)
	if err != nil || len(home) != 3 || !bool(home[0].Admin) || !home[2].Managed() {
		t.Fatalf("home users: %+v %v", home, err)
	}
	shares, err := c.SharedServers(ctx, owner, plexsim.ServerLivingRoom)
	if err != nil || len(shares) != 4 {
		t.Fatalf("shared servers: %+v %v", shares, err)
	}
	if _, err := c.SharedServers(ctx, sim.Token("friend"), plexsim.ServerLivingRoom); !errors.Is(err, plextv.ErrUnauthorized) {
		t.Fatalf("not the owner: %v", err)
	}
}

// SignOut invalidates the token; signing a dead token out again says so as a revoked token.
func TestSignOut(t *testing.T) {
	sim, c := setup(t)
	ctx := context.Background()
	tok := sim.Token("friend")
	if _, err := c.User(ctx, tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if err := c.SignOut(ctx, tok); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if _, err := c.User(ctx, tok); !plextv.IsRevokedToken(err) {
		t.Fatalf("token still accepted after sign-out: %v", err)
	}
	if err := c.SignOut(ctx, tok); !plextv.IsRevokedToken(err) {
		t.Fatalf("second sign-out: %v", err)
	}
}
