package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// A bootstrap source whose settings the plugin refuses stops the start with the reason,
// as it did before replicas: only a slug another replica took meanwhile is passed over.
func TestBootstrapRefusedSettingsStopTheStart(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub, _ := url.Parse("http://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := app.New(ctx, app.Config{PublicURL: pub, Store: st, PluginsDir: hosttest.PluginDir(), AdminPassword: hosttest.AdminPassword,
		Bootstrap: []app.BootstrapSource{{Plugin: "plex", Slug: "plex", Name: "Plex", Enabled: true,
			Config: json.RawMessage(`{"no_such_setting": 1}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.WaitPlugins(ctx); err == nil || !strings.Contains(err.Error(), "bootstrap") {
		t.Fatalf("start with refused bootstrap settings: %v, want the bootstrap's error", err)
	}
}

// A slug another replica took a moment before is told apart from a refusal (bootstrap
// passes over it).
func TestConfigureTakenSlug(t *testing.T) {
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir()))
	ctx := context.Background()
	if _, err := h.Store.CreateSource(ctx, "plex", "taken", "Taken"); err != nil {
		t.Fatal(err)
	}
	_, err := h.Sources.Configure(ctx, host.Setup{Plugin: "plex", Slug: "taken", Name: "Taken", Config: json.RawMessage(`{}`)})
	if !errors.Is(err, host.ErrSlugTaken) {
		t.Fatalf("configure a taken slug: %v, want ErrSlugTaken", err)
	}
}
