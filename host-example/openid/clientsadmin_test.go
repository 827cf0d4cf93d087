package openid_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// openClients is openid.Clients over a fresh SQLite store.
func openClients(t *testing.T) (*openid.Clients, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return openid.NewClients(st), st
}

// eventKinds are the kinds of the recorded events, oldest first.
func eventKinds(t *testing.T, st *store.Store) []store.EventKind {
	t.Helper()
	evs, err := st.Events(context.Background(), 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []store.EventKind
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Kind)
	}
	return out
}

// Create checks a client, gives a confidential one a secret shown once (its hash kept),
// refuses a taken id, and records the event; the answer lists the clients as they are now.
func TestClientsCreate(t *testing.T) {
	cs, st := openClients(t)
	ctx := context.Background()
	in := openid.ClientInput{ID: " grafana ", Name: " Grafana ", RedirectURIs: "https://grafana.example.com/cb\r\n\n",
		AllowedGroups: []string{"friends", "home\nfriends"}, Refresh: true}
	saved, err := cs.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	c := saved.Client
	if c.ID != "grafana" || c.Name != "Grafana" || c.Origin != "ui" || len(saved.Secret) != 64 || c.SecretSHA256 != openid.HashSecret(saved.Secret) ||
		!slices.Equal(c.AllowedGroups, []string{"friends", "home"}) || !slices.Equal(c.GrantTypes, []string{openid.GrantCode, openid.GrantRefresh}) ||
		!slices.Equal(c.RedirectURIs, []string{"https://grafana.example.com/cb"}) {
		t.Fatalf("created: %+v secret %q", c, saved.Secret)
	}
	if len(saved.Clients) != 1 || saved.Clients[0].ID != "grafana" {
		t.Fatalf("the list after: %+v", saved.Clients)
	}
	stored, err := st.OIDCClientByID(ctx, "grafana")
	if err != nil || stored.SecretSHA256 != c.SecretSHA256 {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	if k := eventKinds(t, st); !slices.Equal(k, []store.EventKind{store.EventAdminClientCreated}) {
		t.Fatalf("events: %v", k)
	}

	// The same id again, over http on a public host: every problem, in words, and the form.
	in.RedirectURIs = "http://grafana.example.com/cb"
	_, err = cs.Create(ctx, in)
	var invalid *openid.InvalidClient
	if !errors.As(err, &invalid) || len(invalid.Problems) != 2 || !strings.Contains(invalid.Problems[0], "loopback") ||
		invalid.Problems[1] != "client_id: grafana is taken" || invalid.Client.Name != "Grafana" {
		t.Fatalf("refused: %v", err)
	}
	// A public client has no secret.
	saved, err = cs.Create(ctx, openid.ClientInput{ID: "cli", Public: true, Name: "CLI", RedirectURIs: "http://127.0.0.1/cb"})
	if err != nil || saved.Secret != "" || saved.Client.SecretSHA256 != "" || len(saved.Clients) != 2 {
		t.Fatalf("public: %+v %v", saved, err)
	}
	if k := eventKinds(t, st); len(k) != 2 {
		t.Fatalf("a refused client recorded an event: %v", k)
	}
}

// Save changes what the admin may change, a new secret only when asked; Delete ends a client;
// neither touches a client of the clients file.
func TestClientsSaveAndDelete(t *testing.T) {
	cs, st := openClients(t)
	ctx := context.Background()
	first, err := cs.Create(ctx, openid.ClientInput{ID: "wiki", Name: "Wiki", RedirectURIs: "https://wiki.example.com/cb"})
	if err != nil {
		t.Fatal(err)
	}
	hash := first.Client.SecretSHA256
	saved, err := cs.Save(ctx, "wiki", openid.ClientInput{ID: "other", Public: true, Name: "Wiki 2", RedirectURIs: "https://wiki.example.com/cb2"})
	if err != nil || saved.Secret != "" || saved.Client.ID != "wiki" || saved.Client.Public || saved.Client.SecretSHA256 != hash || saved.Client.Name != "Wiki 2" {
		t.Fatalf("saved: %+v %v", saved, err)
	}
	saved, err = cs.Save(ctx, "wiki", openid.ClientInput{Name: "Wiki 2", RedirectURIs: "https://wiki.example.com/cb2", NewSecret: true})
	if err != nil || len(saved.Secret) != 64 || saved.Client.SecretSHA256 == hash {
		t.Fatalf("new secret: %+v %v", saved, err)
	}
	var invalid *openid.InvalidClient
	if _, err := cs.Save(ctx, "wiki", openid.ClientInput{Name: "", RedirectURIs: "https://wiki.example.com/cb2"}); !errors.As(err, &invalid) {
		t.Fatalf("no name: %v", err)
	}
	if c, _ := st.OIDCClientByID(ctx, "wiki"); c.Name != "Wiki 2" {
		t.Fatalf("a refused save was stored: %+v", c)
	}
	if _, err := cs.Save(ctx, "nobody", openid.ClientInput{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}

	file := store.OIDCClient{ID: "filed", Name: "Filed", Public: true, RedirectURIs: []string{"https://f.example/cb"}, GrantTypes: []string{openid.GrantCode}, Origin: "file"}
	if err := st.PutOIDCClient(ctx, file); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Form(ctx, "filed"); !errors.Is(err, openid.ErrReadOnly) {
		t.Fatalf("form of a file client: %v", err)
	}
	if _, err := cs.Save(ctx, "filed", openid.ClientInput{Name: "X", RedirectURIs: "https://f.example/cb"}); !errors.Is(err, openid.ErrReadOnly) {
		t.Fatalf("save a file client: %v", err)
	}
	if err := cs.Delete(ctx, "filed"); !errors.Is(err, openid.ErrReadOnly) {
		t.Fatalf("delete a file client: %v", err)
	}
	if err := cs.Delete(ctx, "wiki"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OIDCClientByID(ctx, "wiki"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	list, err := cs.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "filed" {
		t.Fatalf("list: %+v %v", list, err)
	}
	want := []store.EventKind{store.EventAdminClientCreated, store.EventAdminClientChanged, store.EventAdminClientChanged, store.EventAdminClientDeleted}
	if k := eventKinds(t, st); !slices.Equal(k, want) {
		t.Fatalf("events: %v, want %v", k, want)
	}
}
