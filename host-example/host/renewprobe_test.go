package host_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
	"github.com/plexlogin/plexlogin/shared/mock"
	"github.com/plexlogin/plexlogin/shared/source"
)

// A renewal may change only the secrets (writeOnly settings) of the schema (contract 1.4):
// a plugin whose renewal patch also opens who may sign in ("mode": "open") has nothing
// saved; the settings stay as the admin saved them and the failure is an event.
func TestRenewalPatchOfANonSecretSettingIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := loadertest.Manifest("mock", "widen-source")
	if _, err := loadertest.Build(dir, "github.com/plexlogin/plexlogin/host-example/host/testdata/widenplugin", m, false); err != nil {
		t.Fatal(err)
	}
	reg := host.NewRegistry()
	if err := reg.Start(ctx, filepath.Clean(dir), loader.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	st := openStore(t)
	srcs := host.NewSources(st, reg)
	lease := mock.Lease(time.Now().Add(time.Minute))
	src, err := srcs.Configure(ctx, host.Setup{Plugin: "mock", Slug: "m", Name: "m", Enabled: true,
		Config: json.RawMessage(`{"api_key":"k","mode":"closed","lease":"` + lease + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := host.NewRenewer(st, srcs, nil).Round(ctx); err != nil {
		t.Fatal(err)
	}
	now, err := srcs.Get(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := settingsOf(t, now.Config)
	if got["mode"] != "closed" || now.ConfigVersion != src.ConfigVersion {
		t.Fatalf("a renewal patching a non-secret setting was saved: mode %v, version %d → %d", got["mode"], src.ConfigVersion, now.ConfigVersion)
	}
	page, err := st.EventPage(ctx, store.EventFilter{SourceID: src.ID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	evs := page.Events
	failed := false
	for _, e := range evs {
		failed = failed || e.Reason == "failed"
	}
	if !failed {
		t.Errorf("no event of the refused renewal: %+v", evs)
	}
}

// SecretsOnly lets a renewal change writeOnly settings only: not a readOnly one, an
// admin's one, or a key the schema does not have.
func TestRenewalMayChangeSecretsOnly(t *testing.T) {
	d, _ := mock.New().Describe(context.Background())
	schema, err := settings.ParseSchema(d.ConfigSchema)
	if err != nil {
		t.Fatal(err)
	}
	if err := host.SecretsOnly(schema, map[string]any{"lease": "x", "api_key": "y"}); err != nil {
		t.Errorf("secrets: %v", err)
	}
	for _, k := range []string{"mode", "client_id", "schema_version", "no_such_setting"} {
		if host.SecretsOnly(schema, map[string]any{"lease": "x", k: "y"}) == nil {
			t.Errorf("%s changed by a renewal", k)
		}
	}
}

// Calls that say the source's credentials expired (anyone's login can bring one) make the
// renewal due at once, but no more than once per renewFirstRetry per source: a storm of
// them while plex.tv fails must not turn into a renewal (and plex.tv calls) per call.
func TestExpiredErrorsDoNotHammerTheUpstream(t *testing.T) {
	ctx := context.Background()
	st, sim, r := simReplica(t, 0)
	job := host.NewRenewer(st, r.srcs, nil)
	src := renewSource(t, r, "plex")
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	expireNow(sim)
	sim.Inject("auth.nonce", plexsim.Fault503, -1)
	expired := source.ExpiredSourceCredentials("Plex is unreachable right now.", "owner token expired")
	total := func() int {
		n := 0
		for _, c := range sim.Counts() {
			n += c
		}
		return n
	}
	before := total()
	calls := 0
	for range 10 {
		r.srcs.NoteExpired(ctx, src, expired)
		if err := job.Round(ctx); err != nil {
			t.Fatal(err)
		}
		calls = total() - before
	}
	row, _ := st.SourceRenewal(ctx, src.ID)
	t.Logf("10 expired errors: %d plex.tv requests, attempts %d", calls, row.Attempts)
	if row.Attempts > 2 {
		t.Fatalf("10 expired errors in a row made %d renewal attempts (%d plex.tv requests): the back-off is not kept", row.Attempts, calls)
	}
}

// A source deleted while its plugin renews: nothing of it comes back (no settings, no
// schedule row), and the job goes on.
func TestRenewalOfASourceDeletedMeanwhile(t *testing.T) {
	ctx := context.Background()
	st, sim, r := simReplica(t, 0)
	job := host.NewRenewer(st, r.srcs, nil)
	src := renewSource(t, r, "plex")
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	expireNow(sim)
	if err := st.RenewBy(ctx, src.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	sim.SetLatency(700 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- job.Round(ctx) }()
	time.Sleep(300 * time.Millisecond)
	if err := st.DeleteSource(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := st.Source(ctx, src.ID); err == nil {
		t.Fatal("the deleted source came back")
	}
	if row, err := st.SourceRenewal(ctx, src.ID); err == nil {
		t.Fatalf("a schedule of the deleted source: %+v", row)
	}
}

// A draft rebased on a renewal keeps every edit of the admin (a setting, a secret they typed)
// and takes the renewed value of each secret they left as it was.
func TestRebasedDraftKeepsTheAdminsEdits(t *testing.T) {
	base := map[string]any{"access_mode": "members", "owner_token": "old", "additional_owner_tokens": []any{"a1"}}
	changes := map[string]any{"owner_token": "renewed", "additional_owner_tokens": []any{"a2"}}
	draft := json.RawMessage(`{"access_mode":"friends","owner_token":"old","additional_owner_tokens":["typed"]}`)
	got := settingsOf(t, host.Rebase(draft, base, changes))
	if got["access_mode"] != "friends" || got["owner_token"] != "renewed" {
		t.Errorf("rebased draft: %v", got)
	}
	if l, _ := got["additional_owner_tokens"].([]any); len(l) != 1 || l[0] != "typed" {
		t.Errorf("the tokens the admin typed were replaced: %v", got["additional_owner_tokens"])
	}
}
