package host_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/source"
)

// The schedule of a failing renewal, driven by an injected clock through a 7-day token's
// life: the back-off doubles from 30 s to at most an hour, never later than the plugin asks,
// always before the credential expires while it lives; and the admin home's "running out"
// starts on day 5 of 7.
func TestRenewalScheduleWithInjectedClock(t *testing.T) {
	week := 7 * 24 * time.Hour
	issued := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	exp := issued.Add(week)
	creds := []store.RenewalCredential{{Field: "tok", Label: "tok", ExpiresAt: exp.Unix(), Since: issued.Unix()}}
	now := issued.Add(week / 2) // the renewal is due at half life, and fails from there on
	prev := time.Duration(0)
	for attempts := 1; exp.Sub(now) > 2*time.Second; attempts++ { // then a second is the floor
		next := host.NextRenewal(now, attempts, time.Time{}, creds)
		wait := next.Sub(now)
		switch {
		case !next.Before(exp):
			t.Fatalf("attempt %d at %s: next try %s is not before the expiry", attempts, now, next)
		case wait > time.Hour || wait < time.Second:
			t.Fatalf("attempt %d: waits %s", attempts, wait)
		case attempts > 1 && exp.Sub(now) > 2*time.Hour && wait != min(2*prev, time.Hour):
			t.Fatalf("attempt %d: waits %s after %s, want it doubled up to an hour", attempts, wait, prev)
		}
		prev, now = wait, next
		if attempts > 10000 {
			t.Fatal("the retries never reach the expiry")
		}
	}
	if got := host.NextRenewal(issued, 1, issued.Add(5*time.Second), creds); !got.Equal(issued.Add(5 * time.Second)) {
		t.Errorf("the plugin's sooner time: %s", got)
	}
	if got := host.NextRenewal(exp.Add(time.Hour), 3, time.Time{}, creds); !got.Equal(exp.Add(time.Hour + 2*time.Minute)) {
		t.Errorf("after the expiry, the back-off alone: %s", got)
	}
	if got := host.NextRenewal(issued, 1, issued, nil); !got.Equal(issued.Add(time.Second)) {
		t.Errorf("never sooner than a second: %s", got)
	}
	for day, want := range map[float64]bool{1: false, 4.9: false, 5.1: true, 6.9: true} {
		at := issued.Add(time.Duration(day * float64(24*time.Hour)))
		if got := host.RunningOut(issued, exp, at); got != want {
			t.Errorf("day %.1f of 7: running out %v, want %v", day, got, want)
		}
	}
	if !host.RunningOut(time.Time{}, exp, exp.Add(-24*time.Hour)) || host.RunningOut(time.Time{}, exp, exp.Add(-3*24*time.Hour)) {
		t.Error("a credential of unknown start is judged on 7 days")
	}
}

// renewSource is a members source of r whose legacy owner token is upgraded to a device key.
func renewSource(t *testing.T, r *replica, slug string) *store.Source {
	t.Helper()
	ctx := context.Background()
	legacy := r.sim.TokenFor("owner", "source-client-"+slug)
	src, err := r.srcs.Configure(ctx, host.Setup{Plugin: "plex", Slug: slug, Name: slug, Enabled: true,
		Config: json.RawMessage(`{"access_mode":"members","owner_token":"` + legacy + `","client_identifier":"source-client-` + slug +
			`","allowed_servers":[{"machine_id":"` + plexsim.ServerLivingRoom + `","name":"Living Room"},{"machine_id":"` + plexsim.ServerCabin +
			`","name":"Cabin"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	src, p, err := r.srcs.Editable(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Process.RunAction(ctx, host.ForAction(src), source.ActionRequest{ActionID: "upgrade_device_key"})
	if err != nil || len(res.ConfigPatch) == 0 {
		t.Fatalf("upgrade: %v", err)
	}
	saved, err := r.srcs.SaveSettings(ctx, src, p, patched(host.Editing(src), res.ConfigPatch))
	if err != nil || saved.Errors != nil {
		t.Fatalf("save the upgrade: %v %+v", err, saved.Errors)
	}
	return saved.Source
}

func patched(cfg map[string]any, raw json.RawMessage) map[string]any {
	var p map[string]any
	_ = json.Unmarshal(raw, &p)
	for k, v := range p {
		cfg[k] = v
	}
	return cfg
}

func settingsOf(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	cfg := map[string]any{}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// expireNow makes the sim answer 498 to every JWT issued so far (their times are whole
// seconds: a second before and after, so none issued this second is told apart wrongly).
func expireNow(sim *plexsim.Sim) {
	time.Sleep(1100 * time.Millisecond)
	sim.ExpireJWTs()
	time.Sleep(1100 * time.Millisecond)
}

// An admin's save never writes a replaced credential back: settings read before a renewal
// and saved after it keep the renewed token (each field the admin did not change takes the
// newer value) and the admin's change; an unsaved draft made before a renewal is rebased on
// it, keeping what the admin changed in it.
func TestAdminSaveKeepsRenewedToken(t *testing.T) {
	ctx := context.Background()
	st, sim, r := simReplica(t, 0)
	job := host.NewRenewer(st, r.srcs, nil)
	stale := renewSource(t, r, "plex")
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	stale, _ = r.srcs.Get(ctx, stale.ID)
	form := host.Editing(stale) // the form as loaded, with the admin's change
	form["product"] = "Changed by the admin"

	expireNow(sim)
	r.srcs.RenewSoon(ctx, stale.ID)
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	renewed, _ := r.srcs.Get(ctx, stale.ID)
	newTok := settingsOf(t, renewed.Config)["owner_token"]
	if renewed.ConfigVersion == stale.ConfigVersion || newTok == settingsOf(t, stale.Config)["owner_token"] {
		t.Fatal("no renewal")
	}
	_, p, _ := r.srcs.Editable(ctx, stale.ID)
	saved, err := r.srcs.SaveSettings(ctx, stale, p, form)
	if err != nil || saved.Errors != nil {
		t.Fatalf("save: %v %+v", err, saved.Errors)
	}
	got := settingsOf(t, saved.Source.Config)
	if got["owner_token"] != newTok || got["product"] != "Changed by the admin" {
		t.Fatalf("saved from a form read before the renewal: renewed token kept %v, change kept %v", got["owner_token"] == newTok, got["product"])
	}

	// A draft made before a renewal.
	draft := host.Editing(saved.Source)
	draft["product"] = "Draft"
	if _, err := r.srcs.KeepDraft(ctx, saved.Source, draft); err != nil {
		t.Fatal(err)
	}
	expireNow(sim)
	r.srcs.RenewSoon(ctx, stale.ID)
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	now, _ := r.srcs.Get(ctx, stale.ID)
	cfg, d := settingsOf(t, now.Config), settingsOf(t, now.Draft)
	if cfg["owner_token"] == newTok || d["owner_token"] != cfg["owner_token"] || d["product"] != "Draft" {
		t.Fatalf("the draft after a renewal: token rebased %v, change kept %v", d["owner_token"] == cfg["owner_token"], d["product"])
	}
}

// Two replicas on one PostgreSQL, each with its renewal job running and its own plugin
// process: with 3-second tokens each renewal happens once (plex.tv issued as many tokens as
// the host recorded renewals), and the renewed token keeps serving logins.
func TestRenewalOnceAcrossReplicas(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := postgrestest.Start(t).NewDatabase(t)
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.SetJWTLife(3 * time.Second)
	var replicas []*replica
	var stores []*store.Store
	dir := t.TempDir() // the key, which both replicas share
	for range 2 {
		st, err := store.OpenWith(ctx, store.Options{Database: dsn, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores, replicas = append(stores, st), append(replicas, newReplica(t, st, sim, srv.URL))
	}
	src := renewSource(t, replicas[0], "plex")
	jobs := []*host.Renewer{host.NewRenewer(stores[0], replicas[0].srcs, nil), host.NewRenewer(stores[1], replicas[1].srcs, nil)}
	renewed := func() int {
		events, err := stores[1].Events(context.Background(), 500, "")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Kind == store.HealthEvent("credential_renewal") && e.Reason == "renewed" && e.SourceID == src.ID {
				n++
			}
		}
		return n
	}
	// Both replicas' rounds at once, when the renewal is due: one renewal, one token.
	if _, err := jobs[0].RoundAlone(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		row, err := stores[0].SourceRenewal(ctx, src.ID)
		if err != nil || row.RenewAfter.IsZero() {
			t.Fatalf("no schedule: %+v %v", row, err)
		}
		time.Sleep(time.Until(row.RenewAfter) + 100*time.Millisecond)
		tokens, events := sim.Counts()["auth.token"], renewed()
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = j.RoundAlone(ctx) }()
		}
		wg.Wait()
		for _, j := range jobs { // the one the lock turned away finds nothing due
			_, _ = j.RoundAlone(ctx)
		}
		if got, issued := renewed()-events, sim.Counts()["auth.token"]-tokens; got != 1 || issued != 1 {
			t.Fatalf("two replicas' rounds on a due renewal: %d renewals, %d tokens issued; want one", got, issued)
		}
	}

	// Their jobs running in real time.
	tokensBefore := sim.Counts()["auth.token"]
	eventsBefore := renewed()
	done := make(chan struct{}, 2)
	for _, j := range jobs {
		go func() { j.Run(ctx); done <- struct{}{} }()
	}
	time.Sleep(6 * time.Second)
	cancel()
	<-done
	<-done
	renewals := renewed() - eventsBefore
	issued := sim.Counts()["auth.token"] - tokensBefore
	t.Logf("%d renewals in 6 s, %d tokens issued", renewals, issued)
	if renewals < 2 || issued != renewals {
		t.Fatalf("%d renewals recorded, plex.tv issued %d tokens: want one each, at least 2", renewals, issued)
	}
	if err := replicas[1].loginAs("plex", "friend"); err != nil {
		t.Fatalf("login after the renewals: %v", err)
	}
}

// loginAs logs persona in with the source of slug, in a new session.
func (r *replica) loginAs(slug, persona string) error {
	ctx := context.Background()
	session := "session-" + persona
	var loginID string
	out, err := r.logins.Begin(ctx, host.Begin{Slug: slug, SessionID: session, Client: "client",
		Callback: func(id string) string { loginID = id; return "http://127.0.0.1:1/callback/" + id }})
	if err != nil {
		return err
	}
	code, fwd, err := plexsim.ForwardURL(out.Redirect)
	if err != nil {
		return err
	}
	if err := r.sim.Claim(code, persona); err != nil {
		return err
	}
	u, _ := url.Parse(fwd)
	q := map[string]string{}
	for k, v := range u.Query() {
		q[k] = v[0]
	}
	_, err = r.logins.Complete(ctx, host.Complete{SessionID: session, LoginID: loginID, Query: q})
	return err
}

// A health check that finds the owner token expired early (plex.tv's 498) makes the source
// due for renewal at once; the next round renews it and the health check passes again.
func TestExpiredCredentialsAreRenewedAtOnce(t *testing.T) {
	ctx := context.Background()
	st, sim, r := simReplica(t, 0)
	job, jobs := host.NewRenewer(st, r.srcs, nil), host.NewJobs(st, r.srcs, host.NewPeople(st, r.srcs, nil))
	src := renewSource(t, r, "plex")
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if row, err := st.SourceRenewal(ctx, src.ID); err != nil || row.RenewAfter.Before(time.Now().Add(time.Hour)) || len(row.Credentials) != 1 {
		t.Fatalf("a fresh 7-day token: %+v %v", row, err)
	}
	expireNow(sim)
	if err := jobs.CheckHealth(ctx); err != nil {
		t.Fatal(err)
	}
	if row, _ := st.SourceRenewal(ctx, src.ID); row.RenewAfter.After(time.Now()) {
		t.Fatalf("the health check's expired token did not make the source due: renew after %s", row.RenewAfter)
	}
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	now, _ := r.srcs.Get(ctx, src.ID)
	if settingsOf(t, now.Config)["owner_token"] == settingsOf(t, src.Config)["owner_token"] {
		t.Fatal("not renewed")
	}
	if err := jobs.CheckHealth(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range r.srcs.Health(ctx, now) {
		if h.State != host.HealthValid {
			t.Errorf("health after the renewal: %+v", h)
		}
	}
}

// A device revoked before its first renewal: the plugin falls back to the legacy token it
// kept, with a warning; the host saves the fallback, records the warning as an event (not a
// refusal: the health stays as it was), and logins go on.
func TestRenewalFallbackIsAWarning(t *testing.T) {
	ctx := context.Background()
	st, sim, r := simReplica(t, 2*time.Second)
	job := host.NewRenewer(st, r.srcs, nil)
	src := renewSource(t, r, "plex")
	keys := settingsOf(t, src.Config)["owner_device_keys"].([]any)
	key := keys[0].(map[string]any)
	sim.RevokeDevice(key["client_id"].(string))
	time.Sleep(1500 * time.Millisecond) // past half of the 2-second life
	r.srcs.RenewSoon(ctx, src.ID)
	if err := job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	now, _ := r.srcs.Get(ctx, src.ID)
	if got := settingsOf(t, now.Config)["owner_token"]; got != key["legacy_token"] {
		t.Fatal("the fallback to the legacy token was not saved")
	}
	events, _ := st.Events(ctx, 100, "")
	warned := 0
	for _, e := range events {
		if e.Kind == store.HealthEvent("credential_renewal") && e.Reason == "warning" {
			warned++
		}
		if e.Kind == store.HealthEvent("credential_renewal") && e.Reason == "refused" {
			t.Errorf("a fallback recorded as a refusal: %+v", e)
		}
	}
	if warned != 1 {
		t.Fatalf("%d warning events, want 1", warned)
	}
	for _, h := range r.srcs.Health(ctx, now) {
		if h.Renewal {
			t.Errorf("a fallback turned the health red: %+v", h)
		}
	}
	if err := r.loginAs("plex", "friend"); err != nil {
		t.Fatalf("login after the fallback: %v", err)
	}
}
