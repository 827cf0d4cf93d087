package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// actionHost is the admin actions over a store, with the real plugin and the simulator.
type actionHost struct {
	st      *store.Store
	sim     *plexsim.Sim
	actions *host.Actions
	src     *store.Source
}

// newActionHost configures a source of the real plugin with the owner's token.
func newActionHost(t *testing.T) *actionHost {
	t.Helper()
	st, sim, r := simReplica(t, 0)
	cfg := `{"access_mode":"members","owner_token":"` + sim.Token("owner") + `","allowed_servers":[{"machine_id":"` +
		plexsim.ServerLivingRoom + `","name":"Living Room"}]}`
	src, err := r.srcs.Configure(context.Background(), host.Setup{Plugin: "plex", Slug: "plex", Name: "Plex", Config: json.RawMessage(cfg), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return &actionHost{st: st, sim: sim, actions: host.NewActions(st, r.srcs), src: src}
}

// run runs the redirect action id in session and answers the PIN's code and the callback's
// state id and query.
func (h *actionHost) run(t *testing.T, id, session string) (code, stateID string, query map[string]string) {
	t.Helper()
	out, err := h.actions.Run(context.Background(), host.ActionRun{SourceID: h.src.ID, ActionID: id, SessionID: session,
		Callback: func(id string) string { return "http://127.0.0.1:1/admin/actions/callback/" + id }})
	if err != nil || out.Redirect == "" {
		t.Fatalf("run %s: %+v %v", id, out, err)
	}
	code, fwd, err := plexsim.ForwardURL(out.Redirect)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(fwd)
	if err != nil {
		t.Fatal(err)
	}
	query = map[string]string{}
	for k, v := range u.Query() {
		query[k] = v[0]
	}
	return code, strings.TrimPrefix(u.Path, "/admin/actions/callback/"), query
}

// An action's callback keeps the logins' policy (redirectStates): a retryable answer (the
// owner has not approved yet) releases its state, so the same callback works once approved;
// a finished action's state is gone, and another session cannot use it. Before, an action
// callback took its state once: the retry found it gone.
func TestActionCallbackRetriesLikeALogin(t *testing.T) {
	ctx := context.Background()
	h := newActionHost(t)
	code, stateID, q := h.run(t, "reauthorize", "admin")
	if stateID == "" {
		t.Fatal("the callback URL names no state")
	}
	cb := host.ActionCallback{SessionID: "admin", StateID: stateID, Query: q}

	// Not approved yet: a retryable refusal; the state stays.
	_, err := h.actions.Callback(ctx, cb)
	var failed *host.ActionFailedError
	if !errors.As(err, &failed) || !failed.Retry || !failed.Err.Retryable || failed.Source.ID != h.src.ID {
		t.Fatalf("callback before approval: %v", err)
	}
	// Another session's browser cannot claim it.
	if _, err := h.actions.Callback(ctx, host.ActionCallback{SessionID: "other", StateID: stateID, Query: q}); !errors.Is(err, host.ErrActionStale) {
		t.Fatalf("callback from another session: %v", err)
	}

	// Approved: the same callback finishes the action and saves the new owner token.
	if err := h.sim.Claim(code, "owner"); err != nil {
		t.Fatal(err)
	}
	out, err := h.actions.Callback(ctx, cb)
	if err != nil || out.Patched == nil || out.Patched.Drafted || out.Patched.Saved.Errors != nil || out.ActionID != "reauthorize" {
		t.Fatalf("callback after approval: %+v %v", out, err)
	}
	saved := map[string]any{}
	_ = json.Unmarshal(out.Patched.Saved.Source.Config, &saved)
	before := map[string]any{}
	_ = json.Unmarshal(h.src.Config, &before)
	if saved["owner_token"] == "" || saved["owner_token"] == before["owner_token"] {
		t.Fatalf("owner token not replaced: %v", saved["owner_token"])
	}

	// Finished: the state is gone.
	if _, err := h.actions.Callback(ctx, cb); !errors.Is(err, host.ErrActionStale) {
		t.Fatalf("callback after the action finished: %v", err)
	}
	// The run was recorded once, and the save (Configure records none).
	if kinds := kindsOf(t, h.st); kinds[store.EventAdminAction] != 1 || kinds[store.EventAdminSourceSaved] != 1 {
		t.Fatalf("events: %v", kinds)
	}
}

// Choices an action offers wait for the admin's pick: the pick goes into the draft (nothing
// saved), once; choices offered for one source cannot be applied to another.
func TestActionChoicesGoIntoTheDraftOnce(t *testing.T) {
	ctx := context.Background()
	h := newActionHost(t)
	code, stateID, q := h.run(t, "load_servers", "admin")
	if err := h.sim.Claim(code, "owner"); err != nil {
		t.Fatal(err)
	}
	out, err := h.actions.Callback(ctx, host.ActionCallback{SessionID: "admin", StateID: stateID, Query: q})
	if err != nil || out.Choices == nil || len(out.Choices.Options) < 2 || !out.Choices.Picked[plexsim.ServerLivingRoom] {
		t.Fatalf("choices: %+v %v", out, err)
	}
	if _, err := h.actions.ApplyChoices(ctx, host.ChoicesPick{SourceID: "another", SessionID: "admin"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("choices for a source that is not there: %v", err)
	}
	got, err := h.actions.ApplyChoices(ctx, host.ChoicesPick{SourceID: h.src.ID, SessionID: "admin", Values: []string{plexsim.ServerCabin}})
	if err != nil || got.Count != 1 || got.Source.Draft == nil {
		t.Fatalf("apply: %+v %v", got, err)
	}
	if !strings.Contains(string(got.Source.Draft), plexsim.ServerCabin) || strings.Contains(string(got.Source.Config), plexsim.ServerCabin) {
		t.Fatalf("the pick is not (only) in the draft: draft %s config %s", got.Source.Draft, got.Source.Config)
	}
	if _, err := h.actions.ApplyChoices(ctx, host.ChoicesPick{SourceID: h.src.ID, SessionID: "admin", Values: []string{plexsim.ServerCabin}}); !errors.Is(err, host.ErrActionStale) {
		t.Fatalf("second apply: %v", err)
	}
}
