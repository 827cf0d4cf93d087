package openid

import (
	"context"
	"errors"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The provider reads clients through the admin's Clients: a save or a delete there is seen
// by its next read, not a stale copy.
func TestProviderReadsTheAdminsChanges(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	cs := NewClients(st)
	if _, err := cs.Create(ctx, ClientInput{ID: "wiki", Name: "Wiki", RedirectURIs: "https://wiki.example.com/cb"}); err != nil {
		t.Fatal(err)
	}
	if c, err := cs.cache.byID(ctx, "wiki"); err != nil || c.Name != "Wiki" || !cs.cache.allowsOrigin(ctx, "https://wiki.example.com") {
		t.Fatalf("read: %+v %v", c, err)
	}
	if _, err := cs.Save(ctx, "wiki", ClientInput{Name: "Wiki 2", RedirectURIs: "https://wiki2.example.com/cb"}); err != nil {
		t.Fatal(err)
	}
	if c, err := cs.cache.byID(ctx, "wiki"); err != nil || c.Name != "Wiki 2" || cs.cache.allowsOrigin(ctx, "https://wiki.example.com") {
		t.Fatalf("read after a save: %+v %v", c, err)
	}
	if err := cs.Delete(ctx, "wiki"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.cache.byID(ctx, "wiki"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("read after a delete: %v", err)
	}
}
