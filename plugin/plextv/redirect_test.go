package plextv_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
)

// A plex.tv answer that redirects to another host is not followed: neither the token
// nor a sign-in form reaches that host.
func TestCrossHostRedirectNotFollowed(t *testing.T) {
	var reached atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("X-Plex-Token") != "" || r.Method == http.MethodPost {
			t.Errorf("evil host got %s with token %q", r.Method, r.Header.Get("X-Plex-Token"))
		}
	}))
	defer evil.Close()
	plex := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", evil.URL+r.URL.Path)
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer plex.Close()
	c, err := plextv.New(plextv.Identity{ClientID: "test-client-1234", Product: "Test"}, plextv.Options{BaseURL: plex.URL,
		Backoff: time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.User(ctx, "secret-token"); !errors.Is(err, plextv.ErrMalformed) {
		t.Fatalf("user: %v", err)
	}
	if _, err := c.SignIn(ctx, "me", "secret-password", ""); !errors.Is(err, plextv.ErrMalformed) {
		t.Fatalf("sign in: %v", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the other host was reached %d times", n)
	}
}

// A redirect on the same host is still followed.
func TestSameHostRedirectFollowed(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v2/user", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/api/v2/user/moved", http.StatusFound)
	})
	mux.HandleFunc("/api/v2/user/moved", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":7,"uuid":"u7","username":"seven"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, _ := plextv.New(plextv.Identity{ClientID: "test-client-1234", Product: "Test"}, plextv.Options{BaseURL: srv.URL, Timeout: 2 * time.Second})
	if u, err := c.User(context.Background(), "tok"); err != nil || u.ID != 7 {
		t.Fatalf("same-host redirect: %+v %v", u, err)
	}
}
