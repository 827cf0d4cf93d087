package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/host-example/web"
	"github.com/plexlogin/plexlogin/shared/loader"
)

// The host answers while its plugins start: /healthz says "not ready" and a login page asks
// to try again; once the plugins are up both work.
func TestServesWhilePluginsStart(t *testing.T) {
	srv, reg := startingServer(t, 50*time.Millisecond)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, string(body)
	}
	if code, body := get("/healthz"); code != http.StatusServiceUnavailable || body != "not ready" {
		t.Fatalf("healthz while starting: %d %q", code, body)
	}
	if code, body := get("/login"); code != http.StatusServiceUnavailable || !strings.Contains(body, "Starting up") {
		t.Fatalf("login page while starting: %d %.200s", code, body)
	}
	// The retry link never carries a host of the request's own making.
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "http://evil.example/login?x=1", nil))
	if body := rec.Body.String(); strings.Contains(body, "evil.example") || !strings.Contains(body, `href="/login?x=1"`) {
		t.Fatalf("retry link of an absolute-form request: %.300s", body)
	}
	if err := reg.Start(context.Background(), "", loader.Options{}, nil); err != nil { // no plugins: ready at once
		t.Fatal(err)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok" {
		t.Fatalf("healthz once started: %d %q", code, body)
	}
	if code, _ := get("/login"); code != http.StatusOK {
		t.Fatalf("login page once started: %d", code)
	}
}

// A login that arrives while the plugins start waits for them instead of failing.
func TestLoginWaitsForPluginsThatAreStarting(t *testing.T) {
	srv, reg := startingServer(t, time.Minute)
	done := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
		done <- rec.Code
	}()
	select {
	case code := <-done:
		t.Fatalf("the login page answered %d before the plugins were up", code)
	case <-time.After(200 * time.Millisecond):
	}
	if err := reg.Start(context.Background(), "", loader.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != http.StatusOK {
		t.Fatalf("login page after the plugins came up: %d", code)
	}
}

// startingServer is the pages of a host whose plugins have not started yet; they wait wait
// for them.
func startingServer(t *testing.T, wait time.Duration) (*web.Server, *host.Registry) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := host.NewRegistry()
	srcs := host.NewSources(st, reg)
	pub, _ := url.Parse("http://127.0.0.1")
	srv, err := web.New(web.Config{PublicURL: pub, StartWait: wait},
		web.Deps{Keys: st, Plugins: reg, Sources: srcs, Logins: host.NewLogins(st, srcs, host.LoginConfig{}),
			People: host.NewPeople(st, srcs, nil), Sessions: host.NewSessions(st, pub), Admin: host.NewAdmin(st, srcs)})
	if err != nil {
		t.Fatal(err)
	}
	return srv, reg
}
