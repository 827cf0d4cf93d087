package plexsim

import (
	"net"
	"net/http/httptest"
	"testing"
)

// Serve runs a simulated plex.tv of world for a test and returns it with its URL, which is
// also its public URL (so resources point at its simulated servers). The URL names
// localhost, so the simulated plex.tv is another site than a host on 127.0.0.1.
func Serve(tb testing.TB, world World) (*Sim, string) {
	tb.Helper()
	sim := New(world)
	srv := httptest.NewServer(sim)
	tb.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://localhost:" + port
	sim.SetPublicURL(base)
	return sim, base
}

// PluginEnv is the plugin's environment that points it at a simulated plex.tv at url.
func PluginEnv(url string) []string {
	return []string{"PLEX_TV_URL=" + url, "PLEX_APP_URL=" + url}
}
