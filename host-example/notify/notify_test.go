package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/store"
)

const hookSecret = "hook-secret-0123456789abcdef"

// events records one event of each kind that notifies, and some that do not, through the
// store (as the host records them): alice signs in twice (one first sign-in), a refusal at
// the sign-in and one by an application, re-validation removes bob, a health check changes
// twice (and is checked again unchanged), the admin's ways in change.
func events(t *testing.T, st *store.Store) (src *store.Source, alice *store.User) {
	t.Helper()
	ctx := context.Background()
	src, err := st.CreateSource(ctx, "plugin", "src", "Friends' server")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	login := func(sub, name, email string) *store.LoginDone {
		done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: sub, Username: name, Email: email},
			store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: sub, Name: name}, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return done
	}
	done := login("1001", "alice", "alice@example.test")
	login("1001", "alice", "alice@example.test") // not her first
	login("1002", "bob", "bob@example.test")
	for _, e := range []store.Event{
		{SourceID: src.ID, Kind: store.EventLoginDenied, Subject: "666", Name: "mallory", Reason: "not_a_member", Detail: "mallory is not a member"},
		{SourceID: src.ID, Kind: store.EventOIDCDenied, Subject: "1001", Name: "alice", Reason: "not_in_allowed_groups", Detail: "client grafana"},
		{SourceID: src.ID, Kind: store.EventUserRevoked, Subject: "1002", Name: "bob", Reason: "share_removed", Detail: "re-validation: access revoked"},
		{SourceID: src.ID, Kind: store.EventLoginFailed, Subject: "1003", Reason: "upstream_down"},
		{Kind: store.EventAdminLogin, Detail: "client 192.0.2.1"},
		{Kind: store.EventAdminSecurityChanged, Detail: "TOTP turned on; client 192.0.2.1"},
	} {
		if err := st.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, state := range []string{"valid", "valid", "revoked"} {
		if changed, err := st.ChangeMeta(ctx, "health:"+src.ID+":owner_token", state); err != nil {
			t.Fatal(err)
		} else if changed { // as host.Jobs.CheckHealth records it
			if err := st.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.HealthEvent("owner_token"), Reason: state,
				Detail: "The owner's token was checked"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	alice, err = st.User(ctx, done.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return src, alice
}

// Each event that notifies arrives once at each target that receives its kind, signed; a
// target without names gets the person by id and a link to their page, one with names gets
// the name and e-mail too; a kind turned off is not sent.
func TestEachKindArrivesOnceSigned(t *testing.T) {
	f := newFixture(t, notify.Config{})
	r := newReceiver(t)
	f.target(t, notify.TargetInput{Name: "plain", URL: r.URL + "/plain", Format: notify.Webhook, Kinds: allKinds(), Secret: hookSecret})
	f.target(t, notify.TargetInput{Name: "named", URL: r.URL + "/named", Format: notify.Webhook, Kinds: allKinds(), Names: true,
		Secret: hookSecret + "-2"})
	f.target(t, notify.TargetInput{Name: "refusals", URL: r.URL + "/refusals", Format: notify.Webhook, Kinds: []string{"refusal"},
		Secret: hookSecret + "-3"})
	src, alice := events(t, f.st)
	if n := f.send(t); n != 8+8+2 {
		t.Fatalf("delivered %d, want 18", n)
	}
	for _, g := range r.all() {
		secret := map[string]string{"/plain": hookSecret, "/named": hookSecret + "-2", "/refusals": hookSecret + "-3"}[g.Path]
		ts := g.Header.Get(notify.HeaderTimestamp)
		if !notify.Verify([]byte(secret), ts, g.Body, g.Header.Get(notify.HeaderSignature)) || ts != strconv.FormatInt(f.clock.Now().Unix(), 10) {
			t.Errorf("%s: signature %q at %q does not verify: %s", g.Path, g.Header.Get(notify.HeaderSignature), ts, g.Body)
		}
		if notify.Verify([]byte(secret+"x"), ts, g.Body, g.Header.Get(notify.HeaderSignature)) {
			t.Error("a signature verifies under another secret")
		}
	}
	plain := r.messages(t, "/plain")
	var kinds []string
	ids := map[string]bool{}
	for _, m := range plain {
		kinds = append(kinds, string(m.Kind)+":"+m.State)
		if ids[m.ID] {
			t.Errorf("message %s arrived twice", m.ID)
		}
		ids[m.ID] = true
		if m.Person != nil && (m.Person.Name != "" || m.Person.Email != "") {
			t.Errorf("a name went to a target without names: %+v", m)
		}
		if m.Detail != "" {
			t.Errorf("a detail went to a target without names: %+v", m)
		}
		if m.Source == nil || m.Source.ID != src.ID || m.Source.Name != "Friends' server" {
			if m.Kind != notify.AdminWays {
				t.Errorf("source of %s: %+v", m.Kind, m.Source)
			}
		}
	}
	want := []string{"first_sign_in:", "first_sign_in:", "refusal:", "refusal:", "access_removed:", "admin_ways_changed:",
		"health_changed:valid", "health_changed:revoked"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("the plain target got %v, want %v", kinds, want)
	}
	first := plain[0]
	if first.Person == nil || first.Person.ID != alice.ID || first.Person.URL != fmt.Sprintf("https://id.example.test/admin/users/%d", alice.ID) ||
		first.Link != first.Person.URL {
		t.Fatalf("alice's first sign-in names her by id and links her page: %+v %+v", first, first.Person)
	}
	if plain[2].Person != nil || plain[2].ReasonWords != "Not a member" || !strings.Contains(plain[2].Text, "Reason: Not a member.") {
		t.Fatalf("a refusal of someone unknown: %+v", plain[2])
	}
	if plain[6].Detail != "" || plain[6].State != "valid" || plain[6].Link != "https://id.example.test/admin/sources/"+src.ID {
		t.Fatalf("a health change: %+v", plain[6])
	}
	named := r.messages(t, "/named")
	if len(named) != len(want) || named[0].Person.Name != "alice" || named[0].Person.Email != "alice@example.test" ||
		named[2].Person.Name != "mallory" || named[2].Detail != "mallory is not a member" || named[6].Detail != "The owner's token was checked" {
		t.Fatalf("the named target: %+v", named)
	}
	if got := r.messages(t, "/refusals"); len(got) != 2 || got[0].Kind != notify.Refusal || got[1].Kind != notify.Refusal {
		t.Fatalf("the refusals-only target got %+v", got)
	}
	if n := f.send(t); n != 0 {
		t.Fatalf("sent %d again", n)
	}
}

// A receiver that is down keeps the messages queued, with the failure on the target and a
// growing back-off; when it is back they all arrive, in order, once.
func TestReceiverDownThenBack(t *testing.T) {
	f := newFixture(t, notify.Config{MinBackoff: 30 * time.Second, MaxBackoff: 10 * time.Minute})
	r := newReceiver(t)
	tg := f.target(t, notify.TargetInput{Name: "hook", URL: r.URL + "/in", Format: notify.Webhook, Kinds: allKinds(), Secret: hookSecret})
	ctx := context.Background()
	refuse := func(i int) {
		if err := f.st.AddEvent(ctx, store.Event{SourceID: "src", Kind: store.EventLoginDenied, Subject: strconv.Itoa(i), Reason: fmt.Sprint("r", i)}); err != nil {
			t.Fatal(err)
		}
	}
	r.down.Store(true)
	for i := range 3 {
		refuse(i)
	}
	if n := f.send(t); n != 0 {
		t.Fatalf("delivered %d while down", n)
	}
	got, _ := f.n.Target(ctx, tg.ID)
	if got.Status != "failed" || !strings.Contains(got.LastError, "503") || got.Queued != 3 || got.RetryAt.Sub(f.clock.Now()) != 30*time.Second {
		t.Fatalf("while down: %+v", got)
	}
	refuse(3)
	f.clock.advance(10 * time.Second)
	if n := f.send(t); n != 0 || len(r.all()) != 0 {
		t.Fatalf("tried during the back-off: %d", n)
	}
	f.clock.advance(25 * time.Second)
	f.send(t) // still down: the back-off doubles
	if got, _ = f.n.Target(ctx, tg.ID); got.RetryAt.Sub(f.clock.Now()) != time.Minute || got.Queued != 4 {
		t.Fatalf("second failure: %+v", got)
	}
	r.down.Store(false)
	f.clock.advance(time.Minute)
	if n := f.send(t); n != 4 {
		t.Fatalf("delivered %d once back, want 4", n)
	}
	var reasons []string
	for _, m := range r.messages(t, "/in") {
		reasons = append(reasons, m.Reason)
	}
	if strings.Join(reasons, ",") != "r0,r1,r2,r3" {
		t.Fatalf("arrived %v", reasons)
	}
	if got, _ = f.n.Target(ctx, tg.ID); got.Status != "ok" || got.Queued != 0 || !got.RetryAt.IsZero() {
		t.Fatalf("once back: %+v", got)
	}
}

// A flood of refusals keeps at most the bound queued per target: the oldest are dropped and
// counted, the newest delivered; a message tried too often is dropped and counted too.
func TestFloodOfRefusalsIsBounded(t *testing.T) {
	f := newFixture(t, notify.Config{Bound: 50, MaxAttempts: 2, MinBackoff: time.Second})
	r := newReceiver(t)
	tg := f.target(t, notify.TargetInput{Name: "hook", URL: r.URL + "/in", Format: notify.Webhook, Kinds: []string{"refusal"}, Secret: hookSecret})
	ctx := context.Background()
	for i := range 1000 {
		if err := f.st.AddEvent(ctx, store.Event{SourceID: "src", Kind: store.EventLoginDenied, Subject: strconv.Itoa(i), Reason: fmt.Sprint("r", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.n.Target(ctx, tg.ID)
	if got.Queued != 50 || got.Dropped != 950 || f.dropped["bound"] != 950 {
		t.Fatalf("queued %d, dropped %d (counted %v)", got.Queued, got.Dropped, f.dropped)
	}
	if n := f.send(t); n != 50 {
		t.Fatalf("delivered %d", n)
	}
	if ms := r.messages(t, "/in"); ms[0].Reason != "r950" || ms[49].Reason != "r999" {
		t.Fatalf("delivered %s to %s, want the newest", ms[0].Reason, ms[49].Reason)
	}
	r.down.Store(true)
	if err := f.st.AddEvent(ctx, store.Event{Kind: store.EventLoginDenied, Reason: "late"}); err != nil {
		t.Fatal(err)
	}
	f.send(t)
	f.clock.advance(time.Minute)
	f.send(t)
	if got, _ = f.n.Target(ctx, tg.ID); got.Queued != 0 || got.Dropped != 951 || f.dropped["attempts"] != 1 {
		t.Fatalf("after the last attempt: %+v %v", got, f.dropped)
	}
}

// No payload of any format holds a target's secret or token, and none but a named target's
// holds a name or an e-mail; Discord gets no signature, ntfy its token as a header only.
func TestNoSecretInAnyPayload(t *testing.T) {
	f := newFixture(t, notify.Config{})
	r := newReceiver(t)
	const ntfyToken, discordSecret = "tk_ntfytoken0123456789", "discord-not-used-0123456789"
	f.target(t, notify.TargetInput{Name: "hook", URL: r.URL + "/hook", Format: notify.Webhook, Kinds: allKinds(), Secret: hookSecret})
	f.target(t, notify.TargetInput{Name: "ntfy", URL: r.URL + "/topic", Format: notify.Ntfy, Kinds: allKinds(), Secret: ntfyToken})
	f.target(t, notify.TargetInput{Name: "discord", URL: r.URL + "/api/webhooks/1/discord-url-token", Format: notify.Discord, Kinds: allKinds(),
		Secret: discordSecret})
	events(t, f.st)
	f.send(t)
	if err := f.n.SendTest(context.Background(), mustTargetID(t, f, "discord")); err != nil {
		t.Fatal(err)
	}
	all := r.all()
	if len(all) != 3*8+1 {
		t.Fatalf("%d requests", len(all))
	}
	for _, g := range all {
		for _, secret := range []string{hookSecret, ntfyToken, discordSecret, "discord-url-token", "alice@", "bob@", "mallory"} {
			if bytes.Contains(g.Body, []byte(secret)) {
				t.Errorf("%s: the payload holds %q: %s", g.Path, secret, g.Body)
			}
		}
		switch g.Path {
		case "/topic":
			if g.Header.Get("Authorization") != "Bearer "+ntfyToken || g.Header.Get("Title") == "" {
				t.Errorf("ntfy headers: %v", g.Header)
			}
		case "/api/webhooks/1/discord-url-token":
			if g.Header.Get(notify.HeaderSignature) != "" || g.Header.Get("Authorization") != "" ||
				!bytes.Contains(g.Body, []byte(`"allowed_mentions":{"parse":[]}`)) || !bytes.Contains(g.Body, []byte(`"embeds":[{`)) {
				t.Errorf("discord request: %v %s", g.Header, g.Body)
			}
		}
	}
}

// mustTargetID is the id of the target named name.
func mustTargetID(t *testing.T, f *fixture, name string) string {
	t.Helper()
	ts, err := f.n.Targets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		if tg.Name == name {
			return tg.ID
		}
	}
	t.Fatalf("no target %s", name)
	return ""
}

// Saving a target again with the secret left empty keeps it; Discord keeps none (it checks
// no signature); each change and deletion is an admin event naming the target, never its URL.
func TestSaveKeepsTheSecretAndRecordsTheChange(t *testing.T) {
	f := newFixture(t, notify.Config{})
	r := newReceiver(t)
	ctx := context.Background()
	tg := f.target(t, notify.TargetInput{Name: "hook", URL: r.URL + "/in?token=url-token", Format: notify.Webhook, Kinds: allKinds(), Secret: hookSecret})
	tg = f.target(t, notify.TargetInput{ID: tg.ID, Name: "renamed", URL: r.URL + "/in?token=url-token", Format: notify.Webhook, Kinds: []string{"refusal"}})
	if !tg.HasSecret || tg.Name != "renamed" || !slices.Equal(tg.Kinds, []notify.Kind{notify.Refusal}) {
		t.Fatalf("saved again: %+v", tg)
	}
	if err := f.n.SendTest(ctx, tg.ID); err != nil {
		t.Fatal(err)
	}
	g := r.all()[0]
	if !notify.Verify([]byte(hookSecret), g.Header.Get(notify.HeaderTimestamp), g.Body, g.Header.Get(notify.HeaderSignature)) {
		t.Fatal("the kept secret does not sign")
	}
	if _, err := f.n.Save(ctx, notify.TargetInput{ID: tg.ID, Name: "x", URL: r.URL, Format: notify.Webhook, ClearSecret: true}); err == nil {
		t.Fatal("a generic webhook without a secret was saved")
	}
	if _, err := f.n.Save(ctx, notify.TargetInput{ID: tg.ID, Name: "x", URL: r.URL, Format: notify.Ntfy, Secret: "tk_0123456789abcdef\r\nX-Evil: 1"}); err == nil {
		t.Fatal("a secret with a line break (sent in a header) was saved")
	}
	tg = f.target(t, notify.TargetInput{ID: tg.ID, Name: "chat", URL: r.URL + "/in?token=url-token", Format: notify.Discord, Secret: "typed-anyway-0123456789"})
	if tg.HasSecret {
		t.Fatal("a Discord target kept a secret")
	}
	if err := f.n.Delete(ctx, tg.ID); err != nil {
		t.Fatal(err)
	}
	evs, err := f.st.Events(ctx, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, string(e.Kind))
		if strings.Contains(e.Detail, "url-token") || strings.Contains(e.Detail, hookSecret) {
			t.Errorf("an event names the URL or the secret: %+v", e)
		}
	}
	if strings.Join(kinds, ",") != "admin_notify_deleted,admin_notify_saved,admin_notify_saved,admin_notify_saved" {
		t.Fatalf("events %v", kinds)
	}
	if err := f.n.Delete(ctx, tg.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
}
