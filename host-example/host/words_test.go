package host_test

import (
	"context"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// An attribute's title is the one its source's plugin declares (the Plex plugin's, over the
// wire); one it does not declare, or of a source whose plugin is not loaded, is its key in words.
func TestAttributeTitleComesFromThePlugin(t *testing.T) {
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir()))
	src, err := h.Store.CreateSource(context.Background(), "plex", "p", "P")
	if err != nil {
		t.Fatal(err)
	}
	gone := &store.Source{ID: "x", PluginID: "gone"}
	for _, tc := range []struct {
		src        *store.Source
		name, want string
	}{
		{src, "plex_pass", "Plex Pass"}, {src, "uuid", "Plex account UUID"}, {src, "is_home_member", "Member of the owner's Plex Home"},
		{src, "watch_time", "Watch time"}, {src, "élan-vital", "Élan vital"}, {gone, "plex_pass", "Plex pass"}, {nil, "uuid", "Uuid"},
	} {
		if got := h.Sources.AttributeTitle(tc.src, tc.name); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Where the credentials of a source's logins are signed out is what its plugin names: plex.tv
// for the Plex plugin, nothing for a source whose plugin is not loaded.
func TestUpstreamsComeFromThePlugin(t *testing.T) {
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir()))
	src, err := h.Store.CreateSource(context.Background(), "plex", "p", "P")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Sources.Upstreams(src); len(got) != 1 || got[0] != "plex.tv" {
		t.Errorf("the Plex source's upstreams: %v", got)
	}
	if got := h.Sources.Upstreams(&store.Source{PluginID: "gone"}); len(got) != 0 {
		t.Errorf("a source without its plugin: %v", got)
	}
}
