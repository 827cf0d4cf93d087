package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// copy-store takes -from, -key, -to (else HOST_DATABASE) and -data; it prints each table's
// rows and that later writes are not copied, and the replica started on its output has
// the users the data folder had.
func TestCopyStoreCommand(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	src, err := st.CreateSource(ctx, "plex", "plex", "Plex")
	if err == nil {
		err = st.SetEnabled(ctx, src.ID, true)
	}
	if err != nil {
		t.Fatal(err)
	}
	done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "7", Username: "olivia"},
		store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: "7"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	user, err := st.User(ctx, done.UserID)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	t.Setenv("HOST_DATABASE", "")
	var out strings.Builder
	if err := copyStoreCommand([]string{"-from", data}, nil, &out); err == nil || !strings.Contains(err.Error(), "-to") {
		t.Fatalf("no target: %v", err)
	}
	if err := copyStoreCommand([]string{"-to", "postgres://x@/y"}, nil, &out); err == nil || !strings.Contains(err.Error(), "-from") {
		t.Fatalf("no source: %v", err)
	}
	srv := postgrestest.Start(t)
	url := srv.DSN("postgres")
	t.Setenv("HOST_DATABASE", url)
	replica := filepath.Join(t.TempDir(), "replica")
	if err := copyStoreCommand([]string{"-from", data, "-data", replica}, nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  users ", "  sessions ", "  events ", "  total ", "after the snapshot are not copied",
		"-data " + replica + " -database"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output does not say %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), url) {
		t.Errorf("the output shows the database URL (it may hold a password):\n%s", out.String())
	}
	rep, err := store.OpenWith(ctx, store.Options{Database: url, Dir: replica})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	if u, err := rep.UserByPublicID(ctx, user.PublicID); err != nil || u.ID != user.ID {
		t.Fatalf("the user in the replica's database: %+v %v", u, err)
	}
	if err := copyStoreCommand([]string{"-from", data, "-to", url}, nil, &out); !errors.Is(err, store.ErrTargetNotEmpty) {
		t.Fatalf("a second copy into the same database: %v", err)
	}
}
