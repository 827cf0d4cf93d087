package main

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
)

// healthcheck exits 0 against a running host that is ready, on the address serve's -listen or
// HOST_LISTEN names (every interface asked on loopback), whatever the public URL; 1 against
// a host whose plugins are not up (503), and against an address nobody answers on.
func TestHealthcheckAsksTheRunningHost(t *testing.T) {
	pub, _ := url.Parse("https://id.example.test")
	h := hosttest.New(t, hosttest.Public(pub))
	addr := h.Server.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	t.Setenv("HOST_LISTEN", "")
	for _, args := range [][]string{{"healthcheck", "-listen", addr}, {"healthcheck", "-listen", ":" + port}, {"healthcheck", "-listen", "0.0.0.0:" + port}} {
		if code, out, errOut := runCLI(t, args...); code != 0 || !strings.Contains(out, "ok") {
			t.Errorf("%q against a ready host: exit %d, %q %q", args, code, out, errOut)
		}
	}
	t.Setenv("HOST_LISTEN", addr)
	if code, _, errOut := runCLI(t, "healthcheck"); code != 0 {
		t.Errorf("HOST_LISTEN=%s: exit %d, %q", addr, code, errOut)
	}

	// A host whose plugins did not start answers 503: unhealthy.
	a, err := app.New(context.Background(), app.Config{PublicURL: pub, DataDir: t.TempDir(), PluginsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	<-a.Plugins.Done()
	failing := httptest.NewServer(a.Handler())
	defer failing.Close()
	code, _, errOut := runCLI(t, "healthcheck", "-listen", failing.Listener.Addr().String())
	if code != exitFailed || !strings.Contains(errOut, "503") {
		t.Errorf("a host that is not ready: exit %d, %q", code, errOut)
	}

	// Nobody listening: unhealthy.
	h.Server.Close()
	if code, _, errOut := runCLI(t, "healthcheck", "-listen", addr); code != exitFailed {
		t.Errorf("a stopped host: exit %d, %q", code, errOut)
	}
}
