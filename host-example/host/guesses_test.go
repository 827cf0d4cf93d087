package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/loader"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

// kidProfile is the protected Home profile of the default world (PIN 1234).
const kidProfile = "60718293a4b5c6d7"

// replica is one host process's login engine: its own plugin process, the shared store.
type replica struct {
	t      *testing.T
	sim    *plexsim.Sim
	logins *host.Logins
	srcs   *host.Sources
}

// newReplica starts the real plugin (pointed at the simulator at simURL) for a login engine over st.
// simReplica is one replica on a store of its own and a simulated plex.tv of its own whose
// Plex JWTs live life (0: the simulator's 7 days).
func simReplica(t *testing.T, life time.Duration) (*store.Store, *plexsim.Sim, *replica) {
	t.Helper()
	st := openStore(t)
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if life > 0 {
		sim.SetJWTLife(life)
	}
	return st, sim, newReplica(t, st, sim, srv.URL)
}

func newReplica(t *testing.T, st *store.Store, sim *plexsim.Sim, simURL string) *replica {
	t.Helper()
	reg := host.NewRegistry()
	if err := reg.Start(context.Background(), hosttest.PluginDir(),
		loader.Options{ExtraEnv: []string{"PLEX_TV_URL=" + simURL, "PLEX_APP_URL=" + simURL}}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	srcs := host.NewSources(st, reg)
	return &replica{t: t, sim: sim, srcs: srcs, logins: host.NewLogins(st, srcs, host.LoginConfig{Rate: 1000})}
}

// profileStep logs the owner in with the source of slug in a new session up to "Who is watching?".
func (r *replica) profileStep(slug, session string) {
	r.t.Helper()
	ctx := context.Background()
	var loginID string
	out, err := r.logins.Begin(ctx, host.Begin{Slug: slug, SessionID: session, Client: "client",
		Callback: func(id string) string { loginID = id; return "http://127.0.0.1:1/callback/" + id }})
	if err != nil {
		r.t.Fatal(err)
	}
	code, fwd, err := plexsim.ForwardURL(out.Redirect)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.sim.Claim(code, "owner"); err != nil {
		r.t.Fatal(err)
	}
	u, _ := url.Parse(fwd)
	q := map[string]string{}
	for k, v := range u.Query() {
		q[k] = v[0]
	}
	out, err = r.logins.Complete(ctx, host.Complete{SessionID: session, LoginID: loginID, Query: q})
	if err != nil || out.Step == nil {
		r.t.Fatalf("no profile step: %+v %v", out, err)
	}
}

// pin answers the step of session with the kid's profile and pin.
func (r *replica) pin(session, pin string) (host.Outcome, error) {
	return r.logins.Continue(context.Background(), host.Answer{SessionID: session, Client: "client", Choice: kidProfile,
		Value: func(string) string { return pin }})
}

// reason is the reason code of a failed login, "" for another error or none.
func reason(err error) string {
	var fe *host.FailedError
	if errors.As(err, &fe) {
		return fe.Err.ReasonCode
	}
	return ""
}

// Wrong profile PINs are counted in the store the replicas share, per source and profile:
// five wrong PINs on two replicas (each with its own plugin process, which alone would allow
// more) lock the profile on both, even for the right PIN, and the plugin is not asked; right
// PINs are not counted; another source of the same profile keeps its own count.
func TestProfilePINGuessesSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	a, b := newReplica(t, st, sim, srv.URL), newReplica(t, st, sim, srv.URL)
	cfg := `{"access_mode":"members","owner_token":"` + sim.Token("owner") + `","home_profiles":true,"allowed_servers":[{"machine_id":"` +
		plexsim.ServerLivingRoom + `","name":"Living Room"}]}`
	var srcs []*store.Source
	for _, slug := range []string{"plex", "plex2"} {
		src, err := a.srcs.Configure(ctx, host.Setup{Plugin: "plex", Slug: slug, Name: slug, Config: json.RawMessage(cfg), Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	key := "source/" + srcs[0].ID + "/pin/" + kidProfile
	counted := func() int {
		t.Helper()
		n, err := st.Guesses(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Right PINs, more than the limit, on both replicas: none stays counted.
	for i, r := range []*replica{a, b, a, b, a, b} {
		session := "right-" + string(rune('a'+i))
		r.profileStep("plex", session)
		if out, err := r.pin(session, "1234"); err != nil || out.SignedIn == nil {
			t.Fatalf("right PIN %d: %+v %v", i, out, err)
		}
	}
	if n := counted(); n != 0 {
		t.Fatalf("right PINs counted: %d", n)
	}

	// Replica a: three wrong PINs end the login (the plugin's per-login limit); all three count.
	a.profileStep("plex", "wrong-a")
	for i := 1; i <= 3; i++ {
		out, err := a.pin("wrong-a", "0000")
		if i < 3 && (err != nil || out.Step == nil || !out.Step.WrongGuess) {
			t.Fatalf("wrong PIN %d on a: %+v %v", i, out, err)
		}
		if i == 3 && reason(err) != "profile_pin_tries_exhausted" {
			t.Fatalf("third wrong PIN on a: %v", err)
		}
	}
	// Replica b: two more, five in all; its plugin process has seen only two.
	b.profileStep("plex", "wrong-b")
	for i := 1; i <= 2; i++ {
		if out, err := b.pin("wrong-b", "9999"); err != nil || out.Step == nil {
			t.Fatalf("wrong PIN %d on b: %+v %v", i, out, err)
		}
	}
	if n := counted(); n != 5 {
		t.Fatalf("counted %d wrong PINs, want 5", n)
	}
	// The sixth guess is refused by the host, on either replica, right PIN or not.
	if _, err := b.pin("wrong-b", "1234"); reason(err) != "profile_pin_locked" {
		t.Fatalf("sixth guess (the right PIN) on b: %v", err)
	}
	a.profileStep("plex", "sixth-a")
	_, err := a.pin("sixth-a", "0000")
	var fe *host.FailedError
	if !errors.As(err, &fe) || fe.Err.ReasonCode != "profile_pin_locked" || !strings.Contains(fe.Err.UserText, "Too many wrong PINs") ||
		!strings.Contains(fe.Err.AdminDetail, "the plugin was not asked") {
		t.Fatalf("sixth guess on a: %v", err)
	}
	if n := counted(); n != 5 {
		t.Fatalf("refused guesses counted: %d, want 5", n)
	}
	events, err := st.Events(ctx, 50, "profile_pin_locked")
	if err != nil || len(events) != 2 || events[0].Kind != store.EventLoginFailed || events[0].SourceID != srcs[0].ID {
		t.Fatalf("events of the refusals: %+v %v", events, err)
	}

	// The count is per source: the same profile through the other source still signs in.
	b.profileStep("plex2", "other-source")
	if out, err := b.pin("other-source", "1234"); err != nil || out.SignedIn == nil {
		t.Fatalf("the same profile through another source: %+v %v", out, err)
	}
}
